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

describe('parseRoles edges', () => {
  it('reads everyone with space around it, but not a word that merely contains it', () => {
    expect(parseRoles('  everyone  ')).toEqual([]);
    expect(parseRoles('EVERYONE')).toEqual([]);
    expect(parseRoles('not everyone')).toBeUndefined();
    expect(parseRoles('everyone <@&123456789012345678>')).toBeUndefined();
    expect(parseRoles('everyone!')).toBeUndefined();
  });

  it('takes ids of 17 to 20 digits, mentioned or bare, in order and once each', () => {
    expect(parseRoles('12345678901234567')).toEqual(['12345678901234567']);
    expect(parseRoles('<@&12345678901234567890>,12345678901234567')).toEqual(['12345678901234567890', '12345678901234567']);
    expect(parseRoles('1234567890123456')).toBeUndefined();
    expect(parseRoles('123456789012345678901')).toBeUndefined();
    expect(parseRoles('<@&1234>')).toBeUndefined();
  });
});

describe('threadName edges', () => {
  it('drops user, nickname, role and channel mentions', () => {
    expect(threadName('<@!123456789012345678> <@&223456789012345678> <#323456789012345678> hi')).toBe('hi');
  });

  it('keeps the name of a custom or animated emoji', () => {
    expect(threadName('<:smile:123456789> <a:partyparrot:987654321> hello')).toBe('smile partyparrot hello');
  });

  it('folds runs of space and newlines into one space', () => {
    expect(threadName('sort   this\n\n list')).toBe('sort this list');
  });

  it('keeps a name of exactly 100 characters and cuts a longer one to 99 and an ellipsis', () => {
    expect(threadName('y'.repeat(100))).toBe('y'.repeat(100));
    expect(threadName('y'.repeat(101))).toBe(`${'y'.repeat(99)}…`);
  });
});

describe('resolveSettings edges', () => {
  it('skips a layer with no settings and names where each value came from', () => {
    const out = resolveSettings(defaults, [
      { source: 'channel', settings: undefined },
      { source: 'parent channel', settings: { media: false } },
      { source: 'server', settings: { roles: ['111111111111111111'] } },
    ]);
    expect(out).toEqual({
      ...defaults,
      media: false,
      roles: ['111111111111111111'],
      sources: { model: 'default', persona: 'default', threads: 'default', media: 'parent channel', roles: 'server', enabled: 'default' },
    });
  });
});

describe('threadName markdown', () => {
  it('drops links’ brackets, escapes and pings', () => {
    expect(threadName('[docs](https://x.y) \\*not bold\\* ~~gone~~ | > # @here')).toBe('docshttps://x.y not bold gone here');
  });
});

