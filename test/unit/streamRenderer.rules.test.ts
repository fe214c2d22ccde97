import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Pacer, Urgency } from '../../src/core/editPacer.js';
import {
  ANSWER_FILE,
  finalChunks,
  liveChunks,
  MEDIA_STATUS,
  OVERFLOW_FINAL,
  OVERFLOW_LIVE,
  REASONING_FILE,
  statusLine,
  StreamRenderer,
  THINKING_STATUS,
  waitingStatus,
  WRITING_MARKER,
  type RendererOptions,
  type ReplySurface,
  type SendExtras,
} from '../../src/core/streamRenderer.js';

interface Msg {
  id: number;
  /** The message before it, as the renderer passed it to post. */
  previous: number | undefined;
  sends: { content: string; extras: SendExtras | undefined; at: number }[];
}

/** A surface that answers at once (or fails edits while told to), recording every send and when it was made. */
function recording() {
  const messages: Msg[] = [];
  let failEdits: unknown;
  let typings = 0;
  const surface: ReplySurface<Msg> = {
    post: async (content, _index, previous, extras) => {
      const m: Msg = { id: messages.length, previous: previous?.id, sends: [{ content, extras, at: Date.now() }] };
      messages.push(m);
      return m;
    },
    edit: async (message, content, _index, extras) => {
      if (failEdits) throw failEdits;
      message.sends.push({ content, extras, at: Date.now() });
    },
    typing: async () => {
      typings += 1;
    },
  };
  return {
    surface,
    messages,
    typings: () => typings,
    failEditsWith: (err: unknown) => (failEdits = err),
  };
}

/** A pacer that grants every slot at once (or only when the test says), and says whether typing may go. */
function testPacer() {
  const log: string[] = [];
  let free = true;
  let manual = false;
  const waiting: (() => void)[] = [];
  let n = 0;
  const pacer: Pacer = {
    acquire: (urgency: Urgency) => {
      const id = ++n;
      log.push(`acquire ${id} ${urgency}`);
      return new Promise((resolve) => {
        const give = () => resolve({ done: () => log.push(`done ${id}`), cancel: () => log.push(`cancel ${id}`) });
        if (manual) waiting.push(give);
        else give();
      });
    },
    tryAcquire: () => free,
  };
  return {
    pacer,
    log,
    setFree: (f: boolean) => (free = f),
    holdSlots: () => (manual = true),
    grant: () => (waiting.shift() as () => void)(),
  };
}

/** Lets every pending promise callback run without moving the fake clock. */
async function settle() {
  for (let i = 0; i < 50; i++) await Promise.resolve();
}

const options: RendererOptions = { classify: () => 'retry', onGone: () => {} };

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('what users read', () => {
  it('says how many are ahead while waiting for Sogni, and nothing about a count when none are', () => {
    expect(waitingStatus(0)).toBe('⏳ Waiting for Sogni…');
    expect(waitingStatus(1)).toBe('⏳ Waiting for Sogni — 1 ahead of you');
    expect(waitingStatus(3)).toBe('⏳ Waiting for Sogni — 3 ahead of you');
  });

  it('names the statuses and files as the README does', () => {
    expect(THINKING_STATUS).toBe('💭 thinking…');
    expect(MEDIA_STATUS).toBe('🎨 making it…');
    expect(ANSWER_FILE).toBe('answer.md');
    expect(REASONING_FILE).toBe('reasoning.txt');
    expect(OVERFLOW_LIVE).toBe('-# …continued in answer.md when the answer is done');
    expect(OVERFLOW_FINAL).toBe('-# 📎 …continued in answer.md, attached here with the whole answer');
  });

  it('a status is cut to 24 characters, its last one an ellipsis', () => {
    expect(statusLine('x'.repeat(24))).toBe(`-# ${'x'.repeat(24)}`);
    expect(statusLine('x'.repeat(25))).toBe(`-# ${'x'.repeat(23)}…`);
  });
});

