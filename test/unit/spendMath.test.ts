import { describe, expect, it } from 'vitest';
import {
  applyRelease,
  applyReserve,
  applySettle,
  dayKey,
  describeRefusal,
  describeWarning,
  emptyState,
  findRefusal,
  monthKey,
  resetsAt,
  rollover,
  spark,
  staleReservations,
  RECENT_ENTRIES,
  type LedgerEntry,
  type Reservation,
  type SpendLimits,
  type SpendState,
} from '../../src/core/spendMath.js';

const NOW = Date.UTC(2026, 10, 26, 12, 0, 0); // Thu 26 Nov 2026, 12:00 UTC
const HOUR = 3600_000;
const limits: SpendLimits = { daily: 100, monthly: 1000, userDaily: 60 };

const reservation = (id: string, userId: string, amount: number, at = NOW): Reservation => ({ id, userId, amount, at });
const entry = (id: string, status: LedgerEntry['status'] = 'settled'): LedgerEntry => ({
  id,
  at: NOW,
  scope: 'g',
  userId: 'u1',
  kind: 'chat',
  model: 'm',
  estimate: 1,
  actual: 1,
  status,
});

/** A state with some spend already counted (no reservations). */
function spent(daySpent: number, monthSpent = daySpent, userDay: Record<string, number> = {}, now = NOW): SpendState {
  return { ...emptyState(now), daySpent, monthSpent, userDay, userMonth: { ...userDay } };
}

describe('windows', () => {
  it('names the UTC day and month', () => {
    expect(dayKey(Date.UTC(2026, 0, 9, 23, 59, 59))).toBe('2026-01-09');
    expect(monthKey(Date.UTC(2026, 0, 9, 23, 59, 59))).toBe('2026-01');
  });

  it('resets the daily limits at the next 00:00 UTC and the monthly one on the 1st', () => {
    expect(resetsAt('daily', NOW)).toBe(Date.UTC(2026, 10, 27));
    expect(resetsAt('userDaily', NOW)).toBe(Date.UTC(2026, 10, 27));
    expect(resetsAt('monthly', NOW)).toBe(Date.UTC(2026, 11, 1));
    // Year end: the 1st of January of the next year.
    expect(resetsAt('monthly', Date.UTC(2026, 11, 31, 23, 0))).toBe(Date.UTC(2027, 0, 1));
    expect(resetsAt('daily', Date.UTC(2026, 11, 31, 23, 0))).toBe(Date.UTC(2027, 0, 1));
  });

  it('starts empty in the current window', () => {
    expect(emptyState(NOW)).toEqual({
      day: '2026-11-26',
      month: '2026-11',
      daySpent: 0,
      monthSpent: 0,
      userDay: {},
      userMonth: {},
      reservations: {},
      warned: {},
      recent: [],
    });
  });
});

describe('rollover', () => {
  it('changes nothing within the same day', () => {
    const state = spent(40, 400, { u1: 40 });
    expect(rollover(state, NOW + HOUR)).toBe(state);
  });

  it('starts a new day with only the holds of requests still running, per person', () => {
    let state = spent(40, 400, { u1: 40 });
    state = applyReserve(state, reservation('r1', 'u1', 5));
    state = applyReserve(state, reservation('r2', 'u2', 7.5));
    state = applyReserve(state, reservation('r3', 'u2', 0.25));
    const next = rollover(state, Date.UTC(2026, 10, 27, 0, 0, 1));
    expect(next).toMatchObject({ day: '2026-11-27', month: '2026-11', daySpent: 12.75, monthSpent: 412.75, userDay: { u1: 5, u2: 7.75 } });
    // The month's per-person spend is untouched mid-month.
    expect(next.userMonth).toEqual(state.userMonth);
    expect(next.reservations).toEqual(state.reservations);
  });

  it('starts a new month (and day) on the 1st, carrying running holds into both', () => {
    let state = spent(40, 400, { u1: 40 }, Date.UTC(2026, 10, 30, 20));
    state = applyReserve(state, reservation('r1', 'u1', 5));
    state = applyReserve(state, reservation('r2', 'u2', 3));
    const next = rollover(state, Date.UTC(2026, 11, 1, 0, 0, 1));
    expect(next).toMatchObject({ day: '2026-12-01', month: '2026-12', daySpent: 8, monthSpent: 8 });
    expect(next.userDay).toEqual({ u1: 5, u2: 3 });
    expect(next.userMonth).toEqual({ u1: 5, u2: 3 });
  });

  it('starts a new month even when the stored day was already that day (a state saved across a month change)', () => {
    const state: SpendState = { ...spent(10, 500, { u1: 10 }), day: '2026-12-01', month: '2026-11' };
    const next = rollover(state, Date.UTC(2026, 11, 1, 6));
    expect(next).toMatchObject({ day: '2026-12-01', month: '2026-12', daySpent: 10, monthSpent: 0, userDay: { u1: 10 }, userMonth: {} });
  });
});

