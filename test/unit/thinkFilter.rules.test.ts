import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ThinkFilter } from '../../src/core/thinkFilter.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A filter that decides at once (no hold), so what it shows follows the tags alone. */
const undelayed = () => new ThinkFilter({ holdChars: 0 });

describe('ThinkFilter rules', () => {
  it('an answer without tags has seen no reasoning', () => {
    const f = new ThinkFilter();
    f.push('Hello');
    f.end();
    expect(f.sawReasoning).toBe(false);
  });

  it('reasoning_content counts as reasoning, and noting none keeps no text', () => {
    const f = new ThinkFilter();
    f.noteReasoning();
    expect(f.sawReasoning).toBe(true);
    expect(f.reasoning).toBe('');
    f.noteReasoning('step one');
    expect(f.reasoning).toBe('step one');
  });

  it('a lone closing tag counts as reasoning seen', () => {
    const f = undelayed();
    f.push('thought</think>Answer');
    expect(f.sawReasoning).toBe(true);
    expect(f.answer).toBe('Answer');
  });

  it('reasoning_content arriving after the content started does not end the hold', () => {
    const f = new ThinkFilter();
    f.push('maybe reasoning');
    f.noteReasoning('apart');
    expect(f.holding).toBe(true);
    expect(f.answer).toBe('');
  });

  it('an empty delta starts no hold', () => {
    const f = new ThinkFilter();
    f.push('');
    expect(f.holding).toBe(false);
    // Content has not started: reasoning sent apart still means the content to come is the answer.
    f.noteReasoning('r');
    f.push('Answer');
    expect(f.answer).toBe('Answer');
  });

  it('the hold is timed from the first delta, not restarted by later ones', () => {
    let clock = 0;
    let released = 0;
    const f = new ThinkFilter({ now: () => clock, holdMs: 2000, onRelease: () => (released += 1) });
    f.push('a');
    clock = 1500;
    f.push('b');
    expect(f.holding).toBe(true);
    clock = 2000;
    expect(f.holding).toBe(false);
    expect(f.answer).toBe('ab');
    vi.advanceTimersByTime(5000);
    // Decided by the clock: the timer was stopped and tells no one.
    expect(released).toBe(0);
  });

  it('held characters count with the answer toward the hold limit, a partial tag included', () => {
    const f = new ThinkFilter({ holdChars: 10 });
    f.push('abcdefg</th');
    expect(f.holding).toBe(false);
    expect(f.answer).toBe('abcdefg');
  });

  it('a partial tag at the end is held back alone, the text before it shows', () => {
    const f = undelayed();
    f.push('Hello <thi');
    expect(f.answer).toBe('Hello ');
    f.push('s is not a tag');
    expect(f.answer).toBe('Hello <this is not a tag');
  });

  it('only the whitespace right after a closing tag is dropped, never the spaces of the answer', () => {
    const inBlock = undelayed();
    inBlock.push('<think>x</think>Hello world');
    expect(inBlock.answer).toBe('Hello world');
    const lone = undelayed();
    lone.push('x</think>Hello world');
    expect(lone.answer).toBe('Hello world');
    const blank = undelayed();
    blank.push('x</think>\n\nHello');
    expect(blank.answer).toBe('Hello');
  });

  it('a lone closing tag before a later block: both are reasoning, the text between is the answer', () => {
    const f = undelayed();
    f.push('r1</think>A<think>r2</think>B');
    expect(f.answer).toBe('AB');
    expect(f.reasoning).toBe('r1\n\nr2\n\n');
  });

  it('ending twice changes nothing', () => {
    const f = new ThinkFilter();
    f.push('Answer <thi');
    expect(f.end()).toBe('Answer <thi');
    expect(f.end()).toBe('Answer <thi');
  });

  it('an empty block adds no reasoning text', () => {
    const f = undelayed();
    f.push('<think></think>Answer');
    expect(f.reasoning).toBe('');
    expect(f.sawReasoning).toBe(true);
  });

  it('each block ends with one blank line, its own trailing whitespace trimmed, its leading kept', () => {
    const f = undelayed();
    f.push('<think>\n\nfirst  \n</think>A<think>  second</think>B');
    expect(f.reasoning).toBe('\n\nfirst\n\n  second\n\n');
  });
});
