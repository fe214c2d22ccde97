import { describe, expect, it } from 'vitest';
import { fenceStateAfter, splitCapped, splitMessage, type CappedSplit } from '../../src/core/splitMessage.js';

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

describe('splitCapped', () => {
  it('stops at the cap, cuts the last message shorter and says text was left out', () => {
    const text = para(40).join('\n\n'); // about 12,000 characters
    const { chunks, overflow } = splitCapped(text, 2000, 3, 1500);
    expect(overflow).toBe(true);
    expect(chunks).toHaveLength(3);
    expect(chunks.slice(0, 2)).toEqual(splitMessage(text, 2000).slice(0, 2));
    expect(chunks[2]?.length).toBeLessThanOrEqual(1500);
    expect(text.startsWith(chunks.join('\n\n'))).toBe(true);
  });

  it('reports no overflow when everything fits, and is splitMessage without a cap', () => {
    const text = para(5).join('\n\n');
    expect(splitCapped(text, 2000, 3, 1500)).toEqual({ chunks: splitMessage(text, 2000), overflow: false });
    const long = para(30).join('\n\n');
    expect(splitCapped(long, 2000, Infinity, 2000)).toEqual({ chunks: splitMessage(long, 2000), overflow: false });
  });

  it('keeps the capped messages unchanged as more text streams in', () => {
    const full = para(40).join('\n\n');
    let previous: CappedSplit = { chunks: [], overflow: false };
    for (let n = 100; n <= full.length; n += 211) {
      const next = splitCapped(full.slice(0, n), 2000, 3, 1500);
      // Once the cap is reached nothing changes; before, every message but the last is final.
      const settled = previous.overflow ? previous.chunks.length : previous.chunks.length - 1;
      for (let i = 0; i < settled; i++) expect(next.chunks[i]).toBe(previous.chunks[i]);
      previous = next;
    }
    expect(previous).toMatchObject({ overflow: true, chunks: { length: 3 } });
  });

  it('closes a code block cut by the cap, so the last message renders on its own', () => {
    const code = Array.from({ length: 200 }, (_, i) => `let v${i} = ${i};`).join('\n');
    const { chunks, overflow } = splitCapped(`\`\`\`js\n${code}\n\`\`\``, 2000, 2, 1000);
    expect(overflow).toBe(true);
    for (const c of chunks) expect(fenceStateAfter(c)).toBeNull();
    expect(chunks[1]?.startsWith('```js\n')).toBe(true);
    expect(chunks[1]?.length).toBeLessThanOrEqual(1000);
  });
});
