import { describe, expect, it } from 'vitest';
import { BotMetrics, bucketKind, topScopes } from '../../src/ops/metrics.js';
import { parseMetrics, sampleValue } from '../ops/promText.js';

describe('bucketKind', () => {
  it('names the Discord bucket a REST path draws from, never by id', () => {
    expect(bucketKind('/channels/123/messages')).toBe('message');
    expect(bucketKind('/channels/123/messages/456')).toBe('message');
    expect(bucketKind('/channels/123/typing')).toBe('typing');
    expect(bucketKind('/interactions/1/tok/callback')).toBe('interaction');
    expect(bucketKind('/webhooks/1/tok/messages/@original')).toBe('interaction');
    expect(bucketKind('/applications/1/commands')).toBe('commands');
    expect(bucketKind('/applications/1/guilds/2/commands')).toBe('commands');
    expect(bucketKind('/gateway/bot')).toBe('other');
  });
});

describe('topScopes', () => {
  it('shows the biggest spenders by id, sums the rest as other, and every DM as dm', () => {
    const spent = new Map([
      ['g1', 5],
      ['g2', 50],
      ['g3', 1],
      ['g4', 20],
      ['dm', 7],
    ]);
    expect(topScopes(spent, 2)).toEqual([
      ['g2', 50],
      ['g4', 20],
      ['other', 6],
      ['dm', 7],
    ]);
  });
});

describe('BotMetrics', () => {
  it('counts answers by outcome and folds DM spend into one series without user ids', async () => {
    const metrics = new BotMetrics();
    metrics.answered({ delivered: true });
    metrics.answered({ delivered: true, refused: true });
    metrics.answered({ delivered: true, failure: { kind: 'timeout' } });
    metrics.answered({ delivered: false });
    metrics.spent('dm:123456789012345678', 2);
    metrics.spent('dm:987654321098765432', 3);
    metrics.spent('111', 4);
    const text = await metrics.text();
    const parsed = parseMetrics(text);
    for (const outcome of ['ok', 'refused', 'failed', 'gone']) expect(sampleValue(parsed, 'sogni_bot_answers_total', { outcome })).toBe(1);
    expect(sampleValue(parsed, 'sogni_bot_spark_spent', { scope: 'dm' })).toBe(5);
    expect(sampleValue(parsed, 'sogni_bot_spark_spent', { scope: '111' })).toBe(4);
    expect(text).not.toContain('123456789012345678');
  });
});
