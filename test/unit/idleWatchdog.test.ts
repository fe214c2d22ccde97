import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IdleWatchdog } from '../../src/core/idleWatchdog.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('IdleWatchdog', () => {
  it('fires after the given silence, with its reason', async () => {
    const reason = new Error('went quiet');
    const dog = new IdleWatchdog(1000, reason);
    await vi.advanceTimersByTimeAsync(999);
    expect(dog.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(dog.fired).toBe(true);
    expect(dog.signal.reason).toBe(reason);
  });

  it('counts the silence from the last touch, however many came', async () => {
    const dog = new IdleWatchdog(1000);
    for (let i = 0; i < 30; i++) {
      await vi.advanceTimersByTimeAsync(100);
      dog.touch();
    }
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(dog.fired).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(dog.fired).toBe(true);
  });

  it('once stopped, aborts its signal but never counts as fired', async () => {
    const dog = new IdleWatchdog(1000);
    dog.stop();
    expect(dog.signal.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(5000);
    expect(dog.fired).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });
});