describe('liveChunks', () => {
  it('shows nothing for no text and no status, and a status alone in full', () => {
    expect(liveChunks('  ')).toEqual([]);
    expect(liveChunks('', 'a status far longer than twenty-four characters')).toEqual(['-# a status far longer than twenty-four characters']);
  });

  it('closes an open code block before the writing marker, and puts the status under it', () => {
    expect(liveChunks('Code:\n```py\nx = 1')).toEqual([`Code:\n\`\`\`py\nx = 1\n\`\`\`\n${WRITING_MARKER}`]);
    expect(liveChunks('Hello', THINKING_STATUS)).toEqual([`Hello${WRITING_MARKER}\n-# ${THINKING_STATUS}`]);
  });

  it('never makes a message over 2,000 characters, even from text without boundaries', () => {
    const chunks = liveChunks('x'.repeat(5000), THINKING_STATUS);
    expect(chunks.length).toBeGreaterThan(2);
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(2000);
  });
});

describe('finalChunks', () => {
  it('an empty answer shows an ellipsis, or the notice alone (cut to 2,000)', () => {
    expect(finalChunks('  ')).toEqual({ chunks: ['…'], overflow: false });
    expect(finalChunks('', '⚠️ failed')).toEqual({ chunks: ['⚠️ failed'], overflow: false });
    expect(finalChunks('', 'n'.repeat(2500))).toEqual({ chunks: ['n'.repeat(2000)], overflow: false });
  });

  it('closes a code block the answer left open', () => {
    expect(finalChunks('```py\nx = 1')).toEqual({ chunks: ['```py\nx = 1\n```'], overflow: false });
  });

  it('a notice goes under the answer when the message holds both exactly, else in a message of its own', () => {
    expect(finalChunks('a'.repeat(1000), 'n'.repeat(998))).toEqual({ chunks: [`${'a'.repeat(1000)}\n\n${'n'.repeat(998)}`], overflow: false });
    expect(finalChunks('a'.repeat(1000), 'n'.repeat(999))).toEqual({ chunks: ['a'.repeat(1000), 'n'.repeat(999)], overflow: false });
  });

  it('with no message to spare, a notice that does not fit cuts the answer, which goes whole in the file', () => {
    const { chunks, overflow } = finalChunks('a'.repeat(1500), 'n'.repeat(600), 1);
    expect(overflow).toBe(true);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]?.endsWith(`\n\n${OVERFLOW_FINAL}\n${'n'.repeat(600)}`)).toBe(true);
    expect(chunks[0]?.length).toBeLessThanOrEqual(2000);
  });

  it('a notice under an overflowing answer is cut to 1,000 characters', () => {
    const { chunks, overflow } = finalChunks('word '.repeat(1000), 'n'.repeat(1500), 1);
    expect(overflow).toBe(true);
    expect(chunks[0]?.endsWith(`${OVERFLOW_FINAL}\n${'n'.repeat(1000)}`)).toBe(true);
  });
});

