import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import Keyv, { type KeyvStoreAdapter } from 'keyv';

/** The shared storage adapter behind every namespace the bot keeps. */
export interface Store {
  adapter: KeyvStoreAdapter;
  /** A keyv view of one namespace (`history`, `meta`, …) over the shared adapter. */
  namespace<T>(name: string): Keyv<T>;
  close(): Promise<void>;
}

/**
 * Opens the store at STORE_URL. `sqlite://relative/or/absolute/path` creates the file
 * (and its folder) on first run.
 */
export function openStore(url: string): Store {
  const path = url.replace(/^sqlite:\/\//, '');
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
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
    async close() {
      // Closing twice (or after the database failed) is harmless; there is nothing left to flush.
      await adapter.disconnect?.().catch(() => {});
    },
  };
}
