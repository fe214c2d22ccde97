import { roundSpark } from './pricing.js';
import { spark, type Refusal } from './spendMath.js';

/**
 * Prices as Sogni's durable runs report them: a cost preview to confirm before a paid job
 * starts, and a cost on the finished run. Neither shape is published, so both are read
 * liberally (snake_case or camelCase, Spark directly or US dollars).
 */

/** Sogni's exchange rate: 1 Spark = US$0.005. */
export const USD_PER_SPARK = 0.005;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function amount(v: unknown): number | undefined {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : undefined;
}

const SPARK_KEYS = [
  'spark', 'Spark', 'sparks', 'costInSpark', 'cost_in_spark', 'estimatedSpark', 'estimated_spark', 'totalSpark', 'total_spark',
  'sparkCost', 'spark_cost', 'costSpark', 'cost_spark', 'amountSpark', 'amount_spark',
];
const USD_KEYS = [
  'usd', 'USD', 'costInUSD', 'costInUsd', 'cost_in_usd', 'estimatedUsd', 'estimatedUSD', 'estimated_usd', 'totalUsd', 'totalUSD', 'total_usd',
  'costUsd', 'costUSD', 'cost_usd', 'amountUsd', 'amount_usd', 'priceUsd', 'price_usd',
];
/** Objects a cost may be nested in, most specific first. */
const NESTED_KEYS = [
  'estimatedCost', 'estimated_cost', 'totalCost', 'total_cost', 'finalCost', 'final_cost', 'actualCost', 'actual_cost',
  'cost', 'price', 'estimate', 'total', 'billing', 'charge', 'charged',
];

/** A cost in Spark from an object that states it in Spark or in US dollars, nested or not. Undefined: no price found. */
export function sparkFrom(value: unknown, depth = 0): number | undefined {
  if (!isObj(value) || depth > 3) return undefined;
  for (const key of SPARK_KEYS) {
    const n = amount(value[key]);
    if (n !== undefined) return roundSpark(n);
  }
  for (const key of USD_KEYS) {
    const n = amount(value[key]);
    if (n !== undefined) return roundSpark(n / USD_PER_SPARK);
  }
  for (const key of NESTED_KEYS) {
    const n = sparkFrom(value[key], depth + 1);
    if (n !== undefined) return n;
  }
  // Other spellings (`estimatedCostUsd`, `sparkEstimate`, …), but never a balance or a limit.
  for (const [key, raw] of Object.entries(value)) {
    if (NOT_A_PRICE.test(key)) continue;
    const n = amount(raw);
    if (n === undefined) continue;
    if (/spark/i.test(key)) return roundSpark(n);
    if (/usd|dollar/i.test(key)) return roundSpark(n / USD_PER_SPARK);
  }
  return undefined;
}

/** Numbers beside a price that are not one. */
const NOT_A_PRICE = /balance|remaining|available|limit|threshold|max|min|rate|per/i;

/** The Spark price of a `costApprovalPreview`. Undefined when it states none the bot can read: such a price is never confirmed. */
export function previewSpark(preview: unknown): number | undefined {
  return sparkFrom(preview);
}

/** What a run reported it cost in all, if it did (`cost`, `billing`, `totalCost`, … on the run record). */
export function reportedRunSpark(run: unknown): number | undefined {
  if (!isObj(run)) return undefined;
  for (const key of NESTED_KEYS) {
    const n = sparkFrom(run[key]);
    if (n !== undefined) return n;
  }
  const flat = amount(run['costSpark'] ?? run['cost_spark'] ?? run['totalSpark'] ?? run['total_spark']);
  return flat === undefined ? undefined : roundSpark(flat);
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
  const leftText = spark(left).replace(/ Spark$/, '');
  const who = refusal.limit === 'userDaily' || dm ? 'you have' : 'this server has';
  const when = refusal.limit === 'monthly' ? 'this month' : 'today';
  return `⛔ This ${what} would cost about ${spark(price)}; ${who} ${leftText} left ${when}.`;
}

/** The word for what a tool makes, for people ("This video would cost…"). */
export function mediaWord(toolName: string | undefined): string {
  const tool = toolName ?? '';
  if (/music|song/.test(tool)) return 'music';
  if (/speech|voice|tts/.test(tool)) return 'speech';
  if (/video|animate/.test(tool)) return 'video';
  if (/image|photo|style|background|angle|upscale|restore|refine|edit/.test(tool)) return 'image';
  return 'request';
}
