import type Keyv from 'keyv';
import { appendTurns, MAX_STORED_TURNS, type Turn } from '../core/history.js';
import { KeyedMutex } from '../core/keyedMutex.js';

/**
 * Per-channel conversation history. Reads are free-running; every change is a
 * read-modify-write serialised per channel, so concurrent answers never lose turns.
 */
export class HistoryStore {
  readonly #keyv: Keyv<Turn[]>;
  readonly #locks = new KeyedMutex();
  readonly #maxImages: number;

  /** `maxImages`: images whose data is kept per channel (older ones become placeholders). */
  constructor(keyv: Keyv<Turn[]>, { maxImages }: { maxImages: number }) {
    this.#keyv = keyv;
    this.#maxImages = maxImages;
  }

  async load(channelId: string): Promise<Turn[]> {
    return (await this.#keyv.get(channelId)) ?? [];
  }

  append(channelId: string, turns: readonly Turn[]): Promise<void> {
    return this.#locks.run(channelId, async () => {
      const existing = (await this.#keyv.get(channelId)) ?? [];
      await this.#keyv.set(channelId, appendTurns(existing, turns, MAX_STORED_TURNS, this.#maxImages));
    });
  }

  clear(channelId: string): Promise<void> {
    return this.#locks.run(channelId, async () => {
      await this.#keyv.delete(channelId);
    });
  }
}
