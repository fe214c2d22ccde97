import type { Config } from '../config.js';
import type { PriceTable } from '../core/pricing.js';
import type { SpendLimits } from '../core/spendMath.js';

export function pricesFrom(config: Config): PriceTable {
  return {
    chatInputPerMillion: config.PRICE_CHAT_INPUT_PER_M,
    chatOutputPerMillion: config.PRICE_CHAT_OUTPUT_PER_M,
    image: config.PRICE_IMAGE,
    videoPerSecond: config.PRICE_VIDEO_PER_SECOND,
    audioPerSecond: config.PRICE_AUDIO_PER_SECOND,
  };
}

export function isDmScope(scope: string): boolean {
  return scope.startsWith('dm:');
}

/**
 * The configured limits of a scope. A guild has a daily, a monthly and a per-person daily
 * limit; a user's DMs have only that person's daily limit.
 */
export function defaultLimits(config: Config, scope: string): SpendLimits {
  const userDaily = config.DEFAULT_USER_DAILY_SPARK === 'none' ? null : config.DEFAULT_USER_DAILY_SPARK;
  if (isDmScope(scope)) return { daily: userDaily ?? config.DEFAULT_DAILY_SPARK, monthly: null, userDaily: null };
  return { daily: config.DEFAULT_DAILY_SPARK, monthly: config.DEFAULT_MONTHLY_SPARK, userDaily };
}
