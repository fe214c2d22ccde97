import { openPostgresStore } from './postgresStore.js';
import { openRedisStore } from './redisStore.js';
import { openSqliteStore } from './sqliteStore.js';
import type { Store, StoreKind, StoreOptions } from './store.js';

export type { Store, StoreKind, StoreOptions } from './store.js';
export { LockTimeoutError } from './store.js';
export { storeSecrets } from './storeUrl.js';

/** Which backend a STORE_URL names (the one place that decides it). */
export function storeKind(url: string): StoreKind {
  if (/^rediss?:\/\//.test(url)) return 'redis';
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgres';
  return 'sqlite';
}

/**
 * Opens the store at STORE_URL: `sqlite://path` (one process per file), or a server several
 * bot processes share, `redis://…` or `postgres://…`. Nothing else in the bot knows which.
 */
export function openStore(url: string, options: StoreOptions = {}): Store {
  switch (storeKind(url)) {
    case 'redis':
      return openRedisStore(url, options);
    case 'postgres':
      return openPostgresStore(url, options);
    case 'sqlite':
      return openSqliteStore(url, options);
  }
}
