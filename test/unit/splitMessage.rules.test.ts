import { describe, expect, it } from 'vitest';
import { fenceStateAfter, splitCapped, splitMessage } from '../../src/core/splitMessage.js';

const tick = (n: number) => '`'.repeat(n);

// With a limit of 20 and no fence open, the window searched for a cut is 12 characters:
// 8 are kept back for a closing fence that may have to be added (a newline and up to 7 marker characters).
describe('fence tracking', () => {
  it('a fence marker must start its line (up to three spaces): inline backticks open nothing', () => {
    expect(fenceStateAfter('say ``` here')).toBeNull();
    expect(fenceStateAfter('   ```js')).toEqual({ marker: '```', info: 'js' });
    expect(fenceStateAfter('    ```js')).toBeNull();
  });

  it('tildes open a fence only three or more at a time, and keep their marker', () => {
    expect(fenceStateAfter('~~ not a fence')).toBeNull();
    expect(fenceStateAfter('~~~py\nx = 1')).toEqual({ marker: '~~~', info: 'py' });
  });

  it('only the first word of the info string is kept as the language, at most 30 characters', () => {
    expect(fenceStateAfter('``` py title="a.py"')).toEqual({ marker: '```', info: 'py' });
    expect(fenceStateAfter(`\`\`\`${'l'.repeat(40)}`)).toEqual({ marker: '```', info: 'l'.repeat(30) });
  });

  it('a fence closes only on a bare marker line (trailing spaces allowed), never on one with text after it', () => {
    expect(fenceStateAfter('```\nx\n```   ')).toBeNull();
    expect(fenceStateAfter('```\nx\n```py')).toEqual({ marker: '```', info: '' });
  });

  it('a shorter marker does not close a longer fence', () => {
    expect(fenceStateAfter('````\nx\n```')).toEqual({ marker: '````', info: '' });
    expect(fenceStateAfter('````\nx\n````')).toBeNull();
  });

  it('fences in CRLF text are seen like in LF text', () => {
    expect(fenceStateAfter('```py\r\nx = 1\r\n')).toEqual({ marker: '```', info: 'py' });
    expect(fenceStateAfter('```py\r\nx = 1\r\n```\r\n')).toBeNull();
    const code = Array.from({ length: 80 }, (_, i) => `value_${i} = ${i}`).join('\r\n');
    const chunks = splitMessage(`\`\`\`py\r\n${code}\r\n\`\`\``, 500);
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) {
      expect(c.startsWith('```py')).toBe(true);
      expect(fenceStateAfter(c)).toBeNull();
    }
  });
});

describe('where a message is cut', () => {
  it('an empty text makes no messages', () => {
    expect(splitMessage('')).toEqual([]);
  });

  it('a text exactly at the limit stays one message', () => {
    expect(splitMessage('x'.repeat(20), 20)).toEqual(['x'.repeat(20)]);
  });

  it('without sentences, a long text is cut after the last space in the window', () => {
    expect(splitMessage('alpha beta gamma delta epsilon', 20)).toEqual(['alpha beta', 'gamma delta epsilon']);
  });

  it('a boundary exactly halfway through the window is good enough', () => {
    // The newline ends at 6 of a 12-character window: it wins over the later space.
    expect(splitMessage('abcde\nfg hijklmnopqrstuvwxyz', 20)).toEqual(['abcde', 'fg', 'hijklmnopqrstuvwxyz']);
  });

  it('a better boundary short of halfway loses to a worse one past it', () => {
    expect(splitMessage('abc\ndefgh ijklmnopqrstuvwxyz', 20)).toEqual(['abc\ndefgh', 'ijklmnopqrstuvwxyz']);
  });

  it('with no boundary past halfway, the first kind found is used (a line over a space)', () => {
    expect(splitMessage('ab\nc defghijklmnopqrstuvwxyz', 20)).toEqual(['ab', 'c', 'defghijklmno', 'pqrstuvwxyz']);
  });

  it('a leading space is the only boundary: the blank piece is dropped, then hard cuts follow', () => {
    expect(splitMessage(` ${'x'.repeat(30)}`, 20)).toEqual(['x'.repeat(12), 'x'.repeat(18)]);
  });

  it('a hard cut never splits a surrogate pair', () => {
    // 13-unit windows would end between the halves of the seventh emoji.
    expect(splitMessage('😀'.repeat(15), 21)).toEqual(['😀'.repeat(6), '😀'.repeat(9)]);
    // The lowest and the highest high surrogates.
    expect(splitMessage('\u{10000}'.repeat(15), 21)).toEqual(['\u{10000}'.repeat(6), '\u{10000}'.repeat(9)]);
    expect(splitMessage('\u{10FC00}'.repeat(15), 21)).toEqual(['\u{10FC00}'.repeat(6), '\u{10FC00}'.repeat(9)]);
  });

  it('blank lines between two messages are dropped outside code', () => {
    expect(splitMessage('abcdefghijk\n\n\nlmnopqrstuvw', 20)).toEqual(['abcdefghijk', 'lmnopqrstuvw']);
  });

  it('trailing blank lines make no extra message', () => {
    expect(splitMessage(`abcdefghij${'\n'.repeat(15)}`, 20)).toEqual(['abcdefghij']);
  });
});

