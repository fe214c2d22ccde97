import { describe, expect, it } from 'vitest';
import { describeOverBudget, mediaWord, previewSpark, reportedRunSpark, sparkFrom, splitCharge, USD_PER_SPARK } from '../../src/core/runCost.js';
import type { Refusal } from '../../src/core/spendMath.js';

describe('the cost shapes Sogni documents (docs/sogni-api.md) and the fake sends', () => {
  it.each([
    ['a tool result’s estimated_cost {spark, usd}', { ok: true, tool: 'generate_image', estimated_cost: { spark: 4, usd: 0.02 } }, 4],
    ['the socket API’s cost, numeric strings, dollars listed first', { cost: { costInUSD: '0.02', costInToken: '1.5', costInSogni: '2', costInSpark: '3', inputTokens: '10', outputTokens: '20' } }, 3],
    ['the socket API’s cost with only dollars', { cost: { costInUSD: '0.02', costInToken: '1.5' } }, 4],
    ['the fake’s preview with estimatedCost {spark, usd}', { previewId: 'p', toolCallId: 'c1', toolName: 'generate_video', estimatedCost: { spark: 50, usd: 0.25 }, expiresAt: '2026-01-01T00:00:00.000Z' }, 50],
    ['the fake’s preview with estimatedCostUsd', { previewId: 'p', toolCallId: 'c1', toolName: 'generate_video', estimatedCostUsd: 0.25, currency: 'USD' }, 50],
  ])('reads %s', (_name, shape, expected) => {
    expect(previewSpark(shape)).toBe(expected);
  });

  it('reads the cost the fake’s finished run reports', () => {
    expect(reportedRunSpark({ runId: 'r1', status: 'completed', artifacts: [], cost: { spark: 54, usd: 0.27 } })).toBe(54);
    expect(reportedRunSpark({ runId: 'r1', status: 'completed', cost: { costInUSD: '0.27' } })).toBe(54);
  });
});

describe('which number is the price', () => {
  it('prefers Spark over dollars wherever each is listed', () => {
    expect(sparkFrom({ usd: 1, spark: 5 })).toBe(5);
    expect(sparkFrom({ costInUSD: '0.5', costInSpark: '7' })).toBe(7);
  });

  it('converts dollars at 1 Spark = US$0.005', () => {
    expect(USD_PER_SPARK).toBe(0.005);
    expect(sparkFrom({ usd: 1 })).toBe(200);
    expect(sparkFrom({ usd: 0.0001 })).toBe(0.02);
  });

  it('reads a price on the object before one nested in it', () => {
    expect(sparkFrom({ spark: 2, estimatedCost: { spark: 9 } })).toBe(2);
    expect(sparkFrom({ usd: 0.01, cost: { spark: 9 } })).toBe(2);
  });

  it('looks in estimatedCost, then estimated_cost, then cost', () => {
    expect(sparkFrom({ cost: { spark: 3 }, estimated_cost: { spark: 2 }, estimatedCost: { spark: 1 } })).toBe(1);
    expect(sparkFrom({ cost: { spark: 3 }, estimated_cost: { spark: 2 } })).toBe(2);
    expect(sparkFrom({ estimated_cost: {}, cost: { spark: 3 } })).toBe(3);
  });

  it('never takes a balance, a limit, a rate or a maximum for a price, even in Spark', () => {
    for (const key of ['sparkBalance', 'remainingSpark', 'availableSpark', 'sparkLimit', 'thresholdUsd', 'maxSpark', 'minUsd', 'sparkRate', 'sparkPerSecond']) {
      expect(sparkFrom({ [key]: 5 }), key).toBeUndefined();
    }
    expect(sparkFrom({ sparkBalance: 500, spark: 5 })).toBe(5);
    expect(sparkFrom({ maxSpark: 500, usd: 0.01 })).toBe(2);
  });

  it('skips a key that names Spark but holds no amount, and reads the next one', () => {
    expect(sparkFrom({ tokenSpark: 'spark', spark: 6 })).toBe(6);
    expect(sparkFrom({ spark: null, costInSpark: '4' })).toBe(4);
    expect(sparkFrom({ usdNote: 'n/a', usd: 0.02 })).toBe(4);
  });

  it('ignores a number under a key that names neither Spark nor dollars', () => {
    expect(sparkFrom({ amount: 5, total: 7, costInToken: '3' })).toBeUndefined();
  });
});

