import { roundSpark, type SpendKind } from './pricing.js';

/** Spark limits of one scope (a guild, or one user's DMs). null: no such limit. */
export interface SpendLimits {
  daily: number | null;
  monthly: number | null;
  userDaily: number | null;
}

export type LimitName = keyof SpendLimits;

export type EntryStatus = 'reserved' | 'settled' | 'released' | 'expired';

/** One paid request, as the ledger keeps it. */
export interface LedgerEntry {
  id: string;
  at: number;
  scope: string;
  userId: string;
  kind: SpendKind;
  model: string;
  estimate: number;
  actual: number | null;
  status: EntryStatus;
}

/** An estimate held against the limits while its request runs. */
export interface Reservation {
  id: string;
  userId: string;
  amount: number;
  at: number;
}

/**
 * A scope's spend in the current UTC day and month. Spent amounts include outstanding
 * reservations, so concurrent requests see each other's estimates.
 */
export interface SpendState {
  day: string;
  month: string;
  daySpent: number;
  monthSpent: number;
  userDay: Record<string, number>;
  userMonth: Record<string, number>;
  reservations: Record<string, Reservation>;
  /** Limit key → the window in which its 80% warning was given. */
  warned: Record<string, string>;
  /** The latest finished entries, newest first. */
  recent: LedgerEntry[];
}

export const RECENT_ENTRIES = 10;
export const WARN_FRACTION = 0.8;

