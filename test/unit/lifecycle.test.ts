import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Lifecycle } from '../../src/ops/lifecycle.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Lifecycle', () => {
  it('drains: refuses new work at once and resolves true when the work in flight finishes within the grace', async () => {
    const lifecycle = new Lifecycle();
    let finish!: () => void;
    void lifecycle.track(new Promise<void>((r) => (finish = r)));
    let drained: boolean | undefined;
    void lifecycle.drain(5000).then((d) => (drained = d));
    expect(lifecycle.draining).toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    expect(drained).toBeUndefined();
    finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(drained).toBe(true);
    expect(lifecycle.inFlight).toBe(0);
  });

  it('gives up after the grace, then aborts what is left and waits for it to wind down', async () => {
    const lifecycle = new Lifecycle();
    const work = lifecycle.track(
      new Promise<string>((resolve) => lifecycle.signal.addEventListener('abort', () => setTimeout(() => resolve('wound down'), 100))),
    );
    let drained: boolean | undefined;
    void lifecycle.drain(2000).then((d) => (drained = d));
    await vi.advanceTimersByTimeAsync(1999);
    expect(drained).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(drained).toBe(false);
    expect(lifecycle.signal.aborted).toBe(false);
    let ended = false;
    void lifecycle.abortRest().then(() => (ended = true));
    expect(lifecycle.signal.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(99);
    expect(ended).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(ended).toBe(true);
    await expect(work).resolves.toBe('wound down');
  });

  it('counts failed work as finished too', async () => {
    const lifecycle = new Lifecycle();
    await expect(lifecycle.track(Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(lifecycle.inFlight).toBe(0);
    expect(await lifecycle.drain(0)).toBe(true);
  });
});
