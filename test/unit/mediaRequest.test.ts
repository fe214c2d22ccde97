import { describe, expect, it } from 'vitest';
import { boundedArgs, mediaMessages, toolFor, worstCase } from '../../src/media/mediaRequest.js';

const prices = { chatInputPerMillion: 20, chatOutputPerMillion: 60, image: 4, videoPerSecond: 10, audioPerSecond: 1 };

describe('what a media request pays for', () => {
  it('is the tool the member picked, or the one the chat model named', () => {
    expect(toolFor({ prompt: 'a 10-second video of a fox' })).toBe('generate_image');
    expect(toolFor({ prompt: 'x', reference: 'https://cdn/x.png' })).toBe('edit_image');
    expect(toolFor({ prompt: 'x', kind: 'video' })).toBe('generate_video');
    expect(toolFor({ prompt: 'x', kind: 'music' })).toBe('generate_music');
    expect(toolFor({ prompt: 'x', kind: 'speech' })).toBe('generate_speech');
    expect(toolFor({ prompt: 'x', kind: 'video', tool: 'generate_image' })).toBe('generate_image');
  });

  it('bounds the price drivers in what is sent: length and variations', () => {
    expect(boundedArgs({ prompt: 'x', tool: 'generate_video', args: { duration: 60 } }, 10)).toEqual({ duration: 10 });
    expect(boundedArgs({ prompt: 'x', tool: 'generate_video', args: { durationSeconds: 4 } }, 10)).toEqual({ duration: 4 });
    // No length said: the longest allowed, the worst case.
    expect(boundedArgs({ prompt: 'x', tool: 'generate_video' }, 10)).toEqual({ duration: 10 });
    expect(boundedArgs({ prompt: 'x', kind: 'video', durationSeconds: 6 }, 10)).toEqual({ duration: 6 });
    expect(boundedArgs({ prompt: 'x', tool: 'generate_image', args: { numberOfVariations: 16 } }, 10)).toEqual({ numberOfVariations: 4 });
    expect(boundedArgs({ prompt: 'x', tool: 'generate_image', args: { n: 2 } }, 10)).toEqual({ numberOfVariations: 2 });
  });

  it('holds the worst case of what is sent', () => {
    expect(worstCase(prices, { prompt: 'x', tool: 'generate_video', args: { duration: 60 } }, 10)).toBeGreaterThanOrEqual(100);
    expect(worstCase(prices, { prompt: 'x', tool: 'generate_video', args: { duration: 60 } }, 10)).toBeLessThan(101);
    expect(worstCase(prices, { prompt: 'x', tool: 'generate_image', args: { numberOfVariations: 16 } }, 10)).toBeGreaterThanOrEqual(16);
  });

  it('states the tool and its bounded arguments in the message', () => {
    const text = JSON.stringify(mediaMessages({ prompt: 'waves', kind: 'video', durationSeconds: 30 }, 10));
    expect(text).toContain('Use generate_video with these arguments: {\\"duration\\":10}');
  });
});
