import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChannelPacer } from '../../src/core/editPacer.js';
import { LatestEditor } from '../../src/core/latestEditor.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A send that takes `latencyMs` and records what it sent and how many were in flight at once. */
function recorder(latencyMs = 100) {
  const sent: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let fail: unknown;
  const send = async (payload: string) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, latencyMs));
    inFlight -= 1;
    if (fail) throw fail;
    sent.push(payload);
  };
  return { sent, send, maxInFlight: () => maxInFlight, failWith: (err: unknown) => (fail = err) };
}

const pacer = () => new ChannelPacer({ limit: 5, windowMs: 5000, marginMs: 250 });

describe('LatestEditor', () => {
  it('sends only the newest state when its slot comes, one request at a time, never a stale one after a newer', async () => {
    const r = recorder();
    const editor = new LatestEditor(r.send, pacer(), { key: (p) => p, onError: () => 'continue' });
    for (let i = 1; i <= 30; i++) {
      editor.show(`${i}%`);
      await vi.advanceTimersByTimeAsync(100);
    }
    await vi.advanceTimersByTimeAsync(5000);
    expect(r.maxInFlight()).toBe(1);
    expect(r.sent.length).toBeLessThan(8);
    expect(r.sent.at(-1)).toBe('30%');
    const numbers = r.sent.map((s) => Number.parseInt(s, 10));
    expect([...numbers].sort((a, b) => a - b)).toEqual(numbers);
  });

  it('does not send what is already on screen', async () => {
    const r = recorder();
    const editor = new LatestEditor(r.send, pacer(), { key: (p) => p, onError: () => 'continue' });
    editor.show('a');
    await vi.advanceTimersByTimeAsync(2000);
    editor.show('a');
    editor.show('b');
    editor.show('a');
    await vi.advanceTimersByTimeAsync(3000);
    expect(r.sent).toEqual(['a']);
  });

  it('stops for good when a send says the message is gone', async () => {
    const r = recorder();
    const editor = new LatestEditor(r.send, pacer(), { key: (p) => p, onError: () => 'stop' });
    r.failWith(new Error('Invalid Webhook Token'));
    editor.show('1');
    await vi.advanceTimersByTimeAsync(1000);
    expect(editor.open).toBe(false);
    editor.show('2');
    await vi.advanceTimersByTimeAsync(3000);
    expect(r.sent).toEqual([]);
  });

  it('close waits for the edit in flight and drops what was pending, so nothing lands after the result', async () => {
    const r = recorder(500);
    const editor = new LatestEditor(r.send, pacer(), { key: (p) => p, onError: () => 'continue' });
    editor.show('1');
    await vi.advanceTimersByTimeAsync(100);
    editor.show('2');
    let closed = false;
    void editor.close().then(() => (closed = true));
    await vi.advanceTimersByTimeAsync(100);
    expect(closed).toBe(false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(closed).toBe(true);
    await vi.advanceTimersByTimeAsync(5000);
    expect(r.sent).toEqual(['1']);
  });
});
