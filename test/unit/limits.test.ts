import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { defaultLimits, isDmScope, pricesFrom } from '../../src/spend/limits.js';

const config = (env: Record<string, string> = {}) => loadConfig({ DISCORD_TOKEN: 't', SOGNI_API_KEY: 'k', ...env });

describe('spend defaults from the configuration', () => {
  it('reads every price from its own variable', () => {
    const prices = pricesFrom(
      config({ PRICE_CHAT_INPUT_PER_M: '1', PRICE_CHAT_OUTPUT_PER_M: '2', PRICE_IMAGE: '3', PRICE_VIDEO_PER_SECOND: '4', PRICE_AUDIO_PER_SECOND: '5' }),
    );
    expect(prices).toEqual({ chatInputPerMillion: 1, chatOutputPerMillion: 2, image: 3, videoPerSecond: 4, audioPerSecond: 5 });
  });

  it('tells DM scopes from guilds', () => {
    expect(isDmScope('dm:123')).toBe(true);
    expect(isDmScope('123')).toBe(false);
    expect(isDmScope('guild-dm:1')).toBe(false);
  });

  it('gives a guild its daily, monthly and per-person limits', () => {
    const c = config({ DEFAULT_DAILY_SPARK: '100', DEFAULT_MONTHLY_SPARK: '900', DEFAULT_USER_DAILY_SPARK: '30' });
    expect(defaultLimits(c, '123')).toEqual({ daily: 100, monthly: 900, userDaily: 30 });
    expect(defaultLimits(config({ DEFAULT_USER_DAILY_SPARK: 'none' }), '123')).toEqual({ daily: 1000, monthly: 10_000, userDaily: null });
  });

  it('gives a person’s DMs only their own daily limit: the per-person one, else the daily one', () => {
    const c = config({ DEFAULT_DAILY_SPARK: '100', DEFAULT_MONTHLY_SPARK: '900', DEFAULT_USER_DAILY_SPARK: '30' });
    expect(defaultLimits(c, 'dm:42')).toEqual({ daily: 30, monthly: null, userDaily: null });
    expect(defaultLimits(config({ DEFAULT_DAILY_SPARK: '100', DEFAULT_USER_DAILY_SPARK: 'none' }), 'dm:42')).toEqual({ daily: 100, monthly: null, userDaily: null });
    // A per-person limit of 0 turns DMs off; it must not fall back to the daily one.
    expect(defaultLimits(config({ DEFAULT_DAILY_SPARK: '100', DEFAULT_USER_DAILY_SPARK: '0' }), 'dm:42')).toEqual({ daily: 0, monthly: null, userDaily: null });
  });
});
