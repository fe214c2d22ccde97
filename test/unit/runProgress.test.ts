import { describe, expect, it } from 'vitest';
import { etaText, progressBar, statusLine, toFraction } from '../../src/core/runProgress.js';

describe('the status line of a media run', () => {
  it('draws a ten-cell bar from a fraction, clamped', () => {
    expect(progressBar(0)).toBe('▱▱▱▱▱▱▱▱▱▱');
    expect(progressBar(0.42)).toBe('▰▰▰▰▱▱▱▱▱▱');
    expect(progressBar(1)).toBe('▰▰▰▰▰▰▰▰▰▰');
    expect(progressBar(7)).toBe('▰▰▰▰▰▰▰▰▰▰');
  });

  it('reads progress as a fraction or a percentage', () => {
    expect(toFraction(0.3)).toBe(0.3);
    expect(toFraction('45')).toBe(0.45);
    expect(toFraction(-1)).toBe(0);
    expect(toFraction('soon')).toBeUndefined();
  });

  it('says the time left in round numbers, and nothing when unknown', () => {
    expect(etaText(42)).toBe('about 40 s left');
    expect(etaText(2)).toBe('about 5 s left');
    expect(etaText(170)).toBe('about 3 min left');
    expect(etaText(0)).toBeUndefined();
    expect(etaText(undefined)).toBeUndefined();
  });

  it('shows the bar, percentage, time left and step, and each phase in words', () => {
    expect(statusLine({ kind: 'working', progress: { progress: 0.4, etaSeconds: 25, stepLabel: 'Rendering frames' } })).toBe(
      '▰▰▰▰▱▱▱▱▱▱ 40% · about 25 s left · Rendering frames',
    );
    expect(statusLine({ kind: 'working', progress: {} })).toBe('⏳ Working on it…');
    // A step label from Sogni cannot break the message's markdown.
    expect(statusLine({ kind: 'working', progress: { progress: 1, stepLabel: '**done** `now`' } })).toBe('▰▰▰▰▰▰▰▰▰▰ 100% · done now');
    expect(statusLine({ kind: 'waiting', ahead: 3 })).toBe('⏳ Waiting for Sogni — 3 ahead of you');
    expect(statusLine({ kind: 'pricing' })).toContain('Checking the price');
    expect(statusLine({ kind: 'cancelling' })).toBe('⏹ Cancelling…');
  });
});
