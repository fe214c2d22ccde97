import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FairQueue, WaitAbortedError, type Slot } from '../../src/core/fairQueue.js';

const T0 = 1_000_000;

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

interface Grant {
  user: string;
  n: number;
  at: number;
  slot: Slot;
}

/** Puts `count` requests from `user` in line, recording each grant; `holdMs` is how long each stays in flight. */
function demand(queue: FairQueue, user: string, count: number, grants: Grant[], holdMs = 0) {
  for (let n = 1; n <= count; n++) {
    void queue.enter(user).then((slot) => {
      grants.push({ user, n, at: Date.now() - T0, slot });
      setTimeout(() => slot.release(), holdMs);
    });
  }
}

function maxInWindow(times: number[], windowMs: number): number {
  let best = 0;
  for (const t of times) best = Math.max(best, times.filter((u) => u >= t && u < t + windowMs).length);
  return best;
}

describe('FairQueue', () => {
  it('never lets more than the limit send in any window, however many people ask', async () => {
    const queue = new FairQueue({ limit: 5, windowMs: 10_000, maxActivePerUser: 2 });
    const grants: Grant[] = [];
    demand(queue, 'a', 12, grants, 300);
    demand(queue, 'b', 12, grants, 1500);
    demand(queue, 'c', 6, grants, 0);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(grants).toHaveLength(30);
    expect(maxInWindow(grants.map((g) => g.at), 10_000)).toBe(5);
    // Five at once, then the next five once the first have left the window: no slower than the limit.
    expect(grants.map((g) => g.at).slice(0, 10)).toEqual([0, 0, 0, 0, 0, 10_000, 10_000, 10_000, 10_000, 10_000]);
  });

  it('adds the margin to the window', async () => {
    const queue = new FairQueue({ limit: 2, windowMs: 1000, marginMs: 250, maxActivePerUser: 10 });
    const grants: Grant[] = [];
    demand(queue, 'a', 4, grants);
    await vi.advanceTimersByTimeAsync(5000);
    expect(grants.map((g) => g.at)).toEqual([0, 0, 1250, 1250]);
  });

  it("takes turns across people: one person's ten requests do not all go before another's one", async () => {
    const queue = new FairQueue({ limit: 1, windowMs: 1000, maxActivePerUser: 10 });
    const grants: Grant[] = [];
    demand(queue, 'a', 10, grants);
    demand(queue, 'b', 1, grants);
    demand(queue, 'c', 2, grants);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(grants.map((g) => `${g.user}${g.n}`)).toEqual(['a1', 'a2', 'b1', 'c1', 'a3', 'c2', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9', 'a10']);
  });

  it('a person who joins later gets the next turn after the current round, not the end of the line', async () => {
    const queue = new FairQueue({ limit: 1, windowMs: 1000, maxActivePerUser: 10 });
    const grants: Grant[] = [];
    demand(queue, 'a', 10, grants);
    demand(queue, 'b', 10, grants);
    await vi.advanceTimersByTimeAsync(3500);
    demand(queue, 'c', 1, grants);
    await vi.advanceTimersByTimeAsync(30_000);
    const order = grants.map((g) => `${g.user}${g.n}`);
    expect(order.indexOf('c1')).toBeLessThanOrEqual(6);
    expect(order.slice(0, 4)).toEqual(['a1', 'a2', 'b1', 'a3']);
  });

  it('keeps each person to their cap in flight, the rest waiting until one ends', async () => {
    const queue = new FairQueue({ limit: 100, windowMs: 1000, maxActivePerUser: 2 });
    const slots: Slot[] = [];
    for (let i = 0; i < 4; i++) void queue.enter('a').then((s) => slots.push(s));
    let bob: Slot | undefined;
    void queue.enter('b').then((s) => (bob = s));
    await vi.advanceTimersByTimeAsync(0);
    expect(slots).toHaveLength(2);
    expect(queue.activeOf('a')).toBe(2);
    expect(bob).toBeDefined();
    expect(queue.waiting).toBe(2);
    slots[0]?.release();
    slots[0]?.release(); // twice counts once
    await vi.advanceTimersByTimeAsync(0);
    expect(slots).toHaveLength(3);
    expect(queue.activeOf('a')).toBe(2);
    expect(queue.waiting).toBe(1);
  });

  it('tells each waiter how many are ahead, and again whenever that changes', async () => {
    const queue = new FairQueue({ limit: 1, windowMs: 1000, maxActivePerUser: 10 });
    const seen: Record<string, number[]> = {};
    const slots: Slot[] = [];
    const join = (user: string, name: string) =>
      void queue.enter(user, { onWait: (n) => (seen[name] ??= []).push(n) }).then((s) => slots.push(s));
    join('a', 'a1'); // sent at once: never waits
    join('a', 'a2');
    join('a', 'a3');
    join('b', 'b1');
    join('b', 'b2');
    await vi.advanceTimersByTimeAsync(0);
    // Turns: a2, b1, a3, b2.
    expect(seen).toEqual({ a2: [0], a3: [1, 2], b1: [1], b2: [3] });
    await vi.advanceTimersByTimeAsync(1000);
    expect(seen).toEqual({ a2: [0], a3: [1, 2, 1], b1: [1, 0], b2: [3, 2] });
    await vi.advanceTimersByTimeAsync(3000);
    expect(seen['b2']).toEqual([3, 2, 1, 0]);
    expect(slots).toHaveLength(5);
  });

  it('lets an aborted waiter leave the line, and moves everyone behind it up', async () => {
    const queue = new FairQueue({ limit: 1, windowMs: 1000, maxActivePerUser: 10 });
    const grants: Grant[] = [];
    demand(queue, 'a', 1, grants);
    const controller = new AbortController();
    const left = queue.enter('b', { signal: controller.signal });
    const behind: number[] = [];
    void queue.enter('c', { onWait: (n) => behind.push(n) }).then((slot) => grants.push({ user: 'c', n: 1, at: Date.now() - T0, slot }));
    await vi.advanceTimersByTimeAsync(0);
    expect(behind).toEqual([1]);
    controller.abort('gone');
    await expect(left).rejects.toBeInstanceOf(WaitAbortedError);
    expect(behind).toEqual([1, 0]);
    expect(queue.waiting).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(grants.map((g) => `${g.user}@${g.at}`)).toEqual(['a@0', 'c@1000']);
    // Already aborted: refused at once.
    await expect(queue.enter('d', { signal: controller.signal })).rejects.toBeInstanceOf(WaitAbortedError);
    expect(queue.waiting).toBe(0);
  });

  it('pauses every send until a Retry-After, then lets retries go before the line', async () => {
    const queue = new FairQueue({ limit: 10, windowMs: 1000, maxActivePerUser: 10 });
    const order: string[] = [];
    const first = await queue.enter('a');
    queue.pauseUntil(Date.now() + 5000);
    queue.pauseUntil(Date.now() + 1000); // an earlier pause does not shorten it
    void queue.enter('b').then(() => order.push(`b@${Date.now() - T0}`));
    const waits: number[] = [];
    void first.resend({ onWait: (n) => waits.push(n) }).then(() => order.push(`a-again@${Date.now() - T0}`));
    await vi.advanceTimersByTimeAsync(4999);
    expect(order).toEqual([]);
    expect(waits).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    expect(order).toEqual(['a-again@5000', 'b@5000']);
  });

  it('charges a retry a rate token like any send', async () => {
    const queue = new FairQueue({ limit: 2, windowMs: 1000, maxActivePerUser: 10 });
    const slot = await queue.enter('a');
    await slot.resend();
    let other = false;
    void queue.enter('b').then(() => (other = true));
    await vi.advanceTimersByTimeAsync(999);
    expect(other).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(other).toBe(true);
    slot.release();
    await expect(slot.resend()).rejects.toThrow(/after release/);
  });
});
