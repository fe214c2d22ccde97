import { describe, expect, it } from 'vitest';
import { describeOverBudget, mediaWord, previewSpark, reportedRunSpark, sparkFrom, splitCharge } from '../../src/core/runCost.js';
import type { Refusal } from '../../src/core/spendMath.js';

const refusal = (over: Partial<Refusal>): Refusal => ({ limit: 'daily', limitSpark: 9, spent: 0, needed: 100, resetsAt: 0, ...over });

describe('reading a price liberally', () => {
  it.each([
    ['Spark at the top', { spark: 100 }, 100],
    ['camelCase Spark nested in estimatedCost', { previewId: 'p', estimatedCost: { spark: 12.5, usd: 0.0625 } }, 12.5],
    ['snake_case, as a string', { estimated_cost: { spark: '7' } }, 7],
    ['US dollars only', { costInUSD: 0.5 }, 100],
    ['another spelling of dollars', { estimatedCostUsd: 0.02 }, 4],
    ['a socket-style cost object', { cost: { costInSpark: '3', costInUSD: '0.015' } }, 3],
    ['another spelling of Spark', { sparkEstimate: 9 }, 9],
  ])('%s', (_name, preview, expected) => {
    expect(previewSpark(preview)).toBe(expected);
  });

  it('reads no price from a balance, a limit or nothing at all: such a price is never confirmed', () => {
    expect(previewSpark({ remainingSpark: 500, balanceUsd: 3 })).toBeUndefined();
    expect(previewSpark({ maxSparkPerJob: 50 })).toBeUndefined();
    expect(previewSpark({})).toBeUndefined();
    expect(previewSpark('100')).toBeUndefined();
    expect(previewSpark({ spark: -4 })).toBeUndefined();
    expect(sparkFrom({ spark: Number.NaN })).toBeUndefined();
  });

  it('reads what a finished run reports it cost, in Spark or dollars', () => {
    expect(reportedRunSpark({ cost: { spark: 50 } })).toBe(50);
    expect(reportedRunSpark({ cost: { usd: 0.25 } })).toBe(50);
    expect(reportedRunSpark({ cost: { spark: 0 } })).toBe(0);
    expect(reportedRunSpark({ status: 'completed' })).toBeUndefined();
  });
});

describe('splitting a run’s charge over its holds', () => {
  it('gives each hold up to its price and the last one the rest, summing to the charge', () => {
    expect(splitCharge(104, [4, 100])).toEqual([4, 100]);
    expect(splitCharge(50, [4, 100])).toEqual([4, 46]);
    expect(splitCharge(2, [4, 100])).toEqual([2, 0]);
    expect(splitCharge(120, [4, 100])).toEqual([4, 116]);
    expect(splitCharge(-3, [4])).toEqual([0]);
  });
});

describe('the line for a price over the limit', () => {
  it('names the price and what is left, for whom, and for when', () => {
    expect(describeOverBudget('video', 100, refusal({}))).toBe('⛔ This video would cost about 100 Spark; this server has 9 left today.');
    expect(describeOverBudget('image', 4, refusal({ limit: 'userDaily', limitSpark: 10, spent: 8.5 }))).toBe('⛔ This image would cost about 4 Spark; you have 1.5 left today.');
    expect(describeOverBudget('music', 30, refusal({ limit: 'monthly', limitSpark: 1000, spent: 990 }))).toBe('⛔ This music would cost about 30 Spark; this server has 10 left this month.');
    expect(describeOverBudget('video', 100, refusal({ spent: 12 }))).toContain('this server has 0 left today');
    expect(describeOverBudget('video', 100, refusal({ limitSpark: 0 }))).toBe('⛔ This video would cost about 100 Spark, and paid requests are turned off here.');
    expect(describeOverBudget('video', 100, refusal({}), true)).toContain('you have 9 left today');
  });

  it('calls what a tool makes by its name', () => {
    expect(mediaWord('generate_video')).toBe('video');
    expect(mediaWord('animate_photo')).toBe('video');
    expect(mediaWord('generate_music')).toBe('music');
    expect(mediaWord('generate_speech')).toBe('speech');
    expect(mediaWord('edit_image')).toBe('image');
    expect(mediaWord(undefined)).toBe('request');
  });
});
