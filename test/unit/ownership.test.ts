import { describe, expect, it } from 'vitest';
import { decideOwnership } from '../../src/core/ownership.js';

const job = { userId: 'alice', scope: 'guild-1' };

describe('decideOwnership', () => {
  it('lets the owner act in the server the job was made in', () => {
    expect(decideOwnership(job, { userId: 'alice', scope: 'guild-1', manager: false }, { managersToo: true })).toBe('allowed');
  });

  it('refuses another member without Manage Server', () => {
    expect(decideOwnership(job, { userId: 'bob', scope: 'guild-1', manager: false }, { managersToo: true })).toBe('not-owner');
  });

  it('lets a server manager act for the owner when managers are allowed', () => {
    expect(decideOwnership(job, { userId: 'mod', scope: 'guild-1', manager: true }, { managersToo: true })).toBe('allowed');
  });

  it('does not let a manager consent for someone else', () => {
    expect(decideOwnership(job, { userId: 'mod', scope: 'guild-1', manager: true }, { managersToo: false })).toBe('not-owner');
  });

  it('refuses a press from another server, even by the owner or a manager there', () => {
    expect(decideOwnership(job, { userId: 'alice', scope: 'guild-2', manager: true }, { managersToo: true })).toBe('other-scope');
  });

  it('refuses a server job pressed from DMs, and a DM job pressed in a server', () => {
    expect(decideOwnership(job, { userId: 'alice', scope: 'dm:alice', manager: false }, { managersToo: true })).toBe('other-scope');
    const dmJob = { userId: 'alice', scope: 'dm:alice' };
    expect(decideOwnership(dmJob, { userId: 'alice', scope: 'guild-1', manager: false }, { managersToo: true })).toBe('other-scope');
    expect(decideOwnership(dmJob, { userId: 'alice', scope: 'dm:alice', manager: false }, { managersToo: true })).toBe('allowed');
  });

  it('never treats a manager flag as power in DMs', () => {
    const dmJob = { userId: 'alice', scope: 'dm:alice' };
    expect(decideOwnership(dmJob, { userId: 'bob', scope: 'dm:alice', manager: true }, { managersToo: true })).toBe('not-owner');
  });
});