export function dayKey(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

export function monthKey(now: number): string {
  return new Date(now).toISOString().slice(0, 7);
}

/** When a limit's window next starts again: 00:00 UTC, or the 1st of next month. */
export function resetsAt(limit: LimitName, now: number): number {
  const d = new Date(now);
  if (limit === 'monthly') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
}

export function emptyState(now: number): SpendState {
  return { day: dayKey(now), month: monthKey(now), daySpent: 0, monthSpent: 0, userDay: {}, userMonth: {}, reservations: {}, warned: {}, recent: [] };
}

/** What the requests still running hold, all of them together. */
function outstanding(state: SpendState): number {
  let sum = 0;
  for (const r of Object.values(state.reservations)) sum += r.amount;
  return roundSpark(sum);
}

/**
 * Starts a new day or month when the clock has passed into one. Requests still running
 * carry their reservations into the new window, so it cannot be overspent by them.
 */
export function rollover(state: SpendState, now: number): SpendState {
  const day = dayKey(now);
  const month = monthKey(now);
  if (state.day === day && state.month === month) return state;
  const next: SpendState = { ...state, day, month };
  if (state.day !== day) {
    next.daySpent = outstanding(state);
    next.userDay = {};
    for (const r of Object.values(state.reservations)) next.userDay[r.userId] = roundSpark((next.userDay[r.userId] ?? 0) + r.amount);
  }
  if (state.month !== month) {
    next.monthSpent = outstanding(state);
    next.userMonth = {};
    for (const r of Object.values(state.reservations)) next.userMonth[r.userId] = roundSpark((next.userMonth[r.userId] ?? 0) + r.amount);
  }
  return next;
}

export interface Refusal {
  limit: LimitName;
  limitSpark: number;
  spent: number;
  needed: number;
  resetsAt: number;
}

/** The first limit that `amount` more would break, or null. */
export function findRefusal(state: SpendState, limits: SpendLimits, userId: string, amount: number, now: number): Refusal | null {
  const checks: [LimitName, number][] = [
    ['daily', state.daySpent],
    ['monthly', state.monthSpent],
    ['userDaily', state.userDay[userId] ?? 0],
  ];
  for (const [name, spent] of checks) {
    const limit = limits[name];
    if (limit === null) continue;
    if (limit <= 0 || roundSpark(spent + amount) > limit) {
      return { limit: name, limitSpark: limit, spent, needed: amount, resetsAt: resetsAt(name, now) };
    }
  }
  return null;
}

function add(state: SpendState, userId: string, delta: number): SpendState {
  const clamp = (v: number) => Math.max(0, roundSpark(v));
  return {
    ...state,
    daySpent: clamp(state.daySpent + delta),
    monthSpent: clamp(state.monthSpent + delta),
    userDay: { ...state.userDay, [userId]: clamp((state.userDay[userId] ?? 0) + delta) },
    userMonth: { ...state.userMonth, [userId]: clamp((state.userMonth[userId] ?? 0) + delta) },
  };
}

export function applyReserve(state: SpendState, reservation: Reservation): SpendState {
  const next = add(state, reservation.userId, reservation.amount);
  return { ...next, reservations: { ...next.reservations, [reservation.id]: reservation } };
}

function withoutReservation(state: SpendState, id: string): SpendState {
  const { [id]: _gone, ...reservations } = state.reservations;
  return { ...state, reservations };
}

function remember(state: SpendState, entry: LedgerEntry): SpendState {
  return { ...state, recent: [entry, ...state.recent].slice(0, RECENT_ENTRIES) };
}

/** Replaces a reservation by the real cost, and says which limits just passed 80% (once per window). */
export function applySettle(
  state: SpendState,
  reservation: Reservation,
  actual: number,
  limits: SpendLimits,
  entry: LedgerEntry,
): { state: SpendState; warnings: LimitName[] } {
  let next = withoutReservation(state, reservation.id);
  next = add(next, reservation.userId, roundSpark(actual - reservation.amount));
  next = remember(next, entry);
  const warnings: LimitName[] = [];
  const checks: [LimitName, string, number, string][] = [
    ['daily', 'daily', next.daySpent, next.day],
    ['monthly', 'monthly', next.monthSpent, next.month],
    ['userDaily', `userDaily:${reservation.userId}`, next.userDay[reservation.userId] ?? 0, next.day],
  ];
  for (const [name, key, spent, window] of checks) {
    const limit = limits[name];
    if (limit === null || limit <= 0) continue;
    if (spent >= limit * WARN_FRACTION && next.warned[key] !== window) {
      next = { ...next, warned: { ...next.warned, [key]: window } };
      warnings.push(name);
    }
  }
  return { state: next, warnings };
}

export function applyRelease(state: SpendState, reservation: Reservation, entry: LedgerEntry): SpendState {
  let next = withoutReservation(state, reservation.id);
  next = add(next, reservation.userId, -reservation.amount);
  return remember(next, entry);
}

/** Reservations older than maxAgeMs: their request died with a crashed process. */
export function staleReservations(state: SpendState, now: number, maxAgeMs: number): Reservation[] {
  return Object.values(state.reservations).filter((r) => now - r.at > maxAgeMs);
}

/** An amount for people: "2.5 Spark", "1,000 Spark". */
export function spark(n: number): string {
  // Stryker disable next-line EqualityOperator: 10 reads "10 Spark" with two decimals or none
  return `${Number(n.toFixed(n < 10 ? 2 : 0)).toLocaleString('en-US')} Spark`;
}

function inTime(ms: number): string {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.round(hours / 24)} days`;
}

const LIMIT_WORDS: Record<LimitName, string> = { daily: 'daily', monthly: 'monthly', userDaily: 'per-person daily' };

/** One line explaining a refusal: which limit, how much is used, when it resets. */
export function describeRefusal(refusal: Refusal, now: number, dm = false): string {
  const when = `It resets ${refusal.limit === 'monthly' ? 'on the 1st' : 'at 00:00 UTC'} (in ${inTime(refusal.resetsAt - now)}).`;
  const whose = refusal.limit === 'userDaily' || dm ? 'your' : "this server's";
  if (refusal.limitSpark <= 0) {
    return `⛔ Paid requests are turned off here: ${whose} ${LIMIT_WORDS[refusal.limit]} limit is 0 Spark.`;
  }
  return `⛔ That would go over ${whose} ${LIMIT_WORDS[refusal.limit]} limit: ${spark(refusal.spent)} of ${spark(refusal.limitSpark)} used, and this needs about ${spark(refusal.needed)}. ${when}`;
}

/** The line added to a reply that pushed spend past 80% of a limit. */
export function describeWarning(limit: LimitName, state: SpendState, limits: SpendLimits, userId: string): string {
  const spent = limit === 'daily' ? state.daySpent : limit === 'monthly' ? state.monthSpent : (state.userDay[userId] ?? 0);
  const whose = limit === 'userDaily' ? 'your' : "this server's";
  return `-# 📊 Heads up: ${whose} ${LIMIT_WORDS[limit]} spend is past 80% (${spark(spent)} of ${spark(limits[limit] ?? 0)}).`;
}
