import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { sleep } from '../../src/core/sleep.js';

/** Whether `promise` has settled once queued callbacks ran (fake timers do not advance). */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await vi.advanceTimersByTimeAsync(0);
  return done;
}

describe('sleep', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('waits the whole time when nothing aborts it', async () => {
    const wait = sleep(1000, new AbortController().signal);
    await vi.advanceTimersByTimeAsync(999);
    expect(await settled(wait)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(wait)).toBe(true);
  });

  it('wakes as soon as the signal aborts, resolving rather than rejecting', async () => {
    const controller = new AbortController();
    const wait = sleep(60_000, controller.signal);
    await vi.advanceTimersByTimeAsync(10);
    expect(await settled(wait)).toBe(false);
    controller.abort();
    await expect(wait).resolves.toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not wait at all on a signal that has already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const wait = sleep(60_000, controller.signal);
    expect(await settled(wait)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('leaves no listener on a long-lived signal once the time is up', async () => {
    const controller = new AbortController();
    for (let i = 0; i < 3; i += 1) {
      const wait = sleep(100, controller.signal);
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(100);
      await wait;
    }
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
