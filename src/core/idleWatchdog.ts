/**
 * Aborts its signal after `ms` without a `touch()` (a stream that went quiet). One timer for its
 * whole life, not one per touch: it wakes when the time would be up and sleeps again for what is
 * left if something came meanwhile, so a stream of thousands of chunks a second costs no timers.
 */
export class IdleWatchdog {
  readonly #controller = new AbortController();
  readonly #ms: number;
  readonly #reason: unknown;
  #last = Date.now();
  #fired = false;
  #timer: ReturnType<typeof setTimeout>;

  constructor(ms: number, reason?: unknown) {
    this.#ms = ms;
    this.#reason = reason;
    this.#timer = setTimeout(this.#watch, ms);
  }

  /** Aborted when the time ran out, or once stopped. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** True only when the time ran out (not when stopped). */
  get fired(): boolean {
    return this.#fired;
  }

  /** Something arrived: the silence starts again from now. */
  touch(): void {
    this.#last = Date.now();
  }

  /** Done watching: clears the timer and aborts the signal (ending whatever still listens to it). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#controller.abort();
  }

  readonly #watch = (): void => {
    const left = this.#last + this.#ms - Date.now();
    if (left > 0) {
      this.#timer = setTimeout(this.#watch, left);
      return;
    }
    this.#fired = true;
    this.#controller.abort(this.#reason);
  };
}