describe('findRefusal', () => {
  it('allows what fits every limit, up to exactly the limit', () => {
    expect(findRefusal(spent(0), limits, 'u1', 60, NOW)).toBeNull();
    expect(findRefusal(spent(40, 40, { u1: 0 }), limits, 'u1', 60, NOW)).toBeNull();
    expect(findRefusal(spent(99.999999, 99.999999), limits, 'u2', 0.000001, NOW)).toBeNull();
  });

  it('names the first limit broken, with what is spent, what is needed and when it resets', () => {
    expect(findRefusal(spent(95, 95), limits, 'u1', 6, NOW)).toEqual({
      limit: 'daily',
      limitSpark: 100,
      spent: 95,
      needed: 6,
      resetsAt: Date.UTC(2026, 10, 27),
    });
    expect(findRefusal(spent(10, 995), limits, 'u1', 6, NOW)).toEqual({
      limit: 'monthly',
      limitSpark: 1000,
      spent: 995,
      needed: 6,
      resetsAt: Date.UTC(2026, 11, 1),
    });
    expect(findRefusal(spent(55, 55, { u1: 55 }), limits, 'u1', 6, NOW)).toEqual({
      limit: 'userDaily',
      limitSpark: 60,
      spent: 55,
      needed: 6,
      resetsAt: Date.UTC(2026, 10, 27),
    });
    // Someone else is not held to u1's spend.
    expect(findRefusal(spent(55, 55, { u1: 55 }), limits, 'u2', 6, NOW)).toBeNull();
  });

  it('skips limits that are not set, and refuses everything under a limit of 0', () => {
    const none: SpendLimits = { daily: null, monthly: null, userDaily: null };
    expect(findRefusal(spent(1e6, 1e6, { u1: 1e6 }), none, 'u1', 1e6, NOW)).toBeNull();
    expect(findRefusal(spent(0), { ...none, monthly: 0 }, 'u1', 0, NOW)).toMatchObject({ limit: 'monthly', limitSpark: 0 });
    expect(findRefusal(spent(0), { ...none, userDaily: 0 }, 'u1', 0, NOW)).toMatchObject({ limit: 'userDaily', limitSpark: 0 });
  });
});

