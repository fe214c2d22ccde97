import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openStore, storeKind, storeSecrets } from '../../src/store/openStore.js';
import { LOCK_WAIT_MS, LockTimeoutError, StoreTimeoutError, withTimeout } from '../../src/store/store.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('which backend a STORE_URL names', () => {
  it('redis:// and rediss:// are Redis, postgres:// and postgresql:// are PostgreSQL, anything else is a SQLite path', () => {
    expect(storeKind('redis://cache:6379/0')).toBe('redis');
    expect(storeKind('rediss://default:pw@cache:6380')).toBe('redis');
    expect(storeKind('postgres://bot@db/bot')).toBe('postgres');
    expect(storeKind('postgresql://bot@db/bot')).toBe('postgres');
    expect(storeKind('sqlite://data/bot.sqlite')).toBe('sqlite');
  });

  it('only the scheme decides: a SQLite path that merely contains another scheme stays SQLite', () => {
    expect(storeKind('sqlite://data/redis://x.sqlite')).toBe('sqlite');
    expect(storeKind('sqlite://data/postgres://x.sqlite')).toBe('sqlite');
    expect(storeKind('sqlite://data/postgresql://x.sqlite')).toBe('sqlite');
  });

  it('openStore opens the backend the URL names (nothing is contacted until used)', async () => {
    const redis = openStore('redis://127.0.0.1:1');
    const postgres = openStore('postgres://bot@127.0.0.1:1/bot');
    const dir = mkdtempSync(join(tmpdir(), 'store-kind-'));
    const sqlite = openStore(`sqlite://${join(dir, 'bot.sqlite')}`);
    try {
      expect([redis.kind, postgres.kind, sqlite.kind]).toEqual(['redis', 'postgres', 'sqlite']);
    } finally {
      await Promise.all([redis.close(), postgres.close(), sqlite.close()]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a STORE_URL password', () => {
  it('is nothing when the URL cannot be parsed, or has no password', () => {
    expect(storeSecrets('not a url')).toEqual([]);
    expect(storeSecrets('redis://cache:6379')).toEqual([]);
    expect(storeSecrets('redis://user@cache:6379')).toEqual([]);
  });
});

describe('store errors', () => {
  it('LockTimeoutError names the key and how long was waited', () => {
    const err = new LockTimeoutError('spend:g1', 300);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('LockTimeoutError');
    expect(err.message).toBe('Timed out after 300 ms waiting for the store lock on spend:g1');
    expect([err.key, err.waitedMs]).toEqual(['spend:g1', 300]);
    expect(LOCK_WAIT_MS).toBe(15_000);
  });

  it('StoreTimeoutError says how long the store was given', () => {
    const err = new StoreTimeoutError(2000);
    expect(err.name).toBe('StoreTimeoutError');
    expect(err.message).toBe('The store did not answer within 2000 ms');
    expect(err.timeoutMs).toBe(2000);
  });
});

describe('withTimeout', () => {
  it('passes on the answer (or the failure) of work that finishes in time, leaving no timer behind', async () => {
    vi.useFakeTimers();
    await expect(withTimeout(Promise.resolve('pong'), 1000)).resolves.toBe('pong');
    expect(vi.getTimerCount()).toBe(0);
    await expect(withTimeout(Promise.reject(new Error('connection refused')), 1000)).rejects.toThrow('connection refused');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with StoreTimeoutError once the time passes, not before', async () => {
    vi.useFakeTimers();
    const never = new Promise<string>(() => {});
    let outcome: unknown;
    const timed = withTimeout(never, 1000).catch((err: unknown) => (outcome = err));
    await vi.advanceTimersByTimeAsync(999);
    expect(outcome).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    await timed;
    expect(outcome).toBeInstanceOf(StoreTimeoutError);
    expect((outcome as StoreTimeoutError).timeoutMs).toBe(1000);
  });
});
