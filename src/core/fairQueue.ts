/**
 * One API key serves everyone the bot answers, and Sogni limits the key (60 requests per
 * 60 s), not the person. This queue decides who sends next so the key is never over its
 * limit and one person's flood cannot starve the others: people take turns (round-robin),
 * each has at most a few answers or jobs in flight, and a 429 pauses everyone, because the
 * limit it reports is shared.
 */
export interface FairQueueOptions {
  /** Sends allowed in any window. */
  limit: number;
  windowMs: number;
  /**
   * Added to the window: our clock starts when we send, Sogni's when the request lands, and
   * latency varies, so an exact N-per-window schedule would brush the limit.
   */
  marginMs?: number;
  /** Answers or jobs one person may have in flight; the rest wait in line. */
  maxActivePerUser: number;
}

export interface WaitOptions {
  /** Aborting leaves the line: the wait rejects with WaitAbortedError. */
  signal?: AbortSignal | undefined;
  /** Called while waiting with how many sends are ahead, first on joining, then on every change. */
  onWait?: ((ahead: number) => void) | undefined;
}

/** A place in flight: held for the whole answer or job, released once it ends. */
export interface Slot {
  readonly userId: string;
  /**
   * Waits for a rate token to send the same request again (after a 429 or a restart). A
   * retry keeps its place in flight and goes before anyone still in line: it waited longest.
   */
  resend(options?: WaitOptions): Promise<void>;
  /** Frees the person's place. Safe to call more than once. */
  release(): void;
}

/** The wait was abandoned (the answer was deleted, the bot is stopping). */
export class WaitAbortedError extends Error {
  constructor(reason: unknown) {
    super('Stopped waiting for a turn', { cause: reason });
    this.name = 'WaitAbortedError';
  }
}

interface Waiter {
  userId: string;
  grant(): void;
  abandon(): void;
  onWait: ((ahead: number) => void) | undefined;
  /** The last position reported, so unchanged positions are not reported again. */
  shown: number | undefined;
}

