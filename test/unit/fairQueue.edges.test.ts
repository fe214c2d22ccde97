import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FairQueue, WaitAbortedError, type Slot } from '../../src/core/fairQueue.js';

const T0 = 1_000_000;

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** A promise's state once queued callbacks have run. */
async function stateOf(promise: Promise<unknown>): Promise<'pending' | 'resolved' | 'rejected'> {
  let state: 'pending' | 'resolved' | 'rejected' = 'pending';
  promise.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  await vi.advanceTimersByTimeAsync(0);
  return state;
}

describe('FairQueue setup and errors', () => {
  it('refuses a limit or a per-person cap below 1, with a reason', () => {
    expect(() => new FairQueue({ limit: 0, windowMs: 1000, maxActivePerUser: 1 })).toThrow(new RangeError('limit and maxActivePerUser must be at least 1'));
    expect(() => new FairQueue({ limit: 1, windowMs: 1000, maxActivePerUser: 0 })).toThrow(RangeError);
    expect(() => new FairQueue({ limit: 1, windowMs: 1000, maxActivePerUser: 1 })).not.toThrow();
  });

  it('rejects an abandoned wait with a named error that carries the abort reason', async () => {
    const queue = new FairQueue({ limit: 1, windowMs: 1000, maxActivePerUser: 1 });
    const controller = new AbortController();
    controller.abort('message deleted');
    const err = await queue.enter('a', { signal: controller.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitAbortedError);
    expect(err).toMatchObject({ name: 'WaitAbortedError', message: 'Stopped waiting for a turn', cause: 'message deleted' });
  });
});

describe('FairQueue bookkeeping', () => {
  it('does not count a resend as another place in flight', async () => {
    const queue = new FairQueue({ limit: 10, windowMs: 1000, maxActivePerUser: 1 });
    const slot = await queue.enter('a');
    await slot.resend();
    expect(queue.activeOf('a')).toBe(1);
    slot.release();
    expect(queue.activeOf('a')).toBe(0);
    // The place is free again: the next request of the same person goes at once.
    expect(await stateOf(queue.enter('a'))).toBe('resolved');
  });

  it('keeps a request waiting, not failed, while its person is at their cap and tokens are free', async () => {
    const queue = new FairQueue({ limit: 10, windowMs: 1000, maxActivePerUser: 1 });
    const first = await queue.enter('a');
    const second = queue.enter('a');
    expect(await stateOf(second)).toBe('pending');
    expect(queue.waiting).toBe(1);
    first.release();
    expect(await stateOf(second)).toBe('resolved');
  });

  it('leaves no abort listener behind once a wait is granted or abandoned', async () => {
    const queue = new FairQueue({ limit: 1, windowMs: 1000, maxActivePerUser: 10 });
    const granted = new AbortController();
    await queue.enter('a', { signal: granted.signal });
    expect(getEventListeners(granted.signal, 'abort')).toHaveLength(0);

    const abandoned = new AbortController();
    const waiting = queue.enter('b', { signal: abandoned.signal });
    expect(getEventListeners(abandoned.signal, 'abort')).toHaveLength(1);
    abandoned.abort();
    await expect(waiting).rejects.toBeInstanceOf(WaitAbortedError);
    expect(getEventListeners(abandoned.signal, 'abort')).toHaveLength(0);
  });

  it('lets an aborted resend leave: it is no longer waiting and takes no token', async () => {
    const queue = new FairQueue({ limit: 1, windowMs: 1000, maxActivePerUser: 10 });
    const slot = await queue.enter('a');
    const controller = new AbortController();
    const retry = slot.resend({ signal: controller.signal });
    expect(queue.waiting).toBe(1);
    controller.abort();
    await expect(retry).rejects.toBeInstanceOf(WaitAbortedError);
    expect(queue.waiting).toBe(0);
    let at: number | undefined;
    void queue.enter('b').then(() => (at = Date.now() - T0));
    await vi.advanceTimersByTimeAsync(1000);
    expect(at).toBe(1000);
  });

  it('removes the right one of two aborted resends', async () => {
    const queue = new FairQueue({ limit: 1, windowMs: 1000, maxActivePerUser: 10 });
    const slot = await queue.enter('a');
    const controller = new AbortController();
    const order: string[] = [];
    const kept = slot.resend().then(() => order.push('kept'));
    const dropped = slot.resend({ signal: controller.signal });
    controller.abort();
    await expect(dropped).rejects.toBeInstanceOf(WaitAbortedError);
    expect(queue.waiting).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    await kept;
    expect(order).toEqual(['kept']);
  });

  it('keeps a person’s other requests in line when one of them is abandoned', async () => {
    const queue = new FairQueue({ limit: 1, windowMs: 1000, maxActivePerUser: 10 });
    await queue.enter('x');
    const controller = new AbortController();
    const dropped = queue.enter('a', { signal: controller.signal });
    let kept = false;
    void queue.enter('a').then(() => (kept = true));
    controller.abort();
    await expect(dropped).rejects.toBeInstanceOf(WaitAbortedError);
    expect(queue.waiting).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(kept).toBe(true);
  });

  it('does not stall the others when the first person in turn order leaves the line', async () => {
    const queue = new FairQueue({ limit: 1, windowMs: 1000, maxActivePerUser: 10 });
    await queue.enter('x');
    const controller = new AbortController();
    const dropped = queue.enter('b', { signal: controller.signal });
    let served = false;
    void queue.enter('a').then(() => (served = true));
    controller.abort();
    await expect(dropped).rejects.toBeInstanceOf(WaitAbortedError);
    await vi.advanceTimersByTimeAsync(1000);
    expect(served).toBe(true);
  });

  it('holds no timer once nobody is waiting', async () => {
    const queue = new FairQueue({ limit: 1, windowMs: 1000, maxActivePerUser: 10 });
    const slots: Slot[] = [await queue.enter('a')];
    void queue.enter('b').then((s) => slots.push(s));
    await vi.advanceTimersByTimeAsync(1000);
    expect(slots).toHaveLength(2);
    for (const s of slots) s.release();
    expect(vi.getTimerCount()).toBe(0);
  });
});