describe('code blocks cut in two', () => {
  it('the reopened block gets exactly the room left after its opening line and the closing fence', () => {
    const text = `\`\`\`\n${'a'.repeat(10)}\n${'b'.repeat(40)}`;
    expect(splitMessage(text, 30)).toEqual([
      `\`\`\`\n${'a'.repeat(10)}\n\`\`\``,
      `\`\`\`\n${'b'.repeat(18)}\n\`\`\``,
      `\`\`\`\n${'b'.repeat(22)}`,
    ]);
  });

  it('blank lines inside code are kept across the cut', () => {
    const text = `\`\`\`\n${'a'.repeat(10)}\n${'b'.repeat(6)}\n\n${'c'.repeat(20)}`;
    expect(splitMessage(text, 30)).toEqual([`\`\`\`\n${'a'.repeat(10)}\n${'b'.repeat(6)}\n\`\`\``, `\`\`\`\n\n${'c'.repeat(20)}`]);
  });

  it('a closing fence that exactly fills the message is accepted', () => {
    const text = `${tick(7)}\n${'x'.repeat(40)}`;
    const chunks = splitMessage(text, 30);
    const full = `${tick(7)}\n${'x'.repeat(14)}\n${tick(7)}`;
    expect(chunks.slice(1)).toEqual([full, full, `${tick(7)}\n${'x'.repeat(12)}`]);
    expect(chunks[1]).toHaveLength(30);
  });

  it('a fence longer than 7 characters is kept back in full, so the cut stays at the best boundary', () => {
    const text = `${tick(10)}py\nxxx\n\n${'a'.repeat(7)}\n${'b'.repeat(6)} ${'c'.repeat(40)}`;
    const chunks = splitMessage(text, 40);
    expect(chunks[0]).toBe(`${tick(10)}py\nxxx\n${tick(10)}`);
    expect(chunks[1]).toBe(`${tick(10)}py\n${'a'.repeat(7)}\n${tick(10)}`);
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(40);
  });

  it('a code block whose fences do not fit beside the text before it starts in the next message', () => {
    // The 20-character marker is longer than the 7 kept back: the piece is cut shorter until it fits.
    const chunks = splitMessage(`intro\n${tick(20)}js\n${'x'.repeat(60)}`, 40);
    expect(chunks[0]).toBe('intro');
    // Absurd markers leave a single character of room per message; the split still ends and loses no text.
    expect(chunks.join('').split('x')).toHaveLength(61);
    for (const c of chunks.slice(0, -1)) expect(fenceStateAfter(c)).toBeNull();
  });
});

describe('splitCapped overflow', () => {
  it('only whitespace left past the cap is not an overflow', () => {
    const text = `abcdefghij\n\n${' '.repeat(12)}`;
    expect(splitCapped(text, 20, 1, 20)).toEqual({ chunks: ['abcdefghij'], overflow: false });
    expect(splitCapped(`${text}x`, 20, 1, 20)).toEqual({ chunks: ['abcdefghij'], overflow: true });
  });
});
