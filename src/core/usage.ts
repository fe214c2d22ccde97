import type { Allowance } from './roleLimits.js';
import { resetsAt, spark, type LedgerEntry, type SpendLimits, type SpendState } from './spendMath.js';

/** What `/usage` shows a member: their own numbers and the server's headroom, never anyone else's. */
export interface UsageView {
  /** The member's own DMs (their DM allowance is the scope's daily limit). */
  dm: boolean;
  userId: string;
  /** The scope's spend, rolled over to now. */
  state: SpendState;
  limits: SpendLimits;
  /** The member's per-person daily limit (in DMs: unused, the scope's daily limit is theirs). */
  allowance: Allowance;
  /** The member's latest paid requests, newest first. */
  recent: readonly LedgerEntry[];
}

/** How many of the member's paid requests are listed. */
export const USAGE_RECENT = 5;
const CELLS = 10;

/** A 10-cell gauge of what is left: full when nothing is used, empty when the limit is reached. */
export function meter(left: number, limit: number): string {
  const fraction = limit <= 0 ? 0 : Math.min(1, Math.max(0, left / limit));
  const cells = Math.round(fraction * CELLS);
  return `\`${'█'.repeat(cells)}${'░'.repeat(CELLS - cells)}\``;
}

/** An amount spent: spark(), but a tiny cost is not shown as nothing. */
function spent(n: number): string {
  return n > 0 && n < 0.005 ? '<0.01 Spark' : spark(n);
}

/** What is left, rounded down to the cent of a Spark, so it never promises more than there is. */
function left(n: number): string {
  const cents = Math.floor(Math.max(0, n) * 100 + 1e-6) / 100;
  // Whole cents print with two decimals at most, so the default of three never shows a third.
  return `${cents.toLocaleString('en-US')} Spark`;
}

/** "`███░░` **7 Spark** left of 10 Spark", or what stands in for a gauge when there is no limit. */
function headroom(used: number, limit: number | null): string {
  if (limit === null) return 'no limit';
  if (limit <= 0) return 'paid requests are off (limit 0 Spark)';
  const rest = Math.max(0, limit - used);
  return `${meter(rest, limit)} **${left(rest)}** left of ${spark(limit)}`;
}

function resets(limit: 'daily' | 'monthly', now: number): string {
  return `resets <t:${Math.floor(resetsAt(limit, now) / 1000)}:R>`;
}

function whose(allowance: Allowance): string {
  if (allowance.source === 'role' && allowance.roleId) return ` (from your role <@&${allowance.roleId}>)`;
  return '';
}

/** The member's own spend, allowance and headroom, and their last paid requests. */
export function describeUsage(view: UsageView, now: number): string {
  const { state, limits, userId } = view;
  const lines: string[] = [];
  const today = view.dm ? state.daySpent : (state.userDay[userId] ?? 0);
  const month = view.dm ? state.monthSpent : (state.userMonth[userId] ?? 0);
  if (view.dm) {
    lines.push('**Your Sogni usage in DMs with me** (1 Spark = US$0.005)');
    lines.push(`You: **${spent(today)}** today · **${spent(month)}** this month`);
    lines.push(`Your DM allowance today: ${headroom(today, limits.daily)}${limits.daily === null ? '' : ` · ${resets('daily', now)}`}`);
  } else {
    lines.push('**Your Sogni usage in this server** (1 Spark = US$0.005)');
    lines.push(`You: **${spent(today)}** today · **${spent(month)}** this month`);
    const allowance = view.allowance.spark;
    const mine =
      allowance === null
        ? 'no per-person limit (the server’s limits still apply)'
        : allowance <= 0
          ? `paid requests are off for you here (0 Spark)${whose(view.allowance)}`
          : `${headroom(today, allowance)}${whose(view.allowance)} · ${resets('daily', now)}`;
    lines.push(`Your daily allowance: ${mine}`);
    lines.push(`Server today: ${headroom(state.daySpent, limits.daily)}${limits.daily === null ? '' : ` · ${resets('daily', now)}`}`);
    lines.push(`Server this month: ${headroom(state.monthSpent, limits.monthly)}${limits.monthly === null ? '' : ` · ${resets('monthly', now)}`}`);
  }
  const held = Object.values(state.reservations)
    .filter((r) => r.userId === userId)
    .reduce((sum, r) => sum + r.amount, 0);
  if (held > 0) lines.push(`-# Today includes ${spark(held)} held for your requests running now.`);
  const paid = view.recent.filter((e) => e.status === 'settled').slice(0, USAGE_RECENT);
  if (paid.length === 0) {
    lines.push('**Your last requests:** none yet');
  } else {
    lines.push('**Your last requests:**');
    for (const e of paid) lines.push(`-# <t:${Math.floor(e.at / 1000)}:f> · ${e.kind}${e.model ? ` · \`${e.model}\`` : ''} · ${spent(e.actual ?? 0)}`);
  }
  return lines.join('\n');
}
