import { resetsAt, spark, type LedgerEntry, type Refusal, type SpendLimits, type SpendState } from './spendMath.js';

/**
 * When the bot tells a server's alert channel about its budget: once per window as spend
 * crosses 80% and 100% of the daily or monthly limit, and when a request is refused for one
 * of those limits, at most once an hour per limit so a busy server is not flooded.
 */

/** The server-wide limits alerts watch (a member's own allowance is theirs, not the server's). */
export type ServerLimit = 'daily' | 'monthly';
export type AlertLevel = 80 | 100;

/** What has been announced already, kept with the server's alert settings. */
export interface AlertMarks {
  /** `daily:80` → the window (day or month key) in which it was announced. */
  crossed: Record<string, string>;
  /** Limit → when its last refusal alert was posted (ms). */
  refused: Record<string, number>;
}

export const REFUSAL_ALERT_EVERY_MS = 3600_000;
const LEVELS: readonly AlertLevel[] = [80, 100];
const SERVER_LIMITS: readonly ServerLimit[] = ['daily', 'monthly'];

export function emptyMarks(): AlertMarks {
  return { crossed: {}, refused: {} };
}

export interface Crossing {
  limit: ServerLimit;
  level: AlertLevel;
  spent: number;
  limitSpark: number;
}

/**
 * The levels `state` has reached that were not announced in this window yet, and the marks
 * with them recorded. A jump straight past 100% announces 100% only (80% is then marked too).
 */
export function dueCrossings(state: SpendState, limits: SpendLimits, marks: AlertMarks): { due: Crossing[]; marks: AlertMarks } {
  const due: Crossing[] = [];
  const crossed = { ...marks.crossed };
  for (const limit of SERVER_LIMITS) {
    const limitSpark = limits[limit];
    // No limit, or paid use turned off on purpose: nothing to warn about.
    if (limitSpark === null || limitSpark <= 0) continue;
    const spent = limit === 'daily' ? state.daySpent : state.monthSpent;
    const window = limit === 'daily' ? state.day : state.month;
    const reached = LEVELS.filter((level) => spent >= (limitSpark * level) / 100);
    const fresh = reached.filter((level) => crossed[`${limit}:${level}`] !== window);
    if (fresh.length === 0) continue;
    for (const level of reached) crossed[`${limit}:${level}`] = window;
    const top = fresh[fresh.length - 1] as AlertLevel;
    due.push({ limit, level: top, spent, limitSpark });
  }
  return { due, marks: { ...marks, crossed } };
}

/** Whether a refusal for `limit` may be announced now; the marks with it recorded if so. */
export function refusalAlertDue(limit: Refusal['limit'], limitSpark: number, marks: AlertMarks, now: number): { due: boolean; marks: AlertMarks } {
  // Per-person allowances are the member's business; a limit of 0 is an admin's choice, not news.
  if (limit === 'userDaily' || limitSpark <= 0) return { due: false, marks };
  const last = marks.refused[limit];
  if (last !== undefined && now - last < REFUSAL_ALERT_EVERY_MS) return { due: false, marks };
  return { due: true, marks: { ...marks, refused: { ...marks.refused, [limit]: now } } };
}

/** Who asked for what, and what it cost: never the prompt. */
export function describeRequest(who: { userId: string; kind: string; model: string }, amount: string): string {
  return `<@${who.userId}> · ${who.kind}${who.model ? ` · \`${who.model}\`` : ''} · ${amount}`;
}

function whenReset(limit: ServerLimit, now: number): string {
  const at = resetsAt(limit, now);
  return `${limit === 'monthly' ? 'on the 1st' : 'at 00:00 UTC'} (<t:${Math.floor(at / 1000)}:R>)`;
}

/** The alert for a limit crossed at `level`, naming the request that crossed it. */
export function describeCrossing(crossing: Crossing, entry: LedgerEntry, now: number): string {
  const used = `${spark(crossing.spent)} of ${spark(crossing.limitSpark)}`;
  const head =
    crossing.level === 100
      ? `🛑 **This server has used its ${crossing.limit} Sogni limit**: ${used}. Paid requests are refused until it resets ${whenReset(crossing.limit, now)}.`
      : `📊 **This server has used 80% of its ${crossing.limit} Sogni limit**: ${used}. It resets ${whenReset(crossing.limit, now)}.`;
  return `${head}\n-# Last request: ${describeRequest(entry, spark(entry.actual ?? entry.estimate))}`;
}

/** The alert for a request refused by a server limit. */
export function describeRefusalAlert(refusal: Refusal, who: { userId: string; kind: string; model: string }, now: number): string {
  const limit = refusal.limit === 'monthly' ? 'monthly' : 'daily';
  return [
    `⛔ **A request was refused by this server's ${limit} Sogni limit**: ${spark(refusal.spent)} of ${spark(refusal.limitSpark)} used. It resets ${whenReset(limit, now)}.`,
    `-# ${describeRequest(who, `about ${spark(refusal.needed)}`)}`,
    `-# Further refusals for this limit in the next hour are not posted.`,
  ].join('\n');
}