export class FairQueue {
  readonly #limit: number;
  readonly #spanMs: number;
  readonly #maxActive: number;
  /** When the most recent sends went out, oldest first, at most `limit` long. */
  readonly #sent: number[] = [];
  /** Each person's line, in turn order: the next turn goes to the first person who may send. */
  readonly #lines = new Map<string, Waiter[]>();
  /** Requests in flight waiting to send again; they go first. */
  readonly #resends: Waiter[] = [];
  readonly #active = new Map<string, number>();
  #pausedUntil = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: FairQueueOptions) {
    if (options.limit < 1 || options.maxActivePerUser < 1) throw new RangeError('limit and maxActivePerUser must be at least 1');
    this.#limit = options.limit;
    this.#spanMs = options.windowMs + (options.marginMs ?? 0);
    this.#maxActive = options.maxActivePerUser;
  }

  /** Requests waiting (in line or to send again). */
  get waiting(): number {
    let n = this.#resends.length;
    for (const line of this.#lines.values()) n += line.length;
    return n;
  }

  /** Answers or jobs `userId` has in flight. */
  activeOf(userId: string): number {
    return this.#active.get(userId) ?? 0;
  }

  /**
   * Waits until it is `userId`'s turn, they have room in flight and a send is allowed, then
   * takes a place in flight and the send's rate token together.
   */
  enter(userId: string, options: WaitOptions = {}): Promise<Slot> {
    return this.#wait(userId, options, 'line').then(() => this.#slot(userId));
  }

  /** Nothing is sent before `until` (ms since epoch): Sogni said the key is over its limit. */
  pauseUntil(until: number): void {
    // Stryker disable next-line EqualityOperator: pumping again for an equal pause grants and reports exactly the same
    if (until <= this.#pausedUntil) return;
    this.#pausedUntil = until;
    this.#pump();
  }

  #slot(userId: string): Slot {
    let released = false;
    return {
      userId,
      resend: (options = {}) => {
        if (released) return Promise.reject(new Error('resend after release'));
        return this.#wait(userId, options, 'resend');
      },
      release: () => {
        if (released) return;
        released = true;
        const n = this.activeOf(userId) - 1;
        // Stryker disable next-line ConditionalExpression,EqualityOperator: a count of 0 and no entry both read 0 (activeOf); deleting only keeps the map small
        if (n > 0) this.#active.set(userId, n);
        else this.#active.delete(userId);
        this.#pump();
      },
    };
  }

  #wait(userId: string, { signal, onWait }: WaitOptions, kind: 'line' | 'resend'): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(new WaitAbortedError(signal.reason));
        return;
      }
      const onAbort = () => waiter.abandon();
      const waiter: Waiter = {
        userId,
        onWait,
        shown: undefined,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          // Counted now, not when the promise settles: the same pump may look at this person again.
          if (kind === 'line') this.#active.set(userId, this.activeOf(userId) + 1);
          resolve();
        },
        abandon: () => {
          this.#remove(waiter);
          reject(new WaitAbortedError(signal?.reason));
          this.#pump();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (kind === 'resend') {
        this.#resends.push(waiter);
      } else {
        const line = this.#lines.get(userId);
        if (line) line.push(waiter);
        else this.#lines.set(userId, [waiter]);
      }
      this.#pump();
    });
  }

  #remove(waiter: Waiter): void {
    const i = this.#resends.indexOf(waiter);
    if (i >= 0) {
      this.#resends.splice(i, 1);
      return;
    }
    // Only a waiter still waiting is abandoned (a grant removes its abort listener), so it is in its line.
    const line = this.#lines.get(waiter.userId) as Waiter[];
    line.splice(line.indexOf(waiter), 1);
    if (line.length === 0) this.#lines.delete(waiter.userId);
  }

  /** The earliest time the next send may go out. */
  #nextSendAt(): number {
    const oldest = this.#sent.length >= this.#limit ? (this.#sent[this.#sent.length - this.#limit] as number) : -Infinity;
    return Math.max(this.#pausedUntil, oldest + this.#spanMs);
  }

  /** The first person in turn order with room in flight gives their oldest request, then goes to the back. */
  #nextInLine(): Waiter | undefined {
    for (const [userId, line] of this.#lines) {
      if (this.activeOf(userId) >= this.#maxActive) continue;
      const waiter = line.shift() as Waiter;
      this.#lines.delete(userId);
      if (line.length > 0) this.#lines.set(userId, line);
      return waiter;
    }
    return undefined;
  }

  /** Grants every send allowed now, then plans the next check and tells the rest where they stand. */
  #pump(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (;;) {
      if (this.waiting === 0) break;
      const now = Date.now();
      const at = this.#nextSendAt();
      if (at > now) {
        this.#timer = setTimeout(() => this.#pump(), at - now);
        break;
      }
      const next = this.#resends.shift() ?? this.#nextInLine();
      // Everyone waiting is at their cap: a release will pump again.
      if (!next) break;
      this.#sent.push(now);
      // Stryker disable next-line ConditionalExpression: the window reads only the last `limit` sends; dropping older ones only bounds memory
      if (this.#sent.length > this.#limit) this.#sent.shift();
      next.grant();
    }
    this.#report();
  }

  /**
   * How many sends come before each waiter if turns go round as planned: every resend, the
   * person's own earlier requests, and from each other person one per round (one more for
   * those ahead in this round).
   */
  #report(): void {
    const lines = [...this.#lines.values()];
    const resends = this.#resends.length;
    const tell = (waiter: Waiter, ahead: number) => {
      if (waiter.shown === ahead || !waiter.onWait) return;
      waiter.shown = ahead;
      try {
        waiter.onWait(ahead);
      } catch {
        // A display callback must not break the line for everyone.
      }
    };
    this.#resends.forEach((waiter, i) => tell(waiter, i));
    lines.forEach((line, p) => {
      line.forEach((waiter, k) => {
        let ahead = resends + k;
        lines.forEach((other, j) => {
          // Stryker disable next-line EqualityOperator: j === p is excluded just before, so j <= p and j < p agree
          if (j !== p) ahead += Math.min(other.length, k + (j < p ? 1 : 0));
        });
        tell(waiter, ahead);
      });
    });
  }
}
