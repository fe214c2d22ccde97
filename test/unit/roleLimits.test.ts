import { describe, expect, it } from 'vitest';
import { memberAllowance } from '../../src/core/roleLimits.js';

const roles = { patron: 500, helper: 100, muted: 0, alsoMuted: 0 };

describe('memberAllowance', () => {
  it('keeps the server per-person limit for a member with no limited role', () => {
    expect(memberAllowance(250, roles, [])).toEqual({ spark: 250, source: 'server' });
    expect(memberAllowance(250, roles, ['someOtherRole'])).toEqual({ spark: 250, source: 'server' });
    expect(memberAllowance(null, roles, ['someOtherRole'])).toEqual({ spark: null, source: 'server' });
  });

  it('gives the largest of the member’s role limits, above or below the server default', () => {
    expect(memberAllowance(250, roles, ['helper', 'patron'])).toEqual({ spark: 500, source: 'role', roleId: 'patron' });
    expect(memberAllowance(250, roles, ['helper'])).toEqual({ spark: 100, source: 'role', roleId: 'helper' });
    // A role limit applies even where the server has no per-person limit at all.
    expect(memberAllowance(null, roles, ['helper'])).toEqual({ spark: 100, source: 'role', roleId: 'helper' });
  });

  it('blocks only when every limited role of the member blocks', () => {
    expect(memberAllowance(250, roles, ['muted'])).toEqual({ spark: 0, source: 'role', roleId: 'muted' });
    expect(memberAllowance(250, roles, ['muted', 'alsoMuted', 'unlimitedRole'])).toMatchObject({ spark: 0, source: 'role' });
    expect(memberAllowance(250, roles, ['muted', 'helper'])).toEqual({ spark: 100, source: 'role', roleId: 'helper' });
  });

  it('does not depend on the order of the member’s roles', () => {
    expect(memberAllowance(250, roles, ['patron', 'muted', 'helper']).spark).toBe(500);
    expect(memberAllowance(250, roles, ['helper', 'muted', 'patron']).spark).toBe(500);
  });

  it('names the first listed of two roles that tie as the source', () => {
    expect(memberAllowance(250, roles, ['muted', 'alsoMuted'])).toEqual({ spark: 0, source: 'role', roleId: 'muted' });
    expect(memberAllowance(250, { ...roles, gold: 500 }, ['gold', 'patron'])).toEqual({ spark: 500, source: 'role', roleId: 'gold' });
  });

  it('ignores a role limit that is not a finite number, and reads one below zero as 0', () => {
    expect(memberAllowance(250, { broken: Number.NaN, infinite: Number.POSITIVE_INFINITY }, ['broken', 'infinite'])).toEqual({ spark: 250, source: 'server' });
    expect(memberAllowance(250, { negative: -5 }, ['negative'])).toEqual({ spark: 0, source: 'role', roleId: 'negative' });
  });
});
