import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireStoreLock, StoreLockedError } from '../../src/store/fileLock.js';
import { openStore } from '../../src/store/openStore.js';

const dirs: string[] = [];
const tempFile = () => {
  const dir = mkdtempSync(join(tmpdir(), 'store-lock-'));
  dirs.push(dir);
  return join(dir, 'bot.sqlite');
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A pid no process has: the largest pid Linux allows is 2^22. */
const DEAD_PID = 4_194_304 + 17;

describe('one writer per SQLite store', () => {
  it('refuses a second holder while the first lives, naming the file, and allows it after release', () => {
    const path = tempFile();
    const release = acquireStoreLock(path);
    expect(() => acquireStoreLock(path)).toThrow(StoreLockedError);
    expect(() => acquireStoreLock(path)).toThrow(path);
    release();
    expect(existsSync(`${path}.lock`)).toBe(false);
    acquireStoreLock(path)();
  });

  it('refuses while another live process holds the lock', () => {
    const path = tempFile();
    // The parent of this test process is alive for as long as the test runs.
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: process.ppid, host: hostname(), at: Date.now() }));
    expect(() => acquireStoreLock(path)).toThrow(`pid ${process.ppid}`);
  });

  it('takes over a lock left by a crashed process, or by an earlier container that had our pid', () => {
    const path = tempFile();
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: DEAD_PID, host: hostname(), at: 0 }));
    const release = acquireStoreLock(path);
    expect(JSON.parse(readFileSync(`${path}.lock`, 'utf8')).pid).toBe(process.pid);
    release();
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), at: 0 }));
    acquireStoreLock(path)();
  });

  it('holds the lock for as long as the store is open', async () => {
    const path = tempFile();
    const store = openStore(`sqlite://${path}`);
    expect(() => openStore(`sqlite://${path}`)).toThrow(StoreLockedError);
    await store.close();
    await openStore(`sqlite://${path}`).close();
  });
});

describe('pruning', () => {
  it('deletes entries whose TTL has passed and keeps the rest', async () => {
    const path = tempFile();
    const store = openStore(`sqlite://${path}`);
    const jobs = store.namespace<{ n: number }>('media');
    const ledger = store.namespace<{ n: number }>('spend');
    await jobs.set('old', { n: 1 }, 1);
    await jobs.set('fresh', { n: 2 }, 60_000);
    await ledger.set('state:g', { n: 3 });
    expect(await store.prune(Date.now() + 1000)).toBe(1);
    expect(await jobs.get('fresh')).toEqual({ n: 2 });
    expect(await ledger.get('state:g')).toEqual({ n: 3 });
    expect(await store.prune(Date.now() + 120_000)).toBe(1);
    expect(await ledger.get('state:g')).toEqual({ n: 3 });
    await store.close();
  });
});
