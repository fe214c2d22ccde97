import { describe, expect, it } from 'vitest';
import { KeyedMutex } from '../../src/core/keyedMutex.js';

/** Something a task waits on until the test lets it finish. */
function held() {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { done, finish };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('KeyedMutex forgetting keys', () => {
  it('forgets a key once its last task is done', async () => {
    const mutex = new KeyedMutex();
    await mutex.run('a', async () => 1);
    await settle();
    expect(mutex.size).toBe(0);
  });

  it('keeps a key while a later task on it is still queued or running', async () => {
    const mutex = new KeyedMutex();
    const first = held();
    const second = held();
    const log: string[] = [];
    const a = mutex.run('k', async () => {
      log.push('start 1');
      await first.done;
      log.push('end 1');
    });
    const b = mutex.run('k', async () => {
      log.push('start 2');
      await second.done;
      log.push('end 2');
    });
    first.finish();
    await a;
    await settle();
    // The first task's cleanup must not drop the key while the second still holds it…
    expect(mutex.size).toBe(1);
    // …so a third task still waits for the second.
    const c = mutex.run('k', async () => {
      log.push('start 3');
    });
    await settle();
    expect(log).toEqual(['start 1', 'end 1', 'start 2']);
    second.finish();
    await Promise.all([b, c]);
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3']);
    await settle();
    expect(mutex.size).toBe(0);
  });

  it('returns each task’s own result or error', async () => {
    const mutex = new KeyedMutex();
    const ok = mutex.run('k', async () => 'value');
    const failing = mutex.run('k', async () => {
      throw new Error('boom');
    });
    await expect(ok).resolves.toBe('value');
    await expect(failing).rejects.toThrow('boom');
    // A failure does not stop the key: the next task runs.
    await expect(mutex.run('k', async () => 'after')).resolves.toBe('after');
  });
});