describe('holds and settlement', () => {
  it('counts a hold in every window and remembers it', () => {
    const r = reservation('r1', 'u1', 2.5);
    const state = applyReserve(spent(1, 2, { u1: 1 }), r);
    expect(state).toMatchObject({ daySpent: 3.5, monthSpent: 4.5, userDay: { u1: 3.5 }, userMonth: { u1: 3.5 }, reservations: { r1: r } });
  });

  it('replaces the hold by the real cost, keeping other holds, and records the entry first in recent', () => {
    const r1 = reservation('r1', 'u1', 10);
    const r2 = reservation('r2', 'u2', 4);
    const held = applyReserve(applyReserve({ ...emptyState(NOW), recent: [entry('old')] }, r1), r2);
    const { state, warnings } = applySettle(held, r1, 3, limits, entry('r1'));
    expect(state).toMatchObject({ daySpent: 7, monthSpent: 7, userDay: { u1: 3, u2: 4 }, userMonth: { u1: 3, u2: 4 } });
    expect(Object.keys(state.reservations)).toEqual(['r2']);
    expect(state.recent.map((e) => e.id)).toEqual(['r1', 'old']);
    expect(warnings).toEqual([]);
  });

  it('keeps only the latest finished entries', () => {
    let state = emptyState(NOW);
    for (let i = 0; i < RECENT_ENTRIES + 3; i++) {
      const r = reservation(`r${i}`, 'u1', 0);
      state = applyRelease(applyReserve(state, r), r, entry(`r${i}`, 'released'));
    }
    expect(state.recent).toHaveLength(RECENT_ENTRIES);
    expect(state.recent[0]?.id).toBe(`r${RECENT_ENTRIES + 2}`);
  });

  it('never counts below zero, whatever a settlement or release says', () => {
    const r = reservation('r1', 'u1', 5);
    const state = applyRelease(applyReserve(spent(0), r), { ...r, amount: 50 }, entry('r1', 'released'));
    expect(state).toMatchObject({ daySpent: 0, monthSpent: 0, userDay: { u1: 0 }, userMonth: { u1: 0 }, reservations: {} });
    expect(state.recent.map((e) => e.status)).toEqual(['released']);
  });

  it('warns once per window as each limit passes 80%, at exactly 80% too', () => {
    const settleAt = (state: SpendState, userId: string, amount: number) => {
      const r = reservation(`r${amount}-${userId}`, userId, amount);
      return applySettle(applyReserve(state, r), r, amount, limits, entry(r.id));
    };
    let result = settleAt(emptyState(NOW), 'u1', 47.9);
    expect(result.warnings).toEqual([]);
    result = settleAt(result.state, 'u1', 0.1);
    // 48 of u1's 60 is exactly 80%.
    expect(result.warnings).toEqual(['userDaily']);
    result = settleAt(result.state, 'u2', 32);
    expect(result.warnings).toEqual(['daily']);
    result = settleAt(result.state, 'u2', 1);
    expect(result.warnings).toEqual([]);
    // Another person's own per-person warning is theirs alone.
    result = settleAt(result.state, 'u2', 15);
    expect(result.warnings).toEqual(['userDaily']);
    expect(result.state.warned).toEqual({ 'userDaily:u1': '2026-11-26', daily: '2026-11-26', 'userDaily:u2': '2026-11-26' });
    // The monthly warning comes with the monthly window.
    const month = settleAt({ ...result.state, monthSpent: 799 }, 'u3', 1);
    expect(month.warnings).toEqual(['monthly']);
    expect(month.state.warned['monthly']).toBe('2026-11');
  });

  it('warns again in the next window, never for a limit that is off or 0', () => {
    const r = reservation('r1', 'u1', 90);
    const warnedYesterday: SpendState = { ...emptyState(NOW), warned: { daily: '2026-11-25' } };
    expect(applySettle(applyReserve(warnedYesterday, r), r, 90, limits, entry('r1')).warnings).toEqual(['daily', 'userDaily']);
    const off: SpendLimits = { daily: null, monthly: 0, userDaily: null };
    expect(applySettle(applyReserve(emptyState(NOW), r), r, 90, off, entry('r1')).warnings).toEqual([]);
  });
});

describe('staleReservations', () => {
  it('finds holds older than the age given, not those exactly that old', () => {
    let state = emptyState(NOW);
    state = applyReserve(state, reservation('old', 'u1', 1, NOW - 31 * 60_000));
    state = applyReserve(state, reservation('edge', 'u1', 1, NOW - 30 * 60_000));
    state = applyReserve(state, reservation('new', 'u1', 1, NOW));
    expect(staleReservations(state, NOW, 30 * 60_000).map((r) => r.id)).toEqual(['old']);
  });
});

