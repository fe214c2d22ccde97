import { roundSpark } from './pricing.js';
import { spark, type Refusal } from './spendMath.js';

/**
 * Prices as Sogni's durable runs report them: a cost preview to confirm before a paid job
 * starts, and a cost on the finished run. Neither shape is published, so both are read
 * liberally: any key that names Spark or US dollars (`spark`, `costInSpark`, `usd`,
 * `costInUSD`, `estimatedCostUsd`, …), on the object or in its `estimatedCost`,
 * `estimated_cost` or `cost` (see docs/sogni-api.md: tool results, the socket API, and our fake).
 */

/** Sogni's exchange rate: 1 Spark = US$0.005. */
export const USD_PER_SPARK = 0.005;

type Obj = Record<string, unknown>;
// Arrays need no exclusion: their keys are indices, which never name a price.
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null;

function amount(v: unknown): number | undefined {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** Numbers beside a price that are not one. */
const NOT_A_PRICE = /balance|remaining|available|limit|threshold|max|min|rate|per/i;
/** Objects a cost may be nested in, most specific first. */
const NESTED_KEYS = ['estimatedCost', 'estimated_cost', 'cost'];

/** The first amount under a key that `unit` matches, never a balance or a limit. */
function priced(value: Obj, unit: RegExp): number | undefined {
  for (const [key, raw] of Object.entries(value)) {
    if (!unit.test(key) || NOT_A_PRICE.test(key)) continue;
    const n = amount(raw);
    if (n !== undefined) return n;
  }
  return undefined;
}

/** A cost in Spark from an object that states it in Spark or in US dollars, nested or not. Undefined: no price found. */
export function sparkFrom(value: unknown, depth = 0): number | undefined {
  if (!isObj(value) || depth > 3) return undefined;
  // Spark is what is charged: dollars count only where no Spark amount is stated.
  const inSpark = priced(value, /spark/i);
  if (inSpark !== undefined) return roundSpark(inSpark);
  const inUsd = priced(value, /usd/i);
  if (inUsd !== undefined) return roundSpark(inUsd / USD_PER_SPARK);
  for (const key of NESTED_KEYS) {
    const n = sparkFrom(value[key], depth + 1);
    if (n !== undefined) return n;
  }
  return undefined;
}

/** The Spark price of a `costApprovalPreview`. Undefined when it states none the bot can read: such a price is never confirmed. */
export function previewSpark(preview: unknown): number | undefined {
  return sparkFrom(preview);
}

/** What a run reported it cost in all, if it did (its `cost`; an estimate elsewhere on it is not a charge). */
export function reportedRunSpark(run: unknown): number | undefined {
  return isObj(run) ? sparkFrom(run['cost']) : undefined;
}

/**
 * Splits what a run cost over the holds its confirmations reserved, in order: each hold takes
 * up to its own price and the last takes the rest, so the sum is exactly the charge.
 */
export function splitCharge(charge: number, holds: readonly number[]): number[] {
  let left = roundSpark(Math.max(0, charge));
  return holds.map((held, i) => {
    const share = i === holds.length - 1 ? left : Math.min(left, held);
    left = roundSpark(left - share);
    return roundSpark(share);
  });
}

/** "This video would cost about 100 Spark; this server has 9 left today." */
export function describeOverBudget(what: string, price: number, refusal: Refusal, dm = false): string {
  if (refusal.limitSpark <= 0) return `⛔ This ${what} would cost about ${spark(price)}, and paid requests are turned off here.`;
  const left = roundSpark(Math.max(0, refusal.limitSpark - refusal.spent));
  // Stryker disable next-line Regex: spark() ends in its only " Spark", so anchoring it changes nothing
  const leftText = spark(left).replace(/ Spark$/, '');
  const who = refusal.limit === 'userDaily' || dm ? 'you have' : 'this server has';
  const when = refusal.limit === 'monthly' ? 'this month' : 'today';
  return `⛔ This ${what} would cost about ${spark(price)}; ${who} ${leftText} left ${when}.`;
}

/** The word for what a tool makes, for people ("This video would cost…"). */
export function mediaWord(toolName: string | undefined): string {
  // Stryker disable next-line StringLiteral: a missing name reads as "request" whatever stands in for it, unless it names a medium
  const tool = toolName ?? '';
  if (/music|song/.test(tool)) return 'music';
  if (/speech|voice|tts/.test(tool)) return 'speech';
  if (/video|animate/.test(tool)) return 'video';
  if (/image|photo|style|background|angle|upscale|restore|refine|edit/.test(tool)) return 'image';
  return 'request';
}
