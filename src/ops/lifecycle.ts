/** What a request gets while the bot is shutting down. */
export const RESTARTING_LINE = '⚠️ The bot is restarting. Try again in a minute.';

/**
 * The bot's work in flight, for a graceful shutdown: once draining, no new request starts;
 * work already running gets the grace period to finish, then `signal` aborts what is left
 * (its holds are released by the paths it runs through).
 */
export class Lifecycle {
  readonly #work = new Set<Promise<unknown>>();
  readonly #abort = new AbortController();
  #draining = false;

  /** True from the first shutdown signal: handlers answer RESTARTING_LINE instead of starting work. */
  get draining(): boolean {
    return this.#draining;
  }

  /** Aborted when the grace period ends: long work (media jobs) stops and releases its hold. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Work in flight now (health and tests). */
  get inFlight(): number {
    return this.#work.size;
  }

  /** Counts `work` as in flight until it settles; returns it unchanged. */
  track<T>(work: Promise<T>): Promise<T> {
    this.#work.add(work);
    const done = () => void this.#work.delete(work);
    work.then(done, done);
    return work;
  }

  /** Stops new work and waits up to `graceMs` for the work in flight. Resolves true when it all finished. */
  async drain(graceMs: number): Promise<boolean> {
    this.#draining = true;
    const deadline = Date.now() + graceMs;
    while (this.#work.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([Promise.allSettled([...this.#work]), new Promise((r) => (timer = setTimeout(r, left)))]);
      clearTimeout(timer);
    }
    return true;
  }

  /** Ends the grace period: aborts what is left, and waits for it to wind down (holds released, notes written). */
  async abortRest(): Promise<void> {
    this.#draining = true;
    this.#abort.abort('shutdown');
    await Promise.allSettled([...this.#work]);
  }
}