describe('the lines people read', () => {
  it('writes amounts with two decimals under 10 Spark and thousands separators above', () => {
    expect(spark(0)).toBe('0 Spark');
    expect(spark(2.5)).toBe('2.5 Spark');
    expect(spark(9.999)).toBe('10 Spark');
    expect(spark(0.125)).toBe('0.13 Spark');
    expect(spark(10.4)).toBe('10 Spark');
    expect(spark(12345.6)).toBe('12,346 Spark');
  });

  it('explains a refusal: whose limit, how much is used, when it resets', () => {
    const refusal = findRefusal(spent(95, 95), limits, 'u1', 6, NOW);
    if (!refusal) throw new Error('expected a refusal');
    expect(describeRefusal(refusal, NOW)).toBe(
      "⛔ That would go over this server's daily limit: 95 Spark of 100 Spark used, and this needs about 6 Spark. It resets at 00:00 UTC (in 12 h 0 min).",
    );
    expect(describeRefusal(refusal, NOW, true)).toContain('over your daily limit');
    const monthly = findRefusal(spent(0, 990), limits, 'u1', 11, NOW);
    if (!monthly) throw new Error('expected a refusal');
    expect(describeRefusal(monthly, NOW)).toBe(
      "⛔ That would go over this server's monthly limit: 990 Spark of 1,000 Spark used, and this needs about 11 Spark. It resets on the 1st (in 5 days).",
    );
  });

  it('says how long until the reset in minutes, hours or days', () => {
    const refusalAt = (resets: number) => ({ limit: 'daily' as const, limitSpark: 1, spent: 1, needed: 1, resetsAt: resets });
    const when = (ms: number) => /\(in ([^)]*)\)/.exec(describeRefusal(refusalAt(NOW + ms), NOW))?.[1];
    expect(when(1)).toBe('1 min');
    expect(when(0)).toBe('1 min');
    expect(when(59 * 60_000)).toBe('59 min');
    expect(when(59 * 60_000 + 1)).toBe('1 h 0 min');
    expect(when(61 * 60_000)).toBe('1 h 1 min');
    expect(when(47 * HOUR + 59 * 60_000)).toBe('47 h 59 min');
    expect(when(48 * HOUR)).toBe('2 days');
    expect(when(83 * HOUR)).toBe('3 days');
  });

  it('says paid use is off when a limit is 0, naming whose', () => {
    const off = (limit: 'daily' | 'monthly' | 'userDaily', dm = false) =>
      describeRefusal({ limit, limitSpark: 0, spent: 0, needed: 1, resetsAt: NOW + HOUR }, NOW, dm);
    expect(off('daily')).toBe("⛔ Paid requests are turned off here: this server's daily limit is 0 Spark.");
    expect(off('monthly')).toBe("⛔ Paid requests are turned off here: this server's monthly limit is 0 Spark.");
    expect(off('userDaily')).toBe('⛔ Paid requests are turned off here: your per-person daily limit is 0 Spark.');
    expect(off('daily', true)).toBe('⛔ Paid requests are turned off here: your daily limit is 0 Spark.');
  });

  it('warns with the spend of the limit that passed 80%', () => {
    const state = spent(85, 850, { u1: 50 });
    expect(describeWarning('daily', state, limits, 'u1')).toBe("-# 📊 Heads up: this server's daily spend is past 80% (85 Spark of 100 Spark).");
    expect(describeWarning('monthly', state, limits, 'u1')).toBe("-# 📊 Heads up: this server's monthly spend is past 80% (850 Spark of 1,000 Spark).");
    expect(describeWarning('userDaily', state, limits, 'u1')).toBe('-# 📊 Heads up: your per-person daily spend is past 80% (50 Spark of 60 Spark).');
    expect(describeWarning('userDaily', state, { ...limits, userDaily: null }, 'u2')).toBe(
      '-# 📊 Heads up: your per-person daily spend is past 80% (0 Spark of 0 Spark).',
    );
  });
});
