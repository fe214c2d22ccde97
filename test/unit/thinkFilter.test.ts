import { describe, expect, it } from 'vitest';
import { ThinkFilter } from '../../src/core/thinkFilter.js';

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
