import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChannelPacer } from '../../src/core/editPacer.js';
import {
  ANSWER_FILE,
  finalChunks,
  OVERFLOW_FINAL,
  OVERFLOW_LIVE,
  statusLine,
  StreamRenderer,
  THINKING_STATUS,
  WRITING_MARKER,
  type FileAttachment,
  type ReplySurface,
} from '../../src/core/streamRenderer.js';

interface Sent {
  id: number;
  contents: string[];
  /** Files uploaded with the message, in order (on its post or an edit). */
  files: FileAttachment[];
  /** Which of `contents` were sent as the answer's last, final message. */
  closedAt: number[];
}

/** A surface that records sends and takes `latencyMs` per request, counting overlapping requests. */
function recordingSurface(latencyMs = 200) {
  const messages: Sent[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let failEdits: unknown;
  const slow = async <T>(fn: () => T): Promise<T> => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, latencyMs));
    inFlight -= 1;
    return fn();
  };
  const surface: ReplySurface<Sent> = {
    post: (content, _index, _previous, extras) =>
      slow(() => {
        const m: Sent = { id: messages.length, contents: [content], files: [...(extras?.files ?? [])], closedAt: extras?.last ? [0] : [] };
        messages.push(m);
        return m;
      }),
    edit: (message, content, _index, extras) =>
      slow(() => {
        if (failEdits) throw failEdits;
        message.contents.push(content);
        message.files.push(...(extras?.files ?? []));
        if (extras?.last) message.closedAt.push(message.contents.length - 1);
      }),
  };
  return {
    surface,
    messages,
    get maxInFlight() {
      return maxInFlight;
    },
    failEditsWith(err: unknown) {
      failEdits = err;
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

const options = { classify: () => 'retry' as const, onGone: () => {} };

describe('StreamRenderer', () => {
  it('shows the first text at once, then coalesces edits to about one a second with only the newest text', async () => {
    const rec = recordingSurface(200);
    const renderer = new StreamRenderer(rec.surface, new ChannelPacer(), options);
    let text = '';
    for (let i = 0; i < 50; i++) {
      text += `w${i} `;
      renderer.update(text);
      await vi.advanceTimersByTimeAsync(100); // 10 tokens a second for 5 s
    }
    const outcome = renderer.finish(text);
    await vi.advanceTimersByTimeAsync(5000);
    await outcome;
    const [m] = rec.messages;
    expect(rec.messages).toHaveLength(1);
    expect(m?.contents[0]).toBe(`w0${WRITING_MARKER}`);
    // 5 s of streaming at ~1 edit/s: a handful of edits, not 50.
    expect(m?.contents.length).toBeGreaterThanOrEqual(4);
    expect(m?.contents.length).toBeLessThanOrEqual(8);
    expect(m?.contents.at(-1)).toBe(text.trim());
    expect(rec.maxInFlight).toBe(1);
    // Every intermediate edit shows a prefix of the answer and the writing marker.
    for (const c of m?.contents.slice(0, -1) ?? []) {
      expect(c.endsWith(WRITING_MARKER)).toBe(true);
      expect(text.startsWith(c.slice(0, -WRITING_MARKER.length))).toBe(true);
    }
  });

  it('continues a long answer in follow-up messages and finishes each one', async () => {
    const rec = recordingSurface(10);
    const renderer = new StreamRenderer(rec.surface, new ChannelPacer(), options);
    const text = Array.from({ length: 30 }, (_, i) => `Paragraph ${i}: ${'lorem ipsum '.repeat(15).trim()}`).join('\n\n');
    for (let n = 200; n < text.length; n += 200) {
      renderer.update(text.slice(0, n));
      await vi.advanceTimersByTimeAsync(300);
    }
    const done = renderer.finish(text);
    await vi.advanceTimersByTimeAsync(30_000);
    const outcome = await done;
    expect(outcome.delivered).toBe(true);
    expect(rec.messages.length).toBeGreaterThan(2);
    const finals = rec.messages.map((m) => m.contents.at(-1) ?? '');
    for (const f of finals) {
      expect(f.length).toBeLessThanOrEqual(2000);
      expect(f).not.toContain(WRITING_MARKER);
    }
    expect(finals.join('\n\n')).toBe(text);
  });

  it('shows a thinking status until the answer starts', async () => {
    const rec = recordingSurface(10);
    const renderer = new StreamRenderer(rec.surface, new ChannelPacer(), options);
    renderer.update('', THINKING_STATUS);
    await vi.advanceTimersByTimeAsync(50);
    expect(rec.messages[0]?.contents[0]).toBe(statusLine(THINKING_STATUS));
    const done = renderer.finish('42');
    await vi.advanceTimersByTimeAsync(2000);
    await done;
    expect(rec.messages[0]?.contents.at(-1)).toBe('42');
  });

  it('puts the notice after a partial answer', async () => {
    const rec = recordingSurface(10);
    const renderer = new StreamRenderer(rec.surface, new ChannelPacer(), options);
    renderer.update('Half an ans');
    await vi.advanceTimersByTimeAsync(50);
    const done = renderer.finish('Half an ans', '⚠️ dropped');
    await vi.advanceTimersByTimeAsync(2000);
    await done;
    expect(rec.messages[0]?.contents.at(-1)).toBe('Half an ans\n\n⚠️ dropped');
  });

  it('stops and reports when the message is gone', async () => {
    const rec = recordingSurface(10);
    const gone: unknown[] = [];
    const renderer = new StreamRenderer(rec.surface, new ChannelPacer(), {
      classify: () => 'gone',
      onGone: (err) => gone.push(err),
    });
    renderer.update('first');
    await vi.advanceTimersByTimeAsync(50);
    rec.failEditsWith(new Error('Unknown Message'));
    renderer.update('first second');
    await vi.advanceTimersByTimeAsync(2000);
    expect(gone).toHaveLength(1);
    expect(renderer.gone).toBe(true);
    const outcome = await renderer.finish('first second third');
    expect(outcome.delivered).toBe(false);
  });

  it('retries a failed final edit so the final text lands', async () => {
    const rec = recordingSurface(10);
    const renderer = new StreamRenderer(rec.surface, new ChannelPacer(), options);
    renderer.update('one');
    await vi.advanceTimersByTimeAsync(50);
    rec.failEditsWith(new Error('500'));
    const done = renderer.finish('one two');
    await vi.advanceTimersByTimeAsync(1500);
    rec.failEditsWith(undefined);
    await vi.advanceTimersByTimeAsync(5000);
    const outcome = await done;
    expect(outcome.delivered).toBe(true);
    expect(rec.messages[0]?.contents.at(-1)).toBe('one two');
  });

  describe('answers longer than maxMessages', () => {
    const longAnswer = (chars: number) => {
      const paragraphs: string[] = [];
      for (let i = 0; paragraphs.join('\n\n').length < chars; i++) paragraphs.push(`Paragraph ${i}: ${'lorem ipsum dolor sit amet '.repeat(7).trim()}.`);
      return paragraphs.join('\n\n').slice(0, chars).trim();
    };
    /** The answer text a message shows, without the overflow line, notice or marker under it. */
    const shownText = (content: string) => content.split(`\n\n${OVERFLOW_FINAL}`)[0] ?? '';
    const squash = (text: string) => text.replace(/\s+/g, ' ').trim();

    it('never posts more than maxMessages while streaming, and attaches the whole answer to the last one at the end', async () => {
      const rec = recordingSurface(20);
      const renderer = new StreamRenderer(rec.surface, new ChannelPacer(), { ...options, maxMessages: 3 });
      const text = longAnswer(20_000);
      let sawOverflowLine = false;
      for (let n = 500; n < text.length; n += 500) {
        renderer.update(text.slice(0, n));
        await vi.advanceTimersByTimeAsync(400);
        expect(rec.messages.length).toBeLessThanOrEqual(3);
        for (const m of rec.messages) for (const c of m.contents) expect(c.length).toBeLessThanOrEqual(2000);
        sawOverflowLine ||= rec.messages[2]?.contents.at(-1)?.endsWith(OVERFLOW_LIVE) ?? false;
      }
      expect(sawOverflowLine).toBe(true);
      // Once the messages are full they stop changing: no edits are spent while the rest streams.
      const editsBeforeFinish = rec.messages.reduce((n, m) => n + m.contents.length, 0);
      renderer.update(text.slice(0, text.length - 1));
      await vi.advanceTimersByTimeAsync(3000);
      expect(rec.messages.reduce((n, m) => n + m.contents.length, 0)).toBe(editsBeforeFinish);

      const done = renderer.finish(text);
      await vi.advanceTimersByTimeAsync(10_000);
      expect((await done).delivered).toBe(true);
      expect(rec.messages).toHaveLength(3);
      const finals = rec.messages.map((m) => m.contents.at(-1) ?? '');
      for (const f of finals) {
        expect(f.length).toBeLessThanOrEqual(2000);
        expect(f).not.toContain(WRITING_MARKER);
      }
      expect(finals[2]?.endsWith(`\n\n${OVERFLOW_FINAL}`)).toBe(true);
      expect(rec.messages.map((m) => m.files)).toEqual([[], [], [{ name: ANSWER_FILE, text }]]);
      // What the messages show is the start of the answer; the file has all of it.
      expect(squash(text).startsWith(squash(finals.map(shownText).join(' ')))).toBe(true);
    });

    it('uploads the file with the last message when that message is only posted at the end', async () => {
      const rec = recordingSurface(10);
      const renderer = new StreamRenderer(rec.surface, new ChannelPacer(), { ...options, maxMessages: 2 });
      const text = longAnswer(9000);
      const done = renderer.finish(text, '⚠️ a notice');
      await vi.advanceTimersByTimeAsync(10_000);
      await done;
      expect(rec.messages.map((m) => m.contents.length)).toEqual([1, 1]);
      expect(rec.messages[1]?.files).toEqual([{ name: ANSWER_FILE, text }]);
      expect(rec.messages[1]?.contents[0]).toMatch(new RegExp(`\n\n${OVERFLOW_FINAL}\n⚠️ a notice$`));
    });

    it('attaches nothing to an answer that fits', async () => {
      const rec = recordingSurface(10);
      const renderer = new StreamRenderer(rec.surface, new ChannelPacer(), { ...options, maxMessages: 6 });
      const text = longAnswer(5000);
      renderer.update(text.slice(0, 3000));
      await vi.advanceTimersByTimeAsync(1000);
      const done = renderer.finish(text);
      await vi.advanceTimersByTimeAsync(10_000);
      await done;
      expect(rec.messages.length).toBeGreaterThan(1);
      expect(rec.messages.flatMap((m) => m.files)).toEqual([]);
      expect(rec.messages.map((m) => m.contents.at(-1)).join('\n\n')).toBe(text);
    });
  });
});

describe('finalChunks', () => {
  const paragraphs = (n: number) => Array.from({ length: n }, (_, i) => `Paragraph ${i}. ${'word '.repeat(60).trim()}`).join('\n\n');

  it('makes room for a long notice in the last message allowed instead of adding a message', () => {
    const text = paragraphs(12); // two full messages
    const notice = `⚠️ ${'a long warning '.repeat(40)}`;
    const { chunks, overflow } = finalChunks(text, notice, 2);
    expect(overflow).toBe(true);
    expect(chunks).toHaveLength(2);
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(2000);
    expect(chunks[1]?.endsWith(`${OVERFLOW_FINAL}\n${notice}`)).toBe(true);
  });

  it('puts a notice in its own message while there is one to spare', () => {
    const text = paragraphs(6);
    const notice = '⚠️ x'.repeat(600);
    const capped = finalChunks(text, notice, 6);
    expect(capped.overflow).toBe(false);
    expect(capped.chunks.at(-1)).toBe(notice.slice(0, 2000));
  });
});
