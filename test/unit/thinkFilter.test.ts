import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HOLD_CHARS, HOLD_MS, ThinkFilter } from '../../src/core/thinkFilter.js';

function run(deltas: string[]) {
  const f = new ThinkFilter();
  const seen: string[] = [];
  for (const d of deltas) {
    f.push(d);
    seen.push(f.answer);
  }
  return { answer: f.end(), seen, filter: f };
}

describe('ThinkFilter', () => {
  it('passes plain answers through', () => {
    expect(run(['Hello', ' world']).answer).toBe('Hello world');
  });

  it('hides a think block even when its tags are split across deltas', () => {
    const { answer, seen, filter } = run(['<thi', 'nk>secret plan', ' more</th', 'ink>\n\nThe answer', ' is 4.']);
    expect(answer).toBe('The answer is 4.');
    expect(seen.join('|')).not.toContain('secret');
    expect(seen.join('|')).not.toContain('<');
    expect(filter.sawReasoning).toBe(true);
  });

  it('treats text before a lone closing tag as reasoning', () => {
    const { answer } = run(['I should say hi', '</think>', 'Hi!']);
    expect(answer).toBe('Hi!');
  });

  it('reports thinking while inside the block', () => {
    const f = new ThinkFilter();
    f.push('<think>hmm');
    expect(f.thinking).toBe(true);
    expect(f.answer).toBe('');
    f.push('</think>ok');
    expect(f.thinking).toBe(false);
    expect(f.answer).toBe('ok');
  });

  it('keeps a trailing "<" that never became a tag', () => {
    expect(run(['a < b and b <']).answer).toBe('a < b and b <');
  });
});

describe('ThinkFilter holds back what could still be reasoning', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('never shows reasoning that ends with a lone </think> within the hold', async () => {
    const f = new ThinkFilter();
    const seen: string[] = [];
    for (const d of ['Let me think about this. ', 'The user wants X.', '</th', 'ink>', 'The answer ', 'is 4.']) {
      f.push(d);
      seen.push(f.answer);
      await vi.advanceTimersByTimeAsync(150);
    }
    expect(seen.slice(0, 4)).toEqual(['', '', '', '']);
    expect(seen.at(-1)).toBe('The answer is 4.');
    expect(seen.join('|')).not.toMatch(/think|user wants/i);
    expect(f.end()).toBe('The answer is 4.');
  });

  it(`shows untagged text once ${HOLD_CHARS} characters have arrived`, () => {
    const f = new ThinkFilter();
    f.push('a'.repeat(HOLD_CHARS - 1));
    expect(f.holding).toBe(true);
    expect(f.answer).toBe('');
    f.push('b');
    expect(f.holding).toBe(false);
    expect(f.answer).toBe(`${'a'.repeat(HOLD_CHARS - 1)}b`);
  });

  it(`shows untagged text ${HOLD_MS} ms after it started, telling the caller even when no delta arrives`, async () => {
    const onRelease = vi.fn();
    const f = new ThinkFilter({ onRelease });
    f.push('Hello');
    await vi.advanceTimersByTimeAsync(HOLD_MS - 1);
    expect(f.answer).toBe('');
    expect(onRelease).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(onRelease).toHaveBeenCalledTimes(1);
    expect(f.answer).toBe('Hello');
    f.push(' there');
    expect(f.answer).toBe('Hello there');
  });

  it('reads its own clock: the hold ends on time even before the timer fires', () => {
    let now = 1000;
    const f = new ThinkFilter({ now: () => now, holdMs: 500 });
    f.push('Hi');
    now = 1499;
    expect(f.answer).toBe('');
    now = 1500;
    expect(f.answer).toBe('Hi');
  });

  it('drops text already shown when a lone </think> comes after the hold (the final edit then shows the answer alone)', async () => {
    const f = new ThinkFilter();
    f.push('I wonder what they mean. ');
    await vi.advanceTimersByTimeAsync(HOLD_MS);
    expect(f.answer).toBe('I wonder what they mean. ');
    f.push('Probably a greeting.</think>Hello!');
    expect(f.answer).toBe('Hello!');
    expect(f.end()).toBe('Hello!');
  });

  it('does not hold once the model opens its own <think> block', () => {
    const f = new ThinkFilter();
    f.push('<think>plan</think>Hi');
    expect(f.answer).toBe('Hi');
    f.push(' there');
    expect(f.answer).toBe('Hi there');
  });

  it('does not hold content when the reasoning came apart, as reasoning_content', () => {
    const f = new ThinkFilter();
    f.noteReasoning();
    f.push('The answer');
    expect(f.holding).toBe(false);
    expect(f.answer).toBe('The answer');
  });

  it('shows everything at the end and stops its timer', async () => {
    const onRelease = vi.fn();
    const f = new ThinkFilter({ onRelease });
    f.push('short');
    expect(f.end()).toBe('short');
    expect(f.answer).toBe('short');
    await vi.advanceTimersByTimeAsync(HOLD_MS * 2);
    expect(onRelease).not.toHaveBeenCalled();
  });
});
