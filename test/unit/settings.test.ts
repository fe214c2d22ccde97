import { describe, expect, it } from 'vitest';
import { decideAccess, parseRoles, resolveSettings, threadName } from '../../src/core/settings.js';

const defaults = { model: 'env-model', persona: 'env persona', threads: false, media: true, roles: [], enabled: true };

describe('resolveSettings', () => {
  it('takes each value from the most specific layer that sets it', () => {
    const out = resolveSettings(defaults, [
      { source: 'channel', settings: { model: 'coder', enabled: false } },
      { source: 'server', settings: { model: 'server-model', persona: 'server persona', threads: true } },
    ]);
    expect(out).toMatchObject({ model: 'coder', persona: 'server persona', threads: true, media: true, enabled: false });
    expect(out.sources).toEqual({ model: 'channel', persona: 'server', threads: 'server', media: 'default', roles: 'default', enabled: 'channel' });
  });

  it('keeps a false or empty value set on a channel over a server’s true or list', () => {
    const out = resolveSettings(defaults, [
      { source: 'channel', settings: { threads: false, roles: [] } },
      { source: 'server', settings: { threads: true, roles: ['111111111111111111'] } },
    ]);
    expect(out.threads).toBe(false);
    expect(out.roles).toEqual([]);
  });

  it('falls back to the defaults with no layers', () => {
    expect(resolveSettings(defaults, [])).toMatchObject(defaults);
  });
});

describe('decideAccess', () => {
  it('refuses everyone where the bot is disabled', () => {
    expect(decideAccess({ enabled: false, roles: [] }, ['1'])).toBe('disabled');
  });
  it('needs one of the allowed roles when some are set', () => {
    expect(decideAccess({ enabled: true, roles: ['1', '2'] }, ['3'])).toBe('role');
    expect(decideAccess({ enabled: true, roles: ['1', '2'] }, ['3', '2'])).toBe('allowed');
    expect(decideAccess({ enabled: true, roles: [] }, [])).toBe('allowed');
  });
});

describe('parseRoles', () => {
  it('reads role mentions and ids, and everyone', () => {
    expect(parseRoles('<@&123456789012345678> <@&223456789012345678>')).toEqual(['123456789012345678', '223456789012345678']);
    expect(parseRoles('123456789012345678, <@&123456789012345678>')).toEqual(['123456789012345678']);
    expect(parseRoles('everyone')).toEqual([]);
    expect(parseRoles('@everyone')).toEqual([]);
  });
  it('refuses anything that is not only roles', () => {
    expect(parseRoles('admins')).toBeUndefined();
    expect(parseRoles('<@&123456789012345678> and friends')).toBeUndefined();
    expect(parseRoles('<@123456789012345678>')).toBeUndefined();
    expect(parseRoles('')).toBeUndefined();
  });
});

describe('threadName', () => {
  it('cleans mentions and markdown and keeps it to 100 characters', () => {
    expect(threadName('<@123456789012345678> **how** do I `sort` a list? @everyone')).toBe('how do I sort a list? everyone');
    expect(threadName('x'.repeat(150))).toHaveLength(100);
    expect(threadName('<@123456789012345678>')).toBe('Conversation');
  });
});
