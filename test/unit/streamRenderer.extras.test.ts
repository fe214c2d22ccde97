import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChannelPacer } from '../../src/core/editPacer.js';
import { ANSWER_FILE, REASONING_FILE, StreamRenderer, type ReplySurface, type SendExtras } from '../../src/core/streamRenderer.js';

interface Sent {
  id: number;
  /** Every send of the message: its content and extras. */
  sends: { content: string; extras: SendExtras | undefined }[];
}

function recording() {
  const messages: Sent[] = [];
  const surface: ReplySurface<Sent> = {
    post: async (content, _index, _previous, extras) => {
      const m = { id: messages.length, sends: [{ content, extras }] };
      messages.push(m);
      return m;
    },
    edit: async (message, content, _index, extras) => {
      message.sends.push({ content, extras });
    },
  };
  return { surface, messages };
}

const options = { classify: () => 'retry' as const, onGone: () => {} };

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('StreamRenderer extras', () => {
  it('marks only the final send of the last message as last, with the extra files', async () => {
    const rec = recording();
    const renderer = new StreamRenderer(rec.surface, new ChannelPacer(), { ...options, maxMessages: 6 });
    renderer.update('x'.repeat(2500));
    await vi.advanceTimersByTimeAsync(3000);
    const reasoning = { name: REASONING_FILE, text: 'because' };
    const done = renderer.finish('x'.repeat(2600), undefined, [reasoning]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect((await done).delivered).toBe(true);
    expect(rec.messages).toHaveLength(2);
    const lastFlags = rec.messages.map((m) => m.sends.map((s) => s.extras?.last === true));
    expect(lastFlags[0]?.every((f) => !f)).toBe(true);
    expect(lastFlags[1]?.at(-1)).toBe(true);
    expect(lastFlags[1]?.filter(Boolean)).toHaveLength(1);
    expect(rec.messages[1]?.sends.at(-1)?.extras?.files).toEqual([reasoning]);
    expect(rec.messages[0]?.sends.some((s) => s.extras?.files)).toBe(false);
  });

  it('puts answer.md and reasoning.txt together on the last message of an overflowing answer', async () => {
    const rec = recording();
    const renderer = new StreamRenderer(rec.surface, new ChannelPacer(), { ...options, maxMessages: 1 });
    const text = 'word '.repeat(1000);
    const done = renderer.finish(text, undefined, [{ name: REASONING_FILE, text: 'r' }]);
    await vi.advanceTimersByTimeAsync(10_000);
    await done;
    expect(rec.messages).toHaveLength(1);
    expect(rec.messages[0]?.sends[0]?.extras?.files?.map((f) => f.name)).toEqual([ANSWER_FILE, REASONING_FILE]);
    expect(rec.messages[0]?.sends[0]?.extras?.last).toBe(true);
  });

  it('still sends the last mark when the final text is what the message already shows', async () => {
    const rec = recording();
    const renderer = new StreamRenderer(rec.surface, new ChannelPacer(), options);
    // A shrunk answer leaves a blanked second message: it is the last one, and gets the mark once.
    renderer.update('a'.repeat(2500));
    await vi.advanceTimersByTimeAsync(3000);
    const done = renderer.finish('short');
    await vi.advanceTimersByTimeAsync(10_000);
    await done;
    expect(rec.messages).toHaveLength(2);
    expect(rec.messages[1]?.sends.at(-1)).toEqual({ content: '…', extras: { last: true } });
    expect(rec.messages[0]?.sends.at(-1)).toEqual({ content: 'short', extras: undefined });
  });
});
