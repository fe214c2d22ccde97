import { randomUUID } from 'node:crypto';
import KeyvRedis, { createClient } from '@keyv/redis';
import Keyv from 'keyv';
import { KeyedMutex } from '../core/keyedMutex.js';
import { LOCK_WAIT_MS, LockTimeoutError, quietErrors, withTimeout, type Store, type StoreOptions } from './store.js';

/** A command that gets no answer for this long fails, so a Redis outage reaches users as a line, not a hang. */
const COMMAND_TIMEOUT_MS = 5000;
/**
 * A lock outlives its holder's crash by at most this long. Holders renew it every third of
 * it, so a slow task keeps its lock; ledger tasks take milliseconds.
 */
const LOCK_TTL_MS = 30_000;

/** Deletes the lock only if it is still ours: after an expiry another process may hold it. */
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
/** Extends the lock only if it is still ours. */
const RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

/**
 * `redis://[user:password@]host:port[/db]` (or `rediss://`): one connection shared by every
 * namespace (`history::<channel>`, `spend::state:<guild>`, …). Redis expires TTL'd keys itself.
 */
export function openRedisStore(url: string, { lockWaitMs = LOCK_WAIT_MS }: StoreOptions = {}): Store {
  const client = createClient({
    url,
    socket: { connectTimeout: COMMAND_TIMEOUT_MS, reconnectStrategy: (attempt) => Math.min(100 * 2 ** attempt, 2000) },
    commandOptions: { timeout: COMMAND_TIMEOUT_MS },
  });
  // Failed commands reject for their callers; the connection's own errors (and reconnects) need no handler.
  // Stryker disable next-line StringLiteral: every KeyvRedis adapter (the base one from the start) adds its own 'error' listener to this client, so no event name changes behaviour
  client.on('error', () => {});
  // Each namespace's adapter listens to the one shared connection.
  client.setMaxListeners(100);
  const connecting = client.connect().catch(() => {});
  const adapterFor = (namespace?: string) =>
    new KeyvRedis(client, { ...(namespace ? { namespace } : {}), throwOnErrors: true, throwOnConnectError: true });
  const base = adapterFor();
  // Stryker disable next-line StringLiteral: @keyv/redis (hookified) ignores an 'error' event nobody listens to, so no event name changes behaviour
  base.on('error', () => {});
  const views = new Map<string, Keyv<unknown>>();
  const locks = new KeyedMutex();

  async function acquire(name: string, token: string, key: string): Promise<void> {
    const deadline = Date.now() + lockWaitMs;
    for (let pause = 5; ; pause = Math.min(pause * 2, 100)) {
      const set = await client.set(name, token, { condition: 'NX', expiration: { type: 'PX', value: LOCK_TTL_MS } });
      if (set === 'OK') return;
      // Stryker disable next-line EqualityOperator: > only adds one poll when the clock reads the deadline's exact millisecond
      if (Date.now() >= deadline) throw new LockTimeoutError(key, lockWaitMs);
      // Jitter, so processes polling one key do not wake in step.
      await new Promise((resolve) => setTimeout(resolve, pause + Math.random() * pause));
    }
  }

  return {
    kind: 'redis',
    adapter: base,
    namespace<T>(name: string): Keyv<T> {
      let view = views.get(name);
      if (!view) {
        // The adapter prefixes keys with its namespace; keyv must not prefix them a second time.
        view = quietErrors(new Keyv<unknown>({ store: adapterFor(name), namespace: name, useKeyPrefix: false, throwOnErrors: true }));
        views.set(name, view);
      }
      return view as Keyv<T>;
    },
    lock(key, task) {
      // Contenders in this process queue here, so only one of them polls Redis for the key.
      return locks.run(key, async () => {
        const name = `lock::${key}`;
        const token = randomUUID();
        await acquire(name, token, key);
        const renew = setInterval(() => {
          client.eval(RENEW, { keys: [name], arguments: [token, String(LOCK_TTL_MS)] }).catch(() => {});
        }, LOCK_TTL_MS / 3);
        renew.unref();
        try {
          return await task();
        } finally {
          clearInterval(renew);
          // If this fails the lock expires by itself within LOCK_TTL_MS.
          await client.eval(RELEASE, { keys: [name], arguments: [token] }).catch(() => {});
        }
      });
    },
    async ping(timeoutMs = 2000) {
      await withTimeout(client.ping(), timeoutMs);
    },
    // Keys written with a TTL carry it in Redis, which deletes them when it passes.
    prune: async () => 0,
    async close() {
      if (client.isReady) await client.close().catch(() => {});
      else if (client.isOpen) client.destroy();
      await connecting;
    },
  };
}
