import type Keyv from 'keyv';
import { appendTurns, MAX_STORED_TURNS, type Turn } from '../core/history.js';
import { KeyedMutex } from '../core/keyedMutex.js';

/**
 * Per-channel conversation history. Reads are free-running; every change is a
 * read-modify-write serialised per channel, so concurrent answers never lose turns.
 *
 * The lock is in-process, even on a Redis or PostgreSQL store shared by many shards: Discord
 * routes a guild (and so each of its channels and threads) to exactly one shard, and DMs to
 * shard 0, so one channel's writes all come from one process. (The spend ledger takes the
 * store's cross-process lock instead: money must stay exact even while a restarted shard and
 * its predecessor overlap; a conversation turn lost in that moment costs nothing.)
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
