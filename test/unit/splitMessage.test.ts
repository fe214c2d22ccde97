import { describe, expect, it } from 'vitest';
import { fenceStateAfter, splitMessage } from '../../src/core/splitMessage.js';

const para = (n: number, len = 300) => Array.from({ length: n }, (_, i) => `Paragraph ${i}. ${'word '.repeat(len / 5)}`.trim());

describe('splitMessage', () => {
  it('keeps a short answer in one message', () => {
    expect(splitMessage('hello world')).toEqual(['hello world']);
  });

  it('splits a long answer at paragraph boundaries, every message within the limit', () => {
    const text = para(12).join('\n\n');
    const chunks = splitMessage(text, 2000);
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(2000);
    for (const c of chunks.slice(0, -1)) expect(c.endsWith('word')).toBe(true);
    expect(chunks.join('\n\n')).toBe(text);
  });

  it('falls back to line, then sentence, then word boundaries', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i} ${'x'.repeat(30)}`).join('\n');
    const byLine = splitMessage(lines, 500);
    expect(byLine.join('\n')).toBe(lines);
    const sentences = Array.from({ length: 60 }, (_, i) => `Sentence number ${i} is here.`).join(' ');
    const bySentence = splitMessage(sentences, 300);
    for (const c of bySentence.slice(0, -1)) expect(c.endsWith('.')).toBe(true);
    expect(bySentence.join(' ')).toBe(sentences);
  });

  it('hard-cuts text with no boundaries without splitting a surrogate pair', () => {
    const text = '😀'.repeat(1500); // 3000 UTF-16 units
    const chunks = splitMessage(text, 2000);
    for (const c of chunks) {
      expect(c.length).toBeLessThanOrEqual(2000);
      expect(c).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
    }
    expect(chunks.join('')).toBe(text);
  });

  it('splits a code block across messages and reopens it with its language', () => {
    const code = Array.from({ length: 120 }, (_, i) => `const value${i} = compute(${i}); // step ${i}`).join('\n');
    const text = `Here is the code:\n\n\`\`\`ts\n${code}\n\`\`\`\n\nThat is all.`;
    const chunks = splitMessage(text, 2000);
    expect(chunks.length).toBeGreaterThan(2);
    for (const [i, c] of chunks.entries()) {
      expect(c.length).toBeLessThanOrEqual(2000);
      // Every message renders on its own: no fence left open at its end.
      expect(fenceStateAfter(c)).toBeNull();
      if (i > 0 && i < chunks.length - 1) expect(c.startsWith('```ts\n')).toBe(true);
    }
    const body = chunks
      .map((c, i) => (i > 0 ? c.replace(/^```ts\n/, '') : c))
      .map((c, i) => (i < chunks.length - 1 ? c.replace(/\n```$/, '') : c))
      .join('\n');
    expect(body.replace(/\s+/g, ' ')).toBe(text.replace(/\s+/g, ' '));
  });

  it('keeps finished messages unchanged as more text streams in', () => {
    const full = para(20).join('\n\n');
    let previous: string[] = [];
    for (let n = 100; n <= full.length; n += 97) {
      const chunks = splitMessage(full.slice(0, n), 2000);
      // Every message but the last is final and must not change later.
      for (let i = 0; i < previous.length - 1; i++) expect(chunks[i]).toBe(previous[i]);
      previous = chunks;
    }
  });

  it('tracks fences: a longer closing fence closes, a different marker does not', () => {
    expect(fenceStateAfter('```py\nx\n````')).toBeNull();
    expect(fenceStateAfter('```py\nx\n~~~')).toEqual({ marker: '```', info: 'py' });
    expect(fenceStateAfter('text only')).toBeNull();
  });
});
