import type Keyv from 'keyv';
import type { KeyvStoreAdapter } from 'keyv';

/** Which server keeps the bot's state. */
export type StoreKind = 'sqlite' | 'redis' | 'postgres';

/** The shared storage behind every namespace the bot keeps. */
export interface Store {
  kind: StoreKind;
  /** The keyv adapter (tests disconnect it to play a store that went away). */
  adapter: KeyvStoreAdapter;
  /** A keyv view of one namespace (`history`, `meta`, …) over the shared storage. */
  namespace<T>(name: string): Keyv<T>;
  /**
   * Runs `task` while holding `key` against every process that shares this store, so a
   * read-modify-write cannot interleave with another one on the same key. Waits a bounded
   * time for the key (LockTimeoutError past it); tasks should take milliseconds.
   */
  lock<T>(key: string, task: () => Promise<T>): Promise<T>;
  /** Resolves when the backend answers a trivial query within `timeoutMs` (health checks). */
  ping(timeoutMs?: number): Promise<void>;
  /** Deletes every entry whose TTL has passed (keyv only drops them when read); returns how many. */
  prune(now?: number): Promise<number>;
  close(): Promise<void>;
}

/** Longest a lock is waited for before the caller gives up (the ledger then refuses paid work). */
export const LOCK_WAIT_MS = 15_000;

export interface StoreOptions {
  /** How long `lock` waits for a key (LOCK_WAIT_MS; tests shorten it). */
  lockWaitMs?: number;
}

/** Another process (or a stuck task) held the key for longer than the caller may wait. */
export class LockTimeoutError extends Error {
  constructor(readonly key: string, readonly waitedMs: number) {
    super(`Timed out after ${waitedMs} ms waiting for the store lock on ${key}`);
    this.name = 'LockTimeoutError';
  }
}

/** The store did not answer a ping in time. */
export class StoreTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`The store did not answer within ${timeoutMs} ms`);
    this.name = 'StoreTimeoutError';
  }
}

/** Rejects with StoreTimeoutError when `work` takes longer than `timeoutMs`. */
export async function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new StoreTimeoutError(timeoutMs)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Failures must reach the caller (it tells the user and keeps what it has), not vanish in an event. */
export function quietErrors<T>(view: Keyv<T>): Keyv<T> {
  // Stryker disable next-line StringLiteral: keyv 5 drops an 'error' event nobody listens to (it never throws), so no event name changes behaviour; the listener guards keyv versions that do
  view.on('error', () => {});
  return view;
}
