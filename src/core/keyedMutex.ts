/**
 * Runs tasks one at a time per key, in arrival order. Used where a read-modify-write of
 * the store must not interleave (keyv's get/set is not atomic): two answers finishing at
 * once in one channel would otherwise overwrite each other's turns.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Keys with a task queued or running (for tests and metrics). */
  get size(): number {
    return this.#tails.size;
  }
}
