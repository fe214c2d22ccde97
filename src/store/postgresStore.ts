import { createHash } from 'node:crypto';
import KeyvPostgres, { type KeyvPostgresOptions } from '@keyv/postgres';
import Keyv from 'keyv';
import pg from 'pg';
import { KeyedMutex } from '../core/keyedMutex.js';
import { LOCK_WAIT_MS, LockTimeoutError, quietErrors, withTimeout, type Store, type StoreOptions } from './store.js';

const TABLE = 'keyv';
/** A query that gets no answer for this long fails, so an outage reaches users as a line, not a hang. */
const QUERY_TIMEOUT_MS = 10_000;
/** PostgreSQL's "lock_not_available", raised when lock_timeout passes. */
const LOCK_NOT_AVAILABLE = '55P03';
/** "undefined_table": the table could not be created at start (the server was down then). */
const UNDEFINED_TABLE = '42P01';
const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS public.${TABLE}(key VARCHAR(255) PRIMARY KEY, value TEXT)`;

type Query = (sql: string, values?: unknown[]) => Promise<unknown[]>;

/**
 * @keyv/postgres on a pool this store owns. Its own pool is a module-wide singleton without an
 * error listener: an idle connection dropped by the server (a restart, a failover) would crash
 * the process, and closing one store would close every other store's pool.
 */
class PooledKeyvPostgres extends KeyvPostgres {
  override async connect(): Promise<Query> {
    // openPostgresStore always passes its pool.
    const pool = (this.opts as { pool: pg.Pool }).pool;
    return async (sql, values) => {
      try {
        return (await pool.query(sql, values)).rows as unknown[];
      } catch (err) {
        if ((err as { code?: unknown }).code !== UNDEFINED_TABLE) throw err;
        await pool.query(CREATE_TABLE);
        return (await pool.query(sql, values)).rows as unknown[];
      }
    };
  }

  override async disconnect(): Promise<void> {
    // The store ends the pool once, after every namespace is done with it.
  }
}

/** Advisory lock ids are 64-bit integers: the first 8 bytes of the key's hash (collisions only make two keys wait for each other). */
function lockId(key: string): string {
  return createHash('sha256').update(`sogni-bot:${key}`).digest().readBigInt64BE(0).toString();
}

/**
 * `postgres://user:password@host:port/database` (or `postgresql://`): one table `keyv`
 * (key, JSON value) shared by every namespace. Locks are transaction-scoped advisory locks
 * on their own connections, so a crashed holder's lock ends with its connection.
 */
export function openPostgresStore(url: string, { lockWaitMs = LOCK_WAIT_MS }: StoreOptions = {}): Store {
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: QUERY_TIMEOUT_MS, query_timeout: QUERY_TIMEOUT_MS });
  // A lock holds its connection while the task runs its queries on `pool`: separate pools, so
  // holders waiting for a connection can never starve the tasks that would free them.
  const lockPool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: lockWaitMs });
  // Queries report their own failures; an idle connection that dies is replaced by the pool.
  pool.on('error', () => {});
  lockPool.on('error', () => {});
  const options: KeyvPostgresOptions & { pool: pg.Pool } = { uri: url, table: TABLE, pool };
  const adapter = new PooledKeyvPostgres(options);
  adapter.on('error', () => {});
  const locks = new KeyedMutex();

  async function locked<T>(key: string, task: () => Promise<T>): Promise<T> {
    const connection = await lockPool.connect();
    let broken: unknown;
    // The server can end a checked-out connection (a restart, an admin): without a listener
    // that error would crash the process. The lock went with it; COMMIT below then fails too.
    const onError = (err: unknown) => (broken = err);
    connection.on('error', onError);
    try {
      await connection.query('BEGIN');
      await connection.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(lockWaitMs))}`);
      try {
        await connection.query('SELECT pg_advisory_xact_lock($1::bigint)', [lockId(key)]);
      } catch (err) {
        if ((err as { code?: unknown }).code === LOCK_NOT_AVAILABLE) throw new LockTimeoutError(key, lockWaitMs);
        throw err;
      }
      return await task();
    } finally {
      // Ending the transaction releases the lock (a failed one rolls back, which releases it too).
      await connection.query('COMMIT').catch((err: unknown) => (broken = err));
      connection.off('error', onError);
      // A connection that failed mid-transaction is closed rather than reused.
      connection.release(broken instanceof Error ? broken : undefined);
    }
  }

  return {
    kind: 'postgres',
    adapter,
    namespace<T>(name: string): Keyv<T> {
      return quietErrors(new Keyv<T>({ store: adapter, namespace: name, throwOnErrors: true }));
    },
    // Contenders in this process queue here, so each key takes one connection at most.
    lock: (key, task) => locks.run(key, () => locked(key, task)),
    async ping(timeoutMs = 2000) {
      await withTimeout(pool.query('SELECT 1'), timeoutMs);
    },
    async prune(now = Date.now()) {
      // keyv keeps `{"value":…,"expires":ms}` in the value column; entries without a TTL are kept.
      // CASE fixes the order: only text that looks like keyv's JSON is parsed.
      const rows = await adapter.query(
        `WITH gone AS (
           DELETE FROM public.${TABLE}
           WHERE CASE WHEN value LIKE '{%"expires":%' THEN (value::jsonb ->> 'expires')::numeric < $1 ELSE false END
           RETURNING 1)
         SELECT count(*)::int AS n FROM gone`,
        [now],
      );
      // count(*) always answers one row.
      return (rows[0] as { n: number }).n;
    },
    async close() {
      await Promise.allSettled([pool.end(), lockPool.end()]);
    },
  };
}