describe('what counts as an amount', () => {
  it('takes numbers and numeric strings of zero or more', () => {
    expect(sparkFrom({ spark: 0 })).toBe(0);
    expect(sparkFrom({ spark: ' 2.5 ' })).toBe(2.5);
  });

  it('takes no null, empty or blank string, boolean, negative or non-finite amount (and falls back to dollars)', () => {
    for (const bad of [null, '', '   ', true, -1, '-1', 'abc', Number.POSITIVE_INFINITY, 'Infinity', {}, []]) {
      expect(sparkFrom({ spark: bad, usd: 0.5 }), JSON.stringify(bad)).toBe(100);
    }
  });
});

describe('where a price can be', () => {
  it('reads none from something that is not an object', () => {
    for (const v of [null, undefined, 5, '5', true]) expect(sparkFrom(v)).toBeUndefined();
    expect(sparkFrom([5])).toBeUndefined();
    expect(reportedRunSpark(null)).toBeUndefined();
    expect(reportedRunSpark('cost')).toBeUndefined();
  });

  it('reads a price nested up to three objects deep, and no deeper', () => {
    expect(sparkFrom({ cost: { cost: { cost: { spark: 1 } } } })).toBe(1);
    expect(sparkFrom({ cost: { cost: { cost: { cost: { spark: 1 } } } } })).toBeUndefined();
    expect(sparkFrom({ cost: { cost: { spark: 1 } } }, 2)).toBeUndefined();
  });

  it('takes only a finished run’s cost as what it was charged, not an estimate on it', () => {
    expect(reportedRunSpark({ estimatedCost: { spark: 9 }, estimated_cost: { spark: 9 }, spark: 9 })).toBeUndefined();
    expect(reportedRunSpark({ estimatedCost: { spark: 9 }, cost: { spark: 4 } })).toBe(4);
  });
});

describe('splitting and wording', () => {
  it('gives everything to a single hold, and nothing to no holds', () => {
    expect(splitCharge(7.5, [4])).toEqual([7.5]);
    expect(splitCharge(7.5, [])).toEqual([]);
    expect(splitCharge(10, [4, 4, 4])).toEqual([4, 4, 2]);
    expect(splitCharge(0.3, [0.1, 0.1, 0.1])).toEqual([0.1, 0.1, 0.1]);
  });

  it('says what is left with cents but no unit after “has”', () => {
    const refusal: Refusal = { limit: 'daily', limitSpark: 10, spent: 8.755, needed: 4, resetsAt: 0 };
    expect(describeOverBudget('image', 4, refusal)).toBe('⛔ This image would cost about 4 Spark; this server has 1.25 left today.');
    expect(describeOverBudget('image', 4, { ...refusal, limitSpark: -1 })).toBe('⛔ This image would cost about 4 Spark, and paid requests are turned off here.');
    expect(describeOverBudget('video', 100, { ...refusal, limit: 'monthly', limitSpark: 1000, spent: 990 }, true)).toBe(
      '⛔ This video would cost about 100 Spark; you have 10 left this month.',
    );
  });

  it('calls each kind of tool by what it makes', () => {
    expect(mediaWord('generate_song')).toBe('music');
    expect(mediaWord('voice_clone')).toBe('speech');
    expect(mediaWord('tts')).toBe('speech');
    for (const tool of ['apply_style', 'remove_background', 'change_angle', 'upscale_image', 'restore_photo', 'refine_result', 'photo_booth']) {
      expect(mediaWord(tool), tool).toBe('image');
    }
    expect(mediaWord('upscale_video')).toBe('video');
    expect(mediaWord('enhance_prompt')).toBe('request');
    expect(mediaWord('')).toBe('request');
  });
});
