import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Keyv, { type KeyvStoreAdapter } from 'keyv';
import { afterEach, describe, expect, it } from 'vitest';
import type { SpendLimits } from '../../src/core/spendMath.js';
import { SpendLedger, type LedgerEvent } from '../../src/spend/spendLedger.js';
import { openSqliteStore } from '../../src/store/sqliteStore.js';
import type { Store } from '../../src/store/store.js';

const limits: SpendLimits = { daily: 100, monthly: 1000, userDaily: null };
const req = (userId: string, estimate = 1) => ({ scope: 'guild1', userId, kind: 'chat' as const, model: 'm', estimate });

/**
 * keyv's in-memory Map store, every read and write taking `delayMs` (a store under load), and
 * `failWrites` making the next writes fail (a store that went away). Counts the writes.
 */
function slowStore(delayMs: number) {
  const map = new Map<string, unknown>();
  const wait = () => new Promise((r) => setTimeout(r, delayMs));
  const counts = { setMany: 0, set: 0 };
  let failWrites = 0;
  const failIfAsked = () => {
    if (failWrites > 0) {
      failWrites -= 1;
      throw new Error('store went away');
    }
  };
  const adapter = {
    opts: {},
    namespace: undefined as string | undefined,
    on: () => adapter,
    async get(key: string) {
      await wait();
      return map.get(key);
    },
    async getMany(keys: string[]) {
      await wait();
      return keys.map((k) => map.get(k));
    },
    async set(key: string, value: unknown) {
      await wait();
      counts.set += 1;
      failIfAsked();
      map.set(key, value);
    },
    async setMany(entries: { key: string; value: unknown }[]) {
      await wait();
      counts.setMany += 1;
      failIfAsked();
      for (const { key, value } of entries) map.set(key, value);
    },
    async delete(key: string) {
      await wait();
      return map.delete(key);
    },
    async clear() {
      map.clear();
    },
  };
  const keyv = new Keyv({ store: adapter as unknown as KeyvStoreAdapter, namespace: 'spend', throwOnErrors: true });
  keyv.on('error', () => {});
  return { keyv, counts, failNextWrites: (n: number) => (failWrites = n) };
}

