import { describe, expect, it } from 'vitest';
import { ThinkFilter } from '../../src/core/thinkFilter.js';

function run(deltas: string[], reasoningContent: string[] = []) {
  const f = new ThinkFilter();
  for (const r of reasoningContent) f.noteReasoning(r);
  for (const d of deltas) f.push(d);
  return { answer: f.end(), reasoning: f.reasoning };
}

describe('ThinkFilter keeps what it hides', () => {
  it('keeps a think block split across deltas, tags removed, and only the answer outside it', () => {
    const { answer, reasoning } = run(['<thi', 'nk>secret plan', ' more</th', 'ink>\n\nThe answer', ' is 4.']);
    expect(answer).toBe('The answer is 4.');
    expect(reasoning.trim()).toBe('secret plan more');
  });

  it('keeps the text before a lone closing tag, and separates several blocks', () => {
    const { answer, reasoning } = run(['I should say hi', '</think>', 'Hi! ', '<think>second thought</think>', 'Bye.']);
    expect(answer).toBe('Hi! Bye.');
    expect(reasoning).toBe('I should say hi\n\nsecond thought\n\n');
  });

  it('keeps reasoning sent apart from the content, and a block the stream never closed', () => {
    expect(run(['The answer.'], ['Step 1. ', 'Step 2.'])).toEqual({ answer: 'The answer.', reasoning: 'Step 1. Step 2.' });
    const unclosed = run(['<think>still going </thi']);
    expect(unclosed.answer).toBe('');
    expect(unclosed.reasoning).toBe('still going </thi');
  });

  it('keeps nothing for an answer without reasoning', () => {
    expect(run(['Just ', 'an answer.']).reasoning).toBe('');
  });
});
