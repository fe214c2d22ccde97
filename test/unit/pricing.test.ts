import { describe, expect, it } from 'vitest';
import {
  CHAT_OUTPUT_RESERVE_TOKENS,
  chatCost,
  chatEstimate,
  estimateTokens,
  mediaCostFromOutput,
  mediaEstimate,
  roundSpark,
  toolKind,
  type PriceTable,
} from '../../src/core/pricing.js';

const prices: PriceTable = { chatInputPerMillion: 20, chatOutputPerMillion: 60, image: 4, videoPerSecond: 10, audioPerSecond: 1 };

describe('chat prices', () => {
  it('counts about 4 characters a token, rounding up, and 1,000 tokens an image', () => {
    expect(estimateTokens(0)).toBe(0);
    expect(estimateTokens(1)).toBe(1);
    expect(estimateTokens(8)).toBe(2);
    expect(estimateTokens(9)).toBe(3);
    expect(estimateTokens(9, 2)).toBe(2003);
  });

  it('prices input and output tokens separately, per million', () => {
    expect(chatCost(prices, { promptTokens: 1_000_000, completionTokens: 0 })).toBe(20);
    expect(chatCost(prices, { promptTokens: 0, completionTokens: 1_000_000 })).toBe(60);
    expect(chatCost(prices, { promptTokens: 1234, completionTokens: 567 })).toBe(0.05870);
  });

  it('holds the prompt plus a full answer’s worth of output before the answer is known', () => {
    expect(CHAT_OUTPUT_RESERVE_TOKENS).toBe(4096);
    expect(chatEstimate(prices, 4000)).toBe(roundSpark((1000 * 20 + 4096 * 60) / 1e6));
    expect(chatEstimate(prices, 4000, 1)).toBe(roundSpark((2000 * 20 + 4096 * 60) / 1e6));
  });

  it('keeps amounts to a millionth of a Spark', () => {
    expect(roundSpark(0.1 + 0.2)).toBe(0.3);
    expect(roundSpark(1.0000004)).toBe(1);
    expect(roundSpark(1.0000006)).toBe(1.000001);
  });
});

describe('media prices', () => {
  it('tells the kind of spend from the tool name', () => {
    for (const name of ['generate_video', 'animate_photo']) expect(toolKind(name)).toBe('video');
    for (const name of ['generate_music', 'text_to_speech', 'audio_clip', 'sound_effect']) expect(toolKind(name)).toBe('audio');
    for (const name of ['generate_image', 'photo_enhance', 'style_transfer', 'remove_background', 'change_angle', 'upscale', 'restore_face', 'refine', 'edit_image']) {
      expect(toolKind(name)).toBe('image');
    }
    expect(toolKind('make_3d_model')).toBe('other');
    // Video wins over image words in the same name, audio over image too.
    expect(toolKind('image_to_video')).toBe('video');
    expect(toolKind('image_to_speech')).toBe('audio');
  });

  it('estimates video by its duration argument (any of its spellings), 5 s by default, at most 60 s', () => {
    expect(mediaEstimate(prices, 'generate_video')).toBe(50);
    expect(mediaEstimate(prices, 'generate_video', { duration: 8 })).toBe(80);
    expect(mediaEstimate(prices, 'generate_video', { durationSeconds: '3' })).toBe(30);
    expect(mediaEstimate(prices, 'generate_video', { duration_seconds: 2 })).toBe(20);
    expect(mediaEstimate(prices, 'generate_video', { duration: 600 })).toBe(600);
    expect(mediaEstimate(prices, 'generate_video', { duration: 60 })).toBe(600);
    // Nonsense durations fall back to the next spelling, then the default.
    expect(mediaEstimate(prices, 'generate_video', { duration: -4, durationSeconds: 7 })).toBe(70);
    expect(mediaEstimate(prices, 'generate_video', { duration: 0, duration_seconds: 'soon' })).toBe(50);
    expect(mediaEstimate(prices, 'generate_video', { duration: Number.POSITIVE_INFINITY })).toBe(50);
    expect(mediaEstimate(prices, 'generate_video', { duration: true })).toBe(50);
  });

  it('estimates audio by its duration, 30 s by default, at most 600 s', () => {
    expect(mediaEstimate(prices, 'generate_music')).toBe(30);
    expect(mediaEstimate(prices, 'generate_music', { duration: 12.5 })).toBe(12.5);
    expect(mediaEstimate(prices, 'text_to_speech', { durationSeconds: 9 })).toBe(9);
    expect(mediaEstimate(prices, 'generate_music', { duration: 5000 })).toBe(600);
    expect(mediaEstimate(prices, 'generate_music', { duration: 600 })).toBe(600);
    // Audio does not read the video-only spelling.
    expect(mediaEstimate(prices, 'generate_music', { duration_seconds: 9 })).toBe(30);
    expect(mediaEstimate({ ...prices, audioPerSecond: 2 }, 'generate_music', { duration: 10 })).toBe(20);
  });

  it('estimates images by their count, one by default, whole numbers, at most 16', () => {
    expect(mediaEstimate(prices, 'generate_image')).toBe(4);
    expect(mediaEstimate(prices, 'generate_image', { numberOfVariations: 3 })).toBe(12);
    expect(mediaEstimate(prices, 'generate_image', { n: '2' })).toBe(8);
    expect(mediaEstimate(prices, 'generate_image', { numberOfVariations: 2.9 })).toBe(8);
    expect(mediaEstimate(prices, 'generate_image', { n: 100 })).toBe(64);
    expect(mediaEstimate(prices, 'generate_image', { n: 16 })).toBe(64);
    expect(mediaEstimate(prices, 'make_3d_model', { n: 2 })).toBe(8);
  });

  it('prices what was produced when Sogni reports no cost', () => {
    expect(mediaCostFromOutput(prices, [])).toBe(0);
    expect(
      mediaCostFromOutput(prices, [
        { kind: 'image' },
        { kind: 'model' },
        { kind: 'video', durationSeconds: 4 },
        { kind: 'video' },
        { kind: 'audio', durationSeconds: 12 },
        { kind: 'audio' },
      ]),
    ).toBe(4 + 4 + 40 + 50 + 12 + 30);
    expect(mediaCostFromOutput({ ...prices, audioPerSecond: 2 }, [{ kind: 'audio', durationSeconds: 10 }, { kind: 'audio' }])).toBe(80);
  });
});
