import { describe, expect, it } from 'vitest';
import { WorkLimiter } from '../../src/core/workLimiter.js';

/** A unit of work the test finishes by hand, recording when it started. */
function job(started: string[], name: string) {
  let finish: (ok: boolean) => void = () => undefined;
  const done = new Promise<string>((resolve, reject) => {
    finish = (ok) => (ok ? resolve(name) : reject(new Error(`${name} failed`)));
  });
  return {
    work: () => {
      started.push(name);
      return done;
    },
    finish: (ok = true) => finish(ok),
  };
}

/** Lets queued promise callbacks run. */
const settle = () => new Promise((r) => setImmediate(r));

describe('WorkLimiter', () => {
  it('runs four downloads at once and starts the fifth only when one of them finishes', async () => {
    const limiter = new WorkLimiter({ concurrency: 4, maxBytes: 100 * 1024 * 1024 });
    const started: string[] = [];
    const jobs = ['a', 'b', 'c', 'd', 'e'].map((name) => job(started, name));
    const results = jobs.map((j) => limiter.run(1024, j.work));
    await settle();
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    expect(limiter.active).toBe(4);
    expect(limiter.waiting).toBe(1);

    jobs[2]?.finish();
    await settle();
    expect(started).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(limiter.waiting).toBe(0);

    for (const j of jobs) j.finish();
    await expect(Promise.all(results)).resolves.toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(limiter.active).toBe(0);
    expect(limiter.reservedBytes).toBe(0);
  });

  it('holds work back while the bytes in flight would pass the budget', async () => {
    const limiter = new WorkLimiter({ concurrency: 4, maxBytes: 100 });
    const started: string[] = [];
    const big = job(started, 'big');
    const second = job(started, 'second');
    const first = limiter.run(60, big.work);
    const next = limiter.run(50, second.work);
    await settle();
    expect(started).toEqual(['big']);
    expect(limiter.reservedBytes).toBe(60);

    big.finish();
    await first;
    await settle();
    expect(started).toEqual(['big', 'second']);
    expect(limiter.reservedBytes).toBe(50);
    second.finish();
    await next;
  });

  it('keeps the queue in order: small work behind a large waiter does not overtake it', async () => {
    const limiter = new WorkLimiter({ concurrency: 4, maxBytes: 100 });
    const started: string[] = [];
    const a = job(started, 'a');
    const large = job(started, 'large');
    const small = job(started, 'small');
    const runs = [limiter.run(60, a.work), limiter.run(80, large.work), limiter.run(10, small.work)];
    await settle();
    // 10 bytes would fit beside `a`, but `large` came first.
    expect(started).toEqual(['a']);
    a.finish();
    await settle();
    expect(started).toEqual(['a', 'large', 'small']);
    large.finish();
    small.finish();
    await Promise.all(runs);
  });

  it('runs work larger than the whole budget alone instead of never', async () => {
    const limiter = new WorkLimiter({ concurrency: 4, maxBytes: 100 });
    const started: string[] = [];
    const huge = job(started, 'huge');
    const tiny = job(started, 'tiny');
    const runs = [limiter.run(5000, huge.work), limiter.run(1, tiny.work)];
    await settle();
    expect(started).toEqual(['huge']);
    expect(limiter.reservedBytes).toBe(100);
    huge.finish();
    await settle();
    expect(started).toEqual(['huge', 'tiny']);
    tiny.finish();
    await Promise.all(runs);
  });

  it('frees the slot and the bytes when the work fails', async () => {
    const limiter = new WorkLimiter({ concurrency: 1, maxBytes: 100 });
    const started: string[] = [];
    const failing = job(started, 'failing');
    const after = job(started, 'after');
    const first = limiter.run(100, failing.work);
    const second = limiter.run(100, after.work);
    failing.finish(false);
    await expect(first).rejects.toThrow('failing failed');
    await settle();
    expect(started).toEqual(['failing', 'after']);
    after.finish();
    await expect(second).resolves.toBe('after');
    expect(limiter.active).toBe(0);
    expect(limiter.reservedBytes).toBe(0);
  });

  it('lets work that exactly fills the budget run side by side', async () => {
    const limiter = new WorkLimiter({ concurrency: 4, maxBytes: 100 });
    const started: string[] = [];
    const a = job(started, 'a');
    const b = job(started, 'b');
    const runs = [limiter.run(60, a.work), limiter.run(40, b.work)];
    await settle();
    expect(started).toEqual(['a', 'b']);
    expect(limiter.reservedBytes).toBe(100);
    a.finish();
    b.finish();
    await Promise.all(runs);
  });

  it('reserves whole bytes, and nothing for a size below zero', async () => {
    const limiter = new WorkLimiter({ concurrency: 4, maxBytes: 100 });
    const started: string[] = [];
    const a = job(started, 'a');
    const b = job(started, 'b');
    const runs = [limiter.run(10.2, a.work), limiter.run(-50, b.work)];
    await settle();
    expect(limiter.reservedBytes).toBe(11);
    a.finish();
    b.finish();
    await Promise.all(runs);
    expect(limiter.reservedBytes).toBe(0);
  });

  it('refuses limits that leave no room for any work', () => {
    expect(() => new WorkLimiter({ concurrency: 0, maxBytes: 100 })).toThrow(RangeError);
    expect(() => new WorkLimiter({ concurrency: 0, maxBytes: 100 })).toThrow('a work limiter needs room for at least one unit of work');
    expect(() => new WorkLimiter({ concurrency: 2, maxBytes: 0 })).toThrow(RangeError);
    expect(() => new WorkLimiter({ concurrency: Number.NaN, maxBytes: 100 })).toThrow(RangeError);
    expect(() => new WorkLimiter({ concurrency: 1, maxBytes: 1 })).not.toThrow();
  });
});
