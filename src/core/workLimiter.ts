export interface WorkLimits {
  /** Units of work in flight at once. */
  concurrency: number;
  /** Bytes that work in flight may hold together (each unit reserves its expected size). */
  maxBytes: number;
}

interface Waiter {
  bytes: number;
  start: () => void;
}

/**
 * Bounds the memory that downloads and image decodes can take together: at most
 * `concurrency` in flight and at most `maxBytes` reserved between them. Work that does not
 * fit waits its turn, first come first served, and never fails for waiting: ten messages
 * with four 25 MB images each then run a few at a time instead of buffering 1 GB at once.
 */
export class WorkLimiter {
  readonly #limits: WorkLimits;
  readonly #queue: Waiter[] = [];
  #active = 0;
  #bytes = 0;

  constructor(limits: WorkLimits) {
    if (!(limits.concurrency >= 1) || !(limits.maxBytes >= 1)) throw new RangeError('a work limiter needs room for at least one unit of work');
    this.#limits = { ...limits };
  }

  /** Units of work running now. */
  get active(): number {
    return this.#active;
  }

  /** Units of work waiting for a turn. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Bytes reserved by the work running now. */
  get reservedBytes(): number {
    return this.#bytes;
  }

  /**
   * Runs `work` once a slot and `bytes` of the budget are free, and frees both when it ends,
   * however it ends. A reservation above the whole budget is cut to it (that work runs alone).
   */
  async run<T>(bytes: number, work: () => Promise<T>): Promise<T> {
    const reserved = Math.min(Math.max(0, Math.ceil(bytes)), this.#limits.maxBytes);
    await this.#acquire(reserved);
    try {
      return await work();
    } finally {
      this.#active -= 1;
      this.#bytes -= reserved;
      this.#drain();
    }
  }

  #fits(bytes: number): boolean {
    return this.#active < this.#limits.concurrency && this.#bytes + bytes <= this.#limits.maxBytes;
  }

  #acquire(bytes: number): Promise<void> {
    // Nobody jumps the queue: a small job behind a large one waits too, so the large one is not starved.
    if (this.#queue.length === 0 && this.#fits(bytes)) {
      this.#take(bytes);
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.#queue.push({ bytes, start: resolve });
    });
  }

  #take(bytes: number): void {
    this.#active += 1;
    this.#bytes += bytes;
  }

  #drain(): void {
    for (let next = this.#queue[0]; next && this.#fits(next.bytes); next = this.#queue[0]) {
      this.#queue.shift();
      this.#take(next.bytes);
      next.start();
    }
  }
}
