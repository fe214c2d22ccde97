import { describe, expect, it } from 'vitest';
import { emptyState, type LedgerEntry, type SpendState } from '../../src/core/spendMath.js';
import { describeUsage, meter, USAGE_RECENT } from '../../src/core/usage.js';

const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);
const DAY_RESET = `<t:${Date.UTC(2026, 10, 27) / 1000}:R>`;
const MONTH_RESET = `<t:${Date.UTC(2026, 11, 1) / 1000}:R>`;
const at = (minutesAgo: number) => NOW - minutesAgo * 60_000;
const stamp = (minutesAgo: number) => `<t:${at(minutesAgo) / 1000}:f>`;
const paid = (id: string, minutesAgo: number, actual: number | null, over: Partial<LedgerEntry> = {}): LedgerEntry => ({
  id,
  at: at(minutesAgo),
  scope: 'g',
  userId: 'alice',
  kind: 'image',
  model: 'flux',
  estimate: 4,
  actual,
  status: 'settled',
  ...over,
});
const limits = { daily: 1000, monthly: 10_000, userDaily: 250 };

describe('the usage gauge', () => {
  it('is empty when the limit is zero or what is left is below zero, and never more than full', () => {
    expect(meter(5, 0)).toBe('`░░░░░░░░░░`');
    expect(meter(-3, 10)).toBe('`░░░░░░░░░░`');
    expect(meter(25, 10)).toBe('`██████████`');
    expect(meter(0.5, 10)).toBe('`█░░░░░░░░░`');
    expect(meter(0.49, 10)).toBe('`░░░░░░░░░░`');
  });
});

describe('/usage in a server, line by line', () => {
  it('lists the member’s own numbers, allowance and server headroom with their resets, and their last five paid requests', () => {
    const state: SpendState = {
      ...emptyState(NOW),
      daySpent: 300,
      monthSpent: 2000,
      userDay: { alice: 20, bob: 123 },
      userMonth: { alice: 90, bob: 678 },
      reservations: {
        r1: { id: 'r1', userId: 'alice', amount: 4, at: NOW },
        r2: { id: 'r2', userId: 'alice', amount: 1.5, at: NOW },
        r3: { id: 'r3', userId: 'bob', amount: 100, at: NOW },
      },
    };
    const recent = [
      paid('p1', 1, 3.5),
      paid('p2', 2, 0, { status: 'released' }),
      paid('p3', 3, 10, { kind: 'video', model: '' }),
      paid('p4', 4, 2),
      paid('p5', 5, 0.005),
      paid('p6', 6, 0),
      paid('p7', 7, 99),
    ];
    const text = describeUsage({ dm: false, userId: 'alice', state, limits, allowance: { spark: 250, source: 'server' }, recent }, NOW);
    expect(text).toBe(
      [
        '**Your Sogni usage in this server** (1 Spark = US$0.005)',
        'You: **20 Spark** today · **90 Spark** this month',
        `Your daily allowance: \`█████████░\` **230 Spark** left of 250 Spark · resets ${DAY_RESET}`,
        `Server today: \`███████░░░\` **700 Spark** left of 1,000 Spark · resets ${DAY_RESET}`,
        `Server this month: \`████████░░\` **8,000 Spark** left of 10,000 Spark · resets ${MONTH_RESET}`,
        '-# Today includes 5.5 Spark held for your requests running now.',
        '**Your last requests:**',
        `-# ${stamp(1)} · image · \`flux\` · 3.5 Spark`,
        `-# ${stamp(3)} · video · 10 Spark`,
        `-# ${stamp(4)} · image · \`flux\` · 2 Spark`,
        `-# ${stamp(5)} · image · \`flux\` · 0.01 Spark`,
        `-# ${stamp(6)} · image · \`flux\` · 0 Spark`,
      ].join('\n'),
    );
    expect(USAGE_RECENT).toBe(5);
  });

  it('says when there is no limit at all, without a reset', () => {
    const state: SpendState = { ...emptyState(NOW), daySpent: 300, monthSpent: 2000 };
    const text = describeUsage(
      { dm: false, userId: 'alice', state, limits: { daily: null, monthly: null, userDaily: null }, allowance: { spark: null, source: 'server' }, recent: [] },
      NOW,
    );
    expect(text).toBe(
      [
        '**Your Sogni usage in this server** (1 Spark = US$0.005)',
        'You: **0 Spark** today · **0 Spark** this month',
        'Your daily allowance: no per-person limit (the server’s limits still apply)',
        'Server today: no limit',
        'Server this month: no limit',
        '**Your last requests:** none yet',
      ].join('\n'),
    );
  });

  it('says paid requests are off where a limit is 0, and still when it resets', () => {
    const text = describeUsage(
      { dm: false, userId: 'alice', state: emptyState(NOW), limits: { daily: 0, monthly: 0, userDaily: 0 }, allowance: { spark: 0, source: 'server' }, recent: [] },
      NOW,
    );
    expect(text.split('\n').slice(2, 5)).toEqual([
      'Your daily allowance: paid requests are off for you here (0 Spark)',
      `Server today: paid requests are off (limit 0 Spark) · resets ${DAY_RESET}`,
      `Server this month: paid requests are off (limit 0 Spark) · resets ${MONTH_RESET}`,
    ]);
  });

  it('names a role only when the allowance comes from one it can name', () => {
    const view = { dm: false, userId: 'alice', state: emptyState(NOW), limits, recent: [] };
    expect(describeUsage({ ...view, allowance: { spark: 100, source: 'role' } }, NOW).split('\n')[2]).toBe(
      `Your daily allowance: \`██████████\` **100 Spark** left of 100 Spark · resets ${DAY_RESET}`,
    );
    // A server allowance names no role, even one carried along with it.
    expect(describeUsage({ ...view, allowance: { spark: 100, source: 'server', roleId: '7' } }, NOW).split('\n')[2]).toBe(
      `Your daily allowance: \`██████████\` **100 Spark** left of 100 Spark · resets ${DAY_RESET}`,
    );
    expect(describeUsage({ ...view, allowance: { spark: 100, source: 'role', roleId: '7' } }, NOW).split('\n')[2]).toBe(
      `Your daily allowance: \`██████████\` **100 Spark** left of 100 Spark (from your role <@&7>) · resets ${DAY_RESET}`,
    );
  });

  it('shows nothing held when only someone else’s requests are running', () => {
    const state: SpendState = { ...emptyState(NOW), reservations: { r3: { id: 'r3', userId: 'bob', amount: 100, at: NOW } } };
    const text = describeUsage({ dm: false, userId: 'alice', state, limits, allowance: { spark: 250, source: 'server' }, recent: [] }, NOW);
    expect(text).not.toContain('held');
  });
});

