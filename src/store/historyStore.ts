import type Keyv from 'keyv';
import { appendTurns, type Turn } from '../core/history.js';
import { KeyedMutex } from '../core/keyedMutex.js';

/**
 * Per-channel conversation history. Reads are free-running; every change is a
 * read-modify-write serialised per channel, so concurrent answers never lose turns.
 */
export class HistoryStore {
  readonly #keyv: Keyv<Turn[]>;
  readonly #locks = new KeyedMutex();

  constructor(keyv: Keyv<Turn[]>) {
    this.#keyv = keyv;
  }

  async load(channelId: string): Promise<Turn[]> {
    return (await this.#keyv.get(channelId)) ?? [];
  }

  append(channelId: string, turns: readonly Turn[]): Promise<void> {
    return this.#locks.run(channelId, async () => {
      const existing = (await this.#keyv.get(channelId)) ?? [];
      await this.#keyv.set(channelId, appendTurns(existing, turns));
    });
  }

  clear(channelId: string): Promise<void> {
    return this.#locks.run(channelId, async () => {
      await this.#keyv.delete(channelId);
    });
  }
}
