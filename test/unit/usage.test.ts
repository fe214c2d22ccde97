import { describe, expect, it } from 'vitest';
import { emptyState, type LedgerEntry, type SpendState } from '../../src/core/spendMath.js';
import { describeUsage, meter } from '../../src/core/usage.js';

const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);
const entry = (id: string, userId: string, actual: number, status: LedgerEntry['status'] = 'settled'): LedgerEntry => ({
  id,
  at: NOW - 60_000,
  scope: 'g',
  userId,
  kind: 'image',
  model: 'flux',
  estimate: 4,
  actual,
  status,
});
const state: SpendState = {
  ...emptyState(NOW),
  daySpent: 300,
  monthSpent: 2000,
  userDay: { alice: 37.5, bob: 123 },
  userMonth: { alice: 90, bob: 678 },
};
const limits = { daily: 1000, monthly: 10_000, userDaily: 250 };

describe('meter', () => {
  it('fills with what is left', () => {
    expect(meter(1000, 1000)).toBe('`██████████`');
    expect(meter(700, 1000)).toBe('`███████░░░`');
    expect(meter(0, 1000)).toBe('`░░░░░░░░░░`');
  });
});

describe('describeUsage', () => {
  it('shows the member’s own spend and allowance, the server’s headroom and resets, and nobody else', () => {
    const text = describeUsage(
      { dm: false, userId: 'alice', state, limits, allowance: { spark: 250, source: 'server' }, recent: [entry('a2', 'alice', 3.5), entry('a1', 'alice', 0, 'released')] },
      NOW,
    );
    expect(text).toContain('You: **38 Spark** today · **90 Spark** this month');
    expect(text).toMatch(/Your daily allowance: `█████████░` \*\*212\.5 Spark\*\* left of 250 Spark · resets <t:\d+:R>/);
    expect(text).toContain('Server today: `███████░░░` **700 Spark** left of 1,000 Spark');
    expect(text).toContain('Server this month: `████████░░` **8,000 Spark** left of 10,000 Spark');
    expect(text).toContain('image · `flux` · 3.5 Spark');
    // Released requests were not paid, and Bob's numbers never appear.
    expect(text.match(/· image ·/g)).toHaveLength(1);
    expect(text).not.toContain('123');
    expect(text).not.toContain('678');
    expect(text).not.toContain('bob');
  });

  it('names the role an allowance comes from, and says when the member is blocked', () => {
    const patron = describeUsage({ dm: false, userId: 'alice', state, limits, allowance: { spark: 500, source: 'role', roleId: '99' }, recent: [] }, NOW);
    expect(patron).toContain('left of 500 Spark (from your role <@&99>)');
    expect(patron).toContain('**Your last requests:** none yet');
    const blocked = describeUsage({ dm: false, userId: 'alice', state, limits, allowance: { spark: 0, source: 'role', roleId: '13' }, recent: [] }, NOW);
    expect(blocked).toContain('paid requests are off for you here (0 Spark) (from your role <@&13>)');
  });

  it('never rounds what is left up, nor a tiny cost down to nothing', () => {
    const tiny: SpendState = { ...emptyState(NOW), daySpent: 0.0025, monthSpent: 0.0025, userDay: { alice: 0.0025 }, userMonth: { alice: 0.0025 } };
    const text = describeUsage({ dm: false, userId: 'alice', state: tiny, limits, allowance: { spark: 250, source: 'server' }, recent: [entry('t', 'alice', 0.0025)] }, NOW);
    expect(text).toContain('You: **<0.01 Spark** today');
    expect(text).toContain('**249.99 Spark** left of 250 Spark');
    expect(text).toContain('**999.99 Spark** left of 1,000 Spark');
    expect(text).toContain('image · `flux` · <0.01 Spark');
  });

  it('shows a DM allowance in DMs, without server lines', () => {
    const dm: SpendState = { ...emptyState(NOW), daySpent: 0.2, monthSpent: 1.1 };
    const text = describeUsage({ dm: true, userId: 'alice', state: dm, limits: { daily: 0.4, monthly: null, userDaily: null }, allowance: { spark: null, source: 'server' }, recent: [] }, NOW);
    expect(text).toContain('Your DM allowance today: `█████░░░░░` **0.2 Spark** left of 0.4 Spark');
    expect(text).not.toContain('Server');
  });
});