describe('/usage in DMs, line by line', () => {
  it('shows the scope’s spend as the member’s own and its daily limit as their allowance', () => {
    const state: SpendState = {
      ...emptyState(NOW),
      daySpent: 0.2,
      monthSpent: 1.1,
      userDay: { alice: 99 },
      userMonth: { alice: 99 },
      reservations: { r1: { id: 'r1', userId: 'alice', amount: 0.1, at: NOW } },
    };
    const text = describeUsage(
      { dm: true, userId: 'alice', state, limits: { daily: 0.4, monthly: 5, userDaily: null }, allowance: { spark: null, source: 'server' }, recent: [paid('p1', 1, 0.004)] },
      NOW,
    );
    expect(text).toBe(
      [
        '**Your Sogni usage in DMs with me** (1 Spark = US$0.005)',
        'You: **0.2 Spark** today · **1.1 Spark** this month',
        `Your DM allowance today: \`█████░░░░░\` **0.2 Spark** left of 0.4 Spark · resets ${DAY_RESET}`,
        '-# Today includes 0.1 Spark held for your requests running now.',
        '**Your last requests:**',
        `-# ${stamp(1)} · image · \`flux\` · <0.01 Spark`,
      ].join('\n'),
    );
  });

  it('says there is no limit when the DM scope has none, with no reset to wait for', () => {
    const text = describeUsage(
      { dm: true, userId: 'alice', state: emptyState(NOW), limits: { daily: null, monthly: null, userDaily: null }, allowance: { spark: null, source: 'server' }, recent: [] },
      NOW,
    );
    expect(text.split('\n')[2]).toBe('Your DM allowance today: no limit');
  });
});

describe('what is left, to the cent', () => {
  it('does not lose a cent to floating point when rounding down', () => {
    const state: SpendState = { ...emptyState(NOW), daySpent: 0.01 };
    const text = describeUsage({ dm: true, userId: 'alice', state, limits: { daily: 0.3, monthly: null, userDaily: null }, allowance: { spark: null, source: 'server' }, recent: [] }, NOW);
    expect(text.split('\n')[2]).toContain('**0.29 Spark** left of 0.3 Spark');
  });

  it('rounds what is left down, never up', () => {
    const state: SpendState = { ...emptyState(NOW), daySpent: 0.006 };
    const text = describeUsage({ dm: true, userId: 'alice', state, limits: { daily: 1, monthly: null, userDaily: null }, allowance: { spark: null, source: 'server' }, recent: [] }, NOW);
    expect(text.split('\n')[2]).toContain('**0.99 Spark** left of 1 Spark');
  });

  it('shows nothing left, not less than nothing, past the limit', () => {
    const state: SpendState = { ...emptyState(NOW), daySpent: 1200 };
    const text = describeUsage({ dm: true, userId: 'alice', state, limits: { daily: 1000, monthly: null, userDaily: null }, allowance: { spark: null, source: 'server' }, recent: [] }, NOW);
    expect(text.split('\n')[2]).toBe(`Your DM allowance today: \`░░░░░░░░░░\` **0 Spark** left of 1,000 Spark · resets ${DAY_RESET}`);
  });
});

