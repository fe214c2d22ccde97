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

describe('status line edges', () => {
  it('reads no progress from nothing, an empty or blank string, or a non-number', () => {
    expect(toFraction(null)).toBeUndefined();
    expect(toFraction(undefined)).toBeUndefined();
    expect(toFraction('')).toBeUndefined();
    expect(toFraction('   ')).toBeUndefined();
    expect(toFraction(true)).toBeUndefined();
    expect(toFraction(Number.POSITIVE_INFINITY)).toBeUndefined();
    expect(toFraction(' 45 ')).toBe(0.45);
  });

  it('reads 1 as done, not as 1 percent, and anything above 1 as a percentage', () => {
    expect(toFraction(1)).toBe(1);
    expect(toFraction('1')).toBe(1);
    expect(toFraction(1.5)).toBe(0.015);
    expect(toFraction(250)).toBe(1);
  });

  it('switches from seconds to minutes at one minute', () => {
    expect(etaText(59)).toBe('about 60 s left');
    expect(etaText(60)).toBe('about 1 min left');
    expect(etaText(89)).toBe('about 1 min left');
    expect(etaText(90)).toBe('about 2 min left');
    expect(etaText(Number.NaN)).toBeUndefined();
    expect(etaText(-5)).toBeUndefined();
  });

  it('keeps a step label of up to 60 characters and cuts a longer one to 59 and an ellipsis', () => {
    const sixty = 'a'.repeat(60);
    expect(statusLine({ kind: 'working', progress: { stepLabel: sixty } })).toBe(`⏳ Working on it… · ${sixty}`);
    expect(statusLine({ kind: 'working', progress: { stepLabel: `${sixty}b` } })).toBe(`⏳ Working on it… · ${'a'.repeat(59)}…`);
    expect(statusLine({ kind: 'working', progress: { stepLabel: '  Denoising\n  step   3 ' } })).toBe('⏳ Working on it… · Denoising step 3');
  });

  it('leaves out a step label that is only markdown or space', () => {
    expect(statusLine({ kind: 'working', progress: { progress: 0, stepLabel: '** __ ``' } })).toBe('▱▱▱▱▱▱▱▱▱▱ 0%');
  });

  it('says waiting plainly when nobody is ahead, and words the other phases exactly', () => {
    expect(statusLine({ kind: 'waiting', ahead: 0 })).toBe('⏳ Waiting for Sogni…');
    expect(statusLine({ kind: 'waiting', ahead: 1 })).toBe('⏳ Waiting for Sogni — 1 ahead of you');
    expect(statusLine({ kind: 'starting' })).toBe('⏳ Starting…');
    expect(statusLine({ kind: 'pricing' })).toBe('💰 Checking the price against the limits…');
  });
});