const stores: Store[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

/** The lock the bot gives the ledger: the store's, which gives up after `lockWaitMs`. */
function storeLock(lockWaitMs: number) {
  const store = openSqliteStore('sqlite://:memory:', { lockWaitMs });
  stores.push(store);
  const lock = <T>(key: string, task: () => Promise<T>) => store.lock(key, task);
  /** Holds the server's key as another process would, until the returned function is called. */
  const hold = (key: string) => {
    let release = () => {};
    const held = lock(key, () => new Promise<void>((r) => (release = r)));
    return async () => {
      release();
      await held;
    };
  };
  return { lock, hold };
}

const reservedNow = async (ledger: SpendLedger) => Object.values((await ledger.state('guild1')).reservations).reduce((n, r) => n + r.amount, 0);
/** Lets the slow store's reads finish, so every request waits in line for the lock. */
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a busy server reserving all at once', () => {
  it('reserves 25 answers at once within the lock wait although each store round trip takes 100 ms', async () => {
    // One at a time, 25 × (read + write) × 100 ms = 5 s, past the 1.5 s the lock waits.
    const { keyv, counts } = slowStore(100);
    const ledger = new SpendLedger(keyv, () => limits, Date.now, storeLock(1500));
    const results = await Promise.all(Array.from({ length: 25 }, (_, i) => ledger.reserve(req(`u${i}`))));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(counts.setMany).toBeLessThan(5);
    expect(Object.keys((await ledger.state('guild1')).reservations)).toHaveLength(25);
  });

  it('decides each reservation of a batch against the ones before it: never past the limit', async () => {
    const { keyv, counts } = slowStore(20);
    const lock = storeLock(5000);
    const ledger = new SpendLedger(keyv, () => ({ daily: 10, monthly: 1000, userDaily: null }), Date.now, lock);
    const free = lock.hold('guild1');
    const pending = Array.from({ length: 14 }, (_, i) => ledger.reserve(req(`u${i}`, 1)));
    await settle(100);
    await free();
    const results = await Promise.all(pending);
    expect(counts.setMany).toBe(1);
    // Taken in the order they came: the first ten fit, the last four are refused by the daily limit.
    expect(results.map((r) => r.ok)).toEqual([...Array(10).fill(true), ...Array(4).fill(false)]);
    const refused = results.at(-1);
    expect(refused?.ok === false && refused.refusal.limit).toBe('daily');
    expect(await reservedNow(ledger)).toBe(10);
  });

  it('writes each reservation with its ledger entry, and settles a batch with each member\'s recent list', async () => {
    const { keyv, counts } = slowStore(5);
    const lock = storeLock(5000);
    const ledger = new SpendLedger(keyv, () => limits, Date.now, lock);
    let free = lock.hold('guild1');
    const reserving = [ledger.reserve(req('u1', 2)), ledger.reserve(req('u1', 3)), ledger.reserve(req('u2', 4))];
    await settle(50);
    await free();
    const holds = (await Promise.all(reserving)).map((r) => (r.ok ? r.hold : null)).filter((h) => h !== null);
    expect(holds).toHaveLength(3);
    for (const hold of holds) expect(await ledger.entry('guild1', hold.entry.id)).toMatchObject({ status: 'reserved', estimate: hold.entry.estimate });
    free = lock.hold('guild1');
    const settling = holds.map((hold, i) => ledger.settle(hold, i + 1));
    await settle(50);
    await free();
    await Promise.all(settling);
    expect(counts.setMany).toBe(2);
    const state = await ledger.state('guild1');
    expect(state.daySpent).toBe(1 + 2 + 3);
    expect(await reservedNow(ledger)).toBe(0);
    // Two settles of one member in one batch: both are in their recent list, newest first.
    expect((await ledger.userRecent('guild1', 'u1')).map((e) => e.actual)).toEqual([2, 1]);
    expect((await ledger.userRecent('guild1', 'u2')).map((e) => e.actual)).toEqual([3]);
  });

  it('fails the whole batch when its write fails: nothing held, nothing announced, the next batch works', async () => {
    const { keyv, failNextWrites } = slowStore(5);
    const lock = storeLock(5000);
    const ledger = new SpendLedger(keyv, () => limits, Date.now, lock);
    const events: LedgerEvent[] = [];
    ledger.observe((e) => events.push(e));
    await ledger.reserve(req('first', 1)).then((r) => (r.ok ? ledger.settle(r.hold, 1) : null));
    expect(events.map((e) => e.type)).toEqual(['settled']);
    failNextWrites(1);
    const free = lock.hold('guild1');
    const pending = Promise.allSettled(Array.from({ length: 3 }, (_, i) => ledger.reserve(req(`u${i}`))));
    await settle(50);
    await free();
    const settled = await pending;
    expect(settled.map((s) => s.status === 'rejected' && (s.reason as Error).message)).toEqual(Array(3).fill('store went away'));
    expect(await reservedNow(ledger)).toBe(0);
    expect(events).toHaveLength(1);
    expect((await ledger.reserve(req('later'))).ok).toBe(true);
  });

  it('announces a refusal only once the batch it belongs to is written', async () => {
    const { keyv, failNextWrites } = slowStore(5);
    const ledger = new SpendLedger(keyv, () => ({ daily: 1, monthly: 1000, userDaily: null }), Date.now, storeLock(5000));
    const events: LedgerEvent[] = [];
    ledger.observe((e) => events.push(e));
    failNextWrites(1);
    await expect(ledger.reserve(req('u1', 5))).rejects.toThrow('store went away');
    expect(events).toEqual([]);
    expect(await ledger.reserve(req('u1', 5))).toMatchObject({ ok: false, refusal: { limit: 'daily' } });
    expect(events.map((e) => e.type)).toEqual(['refused']);
  });

  it('gives up on every waiting reservation when the lock is not free in time, and holds none of them', async () => {
    const { keyv } = slowStore(1);
    const lock = storeLock(200);
    const ledger = new SpendLedger(keyv, () => limits, Date.now, lock);
    // Another process (or a stuck task) holds the server's key.
    const free = lock.hold('guild1');
    const waiting = await Promise.allSettled([ledger.reserve(req('u1')), ledger.reserve(req('u2'))]);
    expect(waiting.map((w) => w.status === 'rejected' && (w.reason as Error).name)).toEqual(['LockTimeoutError', 'LockTimeoutError']);
    await free();
    expect(Object.keys((await ledger.state('guild1')).reservations)).toHaveLength(0);
    expect((await ledger.reserve(req('u3'))).ok).toBe(true);
  });
});

describe('the SQLite store under the ledger', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('keeps the file in write-ahead-log mode with every commit synced, and writes an entry with its reservation in one statement', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-wal-'));
    const store = openSqliteStore(`sqlite://${join(dir, 'bot.sqlite')}`);
    stores.push(store);
    const query = store.adapter as unknown as { query: (sql: string, ...p: unknown[]) => Promise<Record<string, unknown>[]> };
    expect(await query.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    // 2 = FULL: a commit is on disk before the ledger says it happened.
    expect(await query.query('PRAGMA synchronous')).toEqual([{ synchronous: 2 }]);
    const statements: string[] = [];
    const original = query.query;
    query.query = (sql, ...p) => {
      statements.push(sql);
      return original(sql, ...p);
    };
    const ledger = new SpendLedger(store.namespace('spend'), () => limits, Date.now, { lock: (k, t) => store.lock(k, t) });
    const held = await ledger.reserve(req('u1', 2));
    if (!held.ok) throw new Error('refused');
    const inserts = statements.filter((s) => s.startsWith('INSERT'));
    expect(inserts).toHaveLength(1);
    expect(await ledger.entry('guild1', held.hold.entry.id)).toMatchObject({ status: 'reserved' });
    expect((await ledger.state('guild1')).reservations[held.hold.reservation.id]).toMatchObject({ amount: 2 });
  });
});
