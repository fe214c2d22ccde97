import type { Pacer, SendRoute } from './editPacer.js';

export interface LatestEditorOptions<P> {
  /** Two payloads with the same key look the same: the second is not sent. */
  key(payload: P): string;
  /** Decides what a failed send means: 'stop' ends the editor (the message is gone, the token expired). */
  onError(err: unknown): 'stop' | 'continue';
  /** The REST call each send makes, so the pacer counts it where Discord does (an interaction's webhook, a channel). */
  route?: SendRoute;
}

/**
 * Keeps one message showing the newest of a stream of states (a media run's progress). Each
 * `show` only records the newest state; one loop sends it, one request at a time, and takes
 * the state when its paced slot comes, so edits never queue up stale and a state that looks
 * like the one on screen is never sent again.
 */
export class LatestEditor<P> {
  readonly #send: (payload: P) => Promise<void>;
  readonly #pacer: Pacer;
  readonly #options: LatestEditorOptions<P>;
  #pending: P | undefined;
  #shownKey: string | undefined;
  #loop: Promise<void> | undefined;
  #closed = false;

  constructor(send: (payload: P) => Promise<void>, pacer: Pacer, options: LatestEditorOptions<P>) {
    this.#send = send;
    this.#pacer = pacer;
    this.#options = options;
  }

  /** False once closed or stopped by a failed send. */
  get open(): boolean {
    return !this.#closed;
  }

  show(payload: P): void {
    if (this.#closed) return;
    this.#pending = payload;
    this.#kick();
  }

  #kick(): void {
    if (this.#loop) return;
    this.#loop = this.#run().finally(() => {
      this.#loop = undefined;
      // A state recorded while the loop was ending still goes out.
      if (this.#pending !== undefined && !this.#closed) this.#kick();
    });
  }

  /** Stops editing; resolves once the edit in flight (if any) has landed, so nothing overwrites what comes next. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#pending = undefined;
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (this.#pending !== undefined && !this.#closed) {
      // What is already on screen costs no slot.
      if (this.#options.key(this.#pending) === this.#shownKey) {
        this.#pending = undefined;
        return;
      }
      const slot = await this.#pacer.acquire('paced', this.#options.route);
      // The newest state when the slot comes, not the one that asked for it.
      const payload = this.#pending;
      this.#pending = undefined;
      // Only close() empties it while we wait; an unused slot goes back, so it holds no one else up.
      if (payload === undefined) {
        slot.cancel();
        return;
      }
      const key = this.#options.key(payload);
      if (key === this.#shownKey) {
        slot.cancel();
        continue;
      }
      try {
        await this.#send(payload);
        this.#shownKey = key;
      } catch (err) {
        if (this.#options.onError(err) === 'stop') this.#closed = true;
      } finally {
        // The channel's window counts this send from when it ended.
        slot.done();
      }
    }
  }
}