describe('StreamRenderer rules', () => {
  it('types until the first message is posted, refreshing every 8 s, and leaves no timer behind', async () => {
    const rec = recording();
    const p = testPacer();
    const renderer = new StreamRenderer(rec.surface, p.pacer, options);
    renderer.startTyping();
    expect(rec.typings()).toBe(1);
    await vi.advanceTimersByTimeAsync(7999);
    expect(rec.typings()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(rec.typings()).toBe(2);
    renderer.update('Hello');
    await settle();
    expect(rec.messages).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(rec.typings()).toBe(2);
  });

  it('typing is skipped while the bot has no free slot', async () => {
    const rec = recording();
    const p = testPacer();
    p.setFree(false);
    const renderer = new StreamRenderer(rec.surface, p.pacer, options);
    renderer.startTyping();
    await vi.advanceTimersByTimeAsync(8000);
    expect(rec.typings()).toBe(0);
    p.setFree(true);
    await vi.advanceTimersByTimeAsync(8000);
    expect(rec.typings()).toBe(1);
  });

  it('typing stops when the answer finishes before any message was posted', async () => {
    const rec = recording();
    const p = testPacer();
    p.holdSlots();
    const renderer = new StreamRenderer(rec.surface, p.pacer, options);
    renderer.startTyping();
    void renderer.finish('done');
    await vi.advanceTimersByTimeAsync(30_000);
    expect(rec.typings()).toBe(1);
  });

  it('a surface without typing is left alone', () => {
    const rec = recording();
    const { typing: _, ...noTyping } = rec.surface;
    const renderer = new StreamRenderer(noTyping, testPacer().pacer, options);
    renderer.startTyping();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('each follow-up message is posted after the one before it', async () => {
    const rec = recording();
    const renderer = new StreamRenderer(rec.surface, testPacer().pacer, options);
    const done = renderer.finish('x'.repeat(5000));
    await vi.advanceTimersByTimeAsync(1000);
    await done;
    expect(rec.messages.map((m) => m.previous)).toEqual([undefined, 0, 1]);
  });

  it('edits of one message wait the minimum interval, counted from when the last one left', async () => {
    const rec = recording();
    const renderer = new StreamRenderer(rec.surface, testPacer().pacer, { ...options, minEditIntervalMs: 3000 });
    renderer.update('a');
    await settle();
    await vi.advanceTimersByTimeAsync(100);
    renderer.update('ab');
    await vi.advanceTimersByTimeAsync(2899);
    expect(rec.messages[0]?.sends).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(rec.messages[0]?.sends.map((s) => [s.content, s.at])).toEqual([
      [`a${WRITING_MARKER}`, 0],
      [`ab${WRITING_MARKER}`, 3000],
    ]);
  });

  it('once the interval has passed, the next edit goes out at once, with no timer in between', async () => {
    const rec = recording();
    const renderer = new StreamRenderer(rec.surface, testPacer().pacer, { ...options, minEditIntervalMs: 3000 });
    renderer.update('a');
    await settle();
    await vi.advanceTimersByTimeAsync(3000);
    renderer.update('ab');
    await settle();
    expect(rec.messages[0]?.sends.at(-1)?.content).toBe(`ab${WRITING_MARKER}`);
    await vi.advanceTimersByTimeAsync(5000);
    renderer.update('abc');
    await settle();
    expect(rec.messages[0]?.sends.at(-1)?.content).toBe(`abc${WRITING_MARKER}`);
  });

  it('the final edit does not wait for the interval, and leaves no timer behind', async () => {
    const rec = recording();
    const renderer = new StreamRenderer(rec.surface, testPacer().pacer, { ...options, minEditIntervalMs: 3000 });
    renderer.update('a');
    await settle();
    const done = renderer.finish('a b');
    await settle();
    expect(rec.messages[0]?.sends.at(-1)).toMatchObject({ content: 'a b', at: 0 });
    await done;
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a failing send is tried three times, 1 s then 2 s apart, then the answer is given up once', async () => {
    const rec = recording();
    const attempts: number[] = [];
    const gone: unknown[] = [];
    const renderer = new StreamRenderer(rec.surface, testPacer().pacer, {
      classify: () => 'retry',
      onGone: (err) => gone.push(err),
      onSendError: (_err, attempt) => attempts.push(attempt),
    });
    renderer.update('a');
    await settle();
    const failure = new Error('500');
    rec.failEditsWith(failure);
    const done = renderer.finish('a b');
    await settle();
    expect(attempts).toEqual([1]);
    await vi.advanceTimersByTimeAsync(999);
    expect(attempts).toEqual([1]);
    await vi.advanceTimersByTimeAsync(1);
    expect(attempts).toEqual([1, 2]);
    await vi.advanceTimersByTimeAsync(1999);
    expect(attempts).toEqual([1, 2]);
    await vi.advanceTimersByTimeAsync(1);
    expect(attempts).toEqual([1, 2, 3]);
    expect(await done).toMatchObject({ delivered: false });
    expect(gone).toEqual([failure]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('a send that works resets the count of failures', async () => {
    const rec = recording();
    const attempts: number[] = [];
    const renderer = new StreamRenderer(rec.surface, testPacer().pacer, { ...options, onSendError: (_e, a) => attempts.push(a) });
    renderer.update('a');
    await settle();
    rec.failEditsWith(new Error('500'));
    renderer.update('a b');
    await vi.advanceTimersByTimeAsync(1000);
    await vi.advanceTimersByTimeAsync(2000);
    rec.failEditsWith(undefined);
    await vi.advanceTimersByTimeAsync(2000);
    rec.failEditsWith(new Error('500'));
    renderer.update('a b c');
    await vi.advanceTimersByTimeAsync(5000);
    // Two failures, a success, then three failures in a row: only those give the answer up.
    expect(attempts).toEqual([1, 2, 1, 2, 3]);
    expect(renderer.gone).toBe(true);
  });

  it('the whole answer attached to an overflowing answer is trimmed', async () => {
    const rec = recording();
    const renderer = new StreamRenderer(rec.surface, testPacer().pacer, { ...options, maxMessages: 1 });
    const text = `\n  ${'word '.repeat(1000)}\n`;
    const done = renderer.finish(text);
    await vi.advanceTimersByTimeAsync(1000);
    await done;
    expect(rec.messages[0]?.sends[0]?.extras?.files).toEqual([{ name: ANSWER_FILE, text: text.trim() }]);
  });

  it('files go up even when the message already shows its final text (a shrunk answer)', async () => {
    const rec = recording();
    const renderer = new StreamRenderer(rec.surface, testPacer().pacer, options);
    renderer.update('x'.repeat(2500));
    await vi.advanceTimersByTimeAsync(3000);
    const first = rec.messages[0]?.sends.at(-1)?.content ?? '';
    const reasoning = { name: REASONING_FILE, text: 'why' };
    const done = renderer.finish(first, undefined, [reasoning]);
    await vi.advanceTimersByTimeAsync(5000);
    await done;
    expect(rec.messages[0]?.sends.at(-1)).toMatchObject({ content: first, extras: { files: [reasoning] } });
    expect(rec.messages[1]?.sends.at(-1)).toMatchObject({ content: '…', extras: { last: true } });
  });

  it('a message blanked while streaming still gets the last mark at the end', async () => {
    const rec = recording();
    const renderer = new StreamRenderer(rec.surface, testPacer().pacer, options);
    renderer.update('a'.repeat(2500));
    await vi.advanceTimersByTimeAsync(3000);
    renderer.update('short');
    await vi.advanceTimersByTimeAsync(3000);
    expect(rec.messages[1]?.sends.at(-1)?.content).toBe('…');
    const done = renderer.finish('short');
    await vi.advanceTimersByTimeAsync(3000);
    await done;
    expect(rec.messages[1]?.sends.at(-1)).toEqual({ content: '…', extras: { last: true }, at: expect.any(Number) });
    expect(rec.messages[1]?.sends.filter((s) => s.extras?.last)).toHaveLength(1);
  });

  it('a message posted while streaming that turns out to be the last gets the last mark', async () => {
    const rec = recording();
    const p = testPacer();
    p.holdSlots();
    const renderer = new StreamRenderer(rec.surface, p.pacer, options);
    renderer.update('x'.repeat(2500));
    await settle();
    p.grant();
    await settle();
    const first = rec.messages[0]?.sends[0]?.content ?? '';
    expect(first).toBe('x'.repeat(first.length));
    // The second message's slot comes only after the answer turned out to be the first message alone.
    const done = renderer.finish(first);
    p.grant();
    await settle();
    p.grant();
    await done;
    expect(rec.messages).toHaveLength(1);
    expect(rec.messages[0]?.sends.at(-1)).toMatchObject({ content: first, extras: { last: true } });
    expect(p.log).toEqual(['acquire 1 new', 'done 1', 'acquire 2 new', 'cancel 2', 'acquire 3 final', 'done 3']);
  });
});

describe('StreamRenderer after finish', () => {
  it('an update after finish changes nothing on screen', async () => {
    const rec = recording();
    const renderer = new StreamRenderer(rec.surface, testPacer().pacer, options);
    renderer.update('a');
    await settle();
    const done = renderer.finish('final answer');
    renderer.update('late text', THINKING_STATUS);
    await vi.advanceTimersByTimeAsync(5000);
    await done;
    renderer.update('later text');
    await vi.advanceTimersByTimeAsync(5000);
    expect(rec.messages).toHaveLength(1);
    expect(rec.messages[0]?.sends.map((s) => s.content)).toEqual([`a${WRITING_MARKER}`, 'final answer']);
  });
});
