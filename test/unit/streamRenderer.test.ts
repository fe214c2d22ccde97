import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChannelPacer } from '../../src/core/editPacer.js';
import { statusLine, StreamRenderer, THINKING_STATUS, WRITING_MARKER, type ReplySurface } from '../../src/core/streamRenderer.js';

interface Sent {
  id: number;
  contents: string[];
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
    post: (content) =>
      slow(() => {
        const m = { id: messages.length, contents: [content] };
        messages.push(m);
        return m;
      }),
    edit: (message, content) =>
      slow(() => {
        if (failEdits) throw failEdits;
        message.contents.push(content);
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
});
