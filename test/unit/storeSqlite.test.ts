import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type KeyvSqlite from '@keyv/sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqliteStore.js';
import { LockTimeoutError, type Store } from '../../src/store/store.js';

const dirs: string[] = [];
const opened: Store[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'sqlite-store-'));
  dirs.push(dir);
  return dir;
};
const pragma = (store: Store, name: string) => (store.adapter as KeyvSqlite).query(`PRAGMA ${name}`);
const open = (url: string, lockWaitMs?: number) => {
  const store = openSqliteStore(url, lockWaitMs === undefined ? {} : { lockWaitMs });
  opened.push(store);
  return store;
};
afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((s) => s.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('SQLite store: the file', () => {
  it('creates the file and its folders on first run, holds <file>.lock beside it, and keeps data across reopening', async () => {
    const path = join(tempDir(), 'data', 'nested', 'bot.sqlite');
    const store = open(`sqlite://${path}`);
    expect(store.kind).toBe('sqlite');
    await store.namespace<string>('meta').set('k', 'kept');
    expect(existsSync(path)).toBe(true);
    expect(existsSync(`${path}.lock`)).toBe(true);
    await store.close();
    expect(existsSync(`${path}.lock`)).toBe(false);
    expect(await open(`sqlite://${path}`).namespace<string>('meta').get('k')).toBe('kept');
  });

  it('an in-memory store takes no file lock, so several can be open at once', async () => {
    const a = open('sqlite://:memory:');
    const b = open('sqlite://:memory:');
    await a.namespace<string>('meta').set('k', 'a');
    expect(await b.namespace<string>('meta').get('k')).toBeUndefined();
    expect(existsSync(':memory:.lock')).toBe(false);
  });

  it('a file store writes ahead (WAL) and syncs every commit; an in-memory one does not', async () => {
    const store = open(`sqlite://${join(tempDir(), 'bot.sqlite')}`);
    expect(await pragma(store, 'journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    expect(await pragma(store, 'synchronous')).toEqual([{ synchronous: 2 }]);
    const memory = open('sqlite://:memory:');
    expect(await pragma(memory, 'journal_mode')).toEqual([{ journal_mode: 'memory' }]);
  });

  it('setMany writes every entry (and nothing for an empty batch)', async () => {
    const store = open(`sqlite://${join(tempDir(), 'bot.sqlite')}`);
    const spend = store.namespace<number>('spend');
    await spend.setMany([]);
    await spend.setMany([
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
    ]);
    await spend.setMany([
      { key: 'b', value: 3 },
      { key: 'c', value: 4 },
    ]);
    expect(await spend.getMany(['a', 'b', 'c'])).toEqual([1, 3, 4]);
  });
});

describe('SQLite store: failures reach the caller', () => {
  it('a closed store rejects reads and pings instead of answering nothing', async () => {
    const store = open(`sqlite://${join(tempDir(), 'bot.sqlite')}`);
    await store.namespace<string>('meta').set('k', 'v');
    await store.ping();
    await store.adapter.disconnect?.();
    await expect(store.namespace<string>('meta').get('k')).rejects.toThrow();
    await expect(store.ping(1000)).rejects.toThrow();
    await store.close();
    await store.close();
  });
});

describe('SQLite store: lock', () => {
  it('a task waiting longer than lockWaitMs gives up with LockTimeoutError, and never runs later', async () => {
    const store = open('sqlite://:memory:', 150);
    let release!: () => void;
    let held!: () => void;
    const holding = new Promise<void>((r) => (held = r));
    const holder = store.lock('busy', () => {
      held();
      return new Promise<void>((r) => (release = r));
    });
    await holding;
    let ran = false;
    const started = Date.now();
    await expect(
      store.lock('busy', async () => {
        ran = true;
      }),
    ).rejects.toBeInstanceOf(LockTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    release();
    await holder;
    await expect(store.lock('busy', async () => 'next')).resolves.toBe('next');
    expect(ran).toBe(false);
  });

  it('a task that gets the key in time runs, and its result and errors reach the caller', async () => {
    const store = open('sqlite://:memory:', 1000);
    await expect(store.lock('k', async () => 42)).resolves.toBe(42);
    await expect(store.lock('k', async () => Promise.reject(new Error('task broke')))).rejects.toThrow('task broke');
  });
});
