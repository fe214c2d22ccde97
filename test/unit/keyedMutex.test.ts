import { describe, expect, it } from 'vitest';
import { KeyedMutex } from '../../src/core/keyedMutex.js';

describe('KeyedMutex', () => {
  it('runs tasks on one key one at a time, in order, and keeps going after a failure', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    const task = (name: string, ms: number, fail = false) => async () => {
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${name}`);
      if (fail) throw new Error(name);
      return name;
    };
    const results = await Promise.allSettled([
      mutex.run('a', task('1', 20)),
      mutex.run('a', task('2', 5, true)),
      mutex.run('a', task('3', 1)),
    ]);
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(mutex.size).toBe(0);
  });

  it('runs different keys concurrently', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    const slow = (k: string) => async () => {
      log.push(`start ${k}`);
      await new Promise((r) => setTimeout(r, 10));
      log.push(`end ${k}`);
    };
    await Promise.all([mutex.run('a', slow('a')), mutex.run('b', slow('b'))]);
    expect(log.slice(0, 2)).toEqual(['start a', 'start b']);
  });
});
