import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import Keyv, { type KeyvStoreAdapter } from 'keyv';
import { acquireStoreLock } from './fileLock.js';

/** The shared storage adapter behind every namespace the bot keeps. */
export interface Store {
  adapter: KeyvStoreAdapter;
  /** A keyv view of one namespace (`history`, `meta`, …) over the shared adapter. */
  namespace<T>(name: string): Keyv<T>;
  /** Deletes every entry whose TTL has passed (keyv only drops them when read); returns how many. */
  prune(now?: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * Opens the store at STORE_URL. `sqlite://relative/or/absolute/path` creates the file
 * (and its folder) on first run, and holds it for this process alone (StoreLockedError if
 * another live process has it).
 */
export function openStore(url: string): Store {
  const path = url.replace(/^sqlite:\/\//, '');
  const inMemory = path === ':memory:';
  if (!inMemory) mkdirSync(dirname(path), { recursive: true });
  const release = inMemory ? () => {} : acquireStoreLock(path);
  // A waiting writer retries for up to 5 s instead of failing at once when the file is busy.
  const adapter = new KeyvSqlite({ uri: url, busyTimeout: 5000 });
  return {
    adapter,
    namespace<T>(name: string): Keyv<T> {
      // Failures must reach the caller (it tells the user and keeps what it has), not vanish in an event.
      const view = new Keyv<T>({ store: adapter, namespace: name, throwOnErrors: true });
      view.on('error', () => {});
      return view;
    },
    async prune(now = Date.now()) {
      // keyv keeps `{"value":…,"expires":ms}` in the value column; entries without a TTL are kept.
      const expired = "json_valid(value) AND json_extract(value, '$.expires') IS NOT NULL AND json_extract(value, '$.expires') < ?";
      const rows = (await adapter.query(`SELECT COUNT(*) AS n FROM ${adapter.opts.table} WHERE ${expired}`, now)) as { n: number }[];
      await adapter.query(`DELETE FROM ${adapter.opts.table} WHERE ${expired}`, now);
      return rows[0]?.n ?? 0;
    },
    async close() {
      // Closing twice (or after the database failed) is harmless; there is nothing left to flush.
      await adapter.disconnect?.().catch(() => {});
      release();
    },
  };
}
