import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { acquireStoreLock, StoreLockedError } from '../../src/store/fileLock.js';

const dirs: string[] = [];
const tempFile = () => {
  const dir = mkdtempSync(join(tmpdir(), 'file-lock-'));
  dirs.push(dir);
  return join(dir, 'bot.sqlite');
};
afterEach(() => {
  vi.restoreAllMocks();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const holder = (path: string) => JSON.parse(readFileSync(`${path}.lock`, 'utf8')) as { pid: number; host: string; at: number };
const writeLock = (path: string, lock: object) => writeFileSync(`${path}.lock`, JSON.stringify(lock));

describe('StoreLockedError', () => {
  it('names the other process and the file, and says what to do', () => {
    const err = new StoreLockedError('data/bot.sqlite', 4242);
    expect(err.name).toBe('StoreLockedError');
    expect(err.message).toBe(
      'Another bot process (pid 4242) is already using the store data/bot.sqlite. ' +
        'Stop it first, or give this one its own STORE_URL (or a shared redis:// or postgres:// store).',
    );
    expect([err.path, err.pid]).toEqual(['data/bot.sqlite', 4242]);
  });
});

describe('acquiring the store lock', () => {
  it('writes this process as the holder', () => {
    const path = tempFile();
    const release = acquireStoreLock(path);
    expect(holder(path)).toMatchObject({ pid: process.pid, host: hostname() });
    release();
  });

  it('respects a live process that belongs to another user (the kill probe answers EPERM)', () => {
    const path = tempFile();
    writeLock(path, { pid: 4242, host: hostname(), at: 0 });
    vi.spyOn(process, 'kill').mockImplementation(() => {
      throw Object.assign(new Error('kill EPERM'), { code: 'EPERM' });
    });
    expect(() => acquireStoreLock(path)).toThrow('pid 4242');
  });

  it('takes over a lock written on another host: its pid says nothing about processes here', () => {
    const path = tempFile();
    // The parent of this test process is alive here, but the lock names another machine.
    writeLock(path, { pid: process.ppid, host: 'some-other-host', at: 0 });
    const release = acquireStoreLock(path);
    expect(holder(path).pid).toBe(process.pid);
    release();
  });

  it('takes over a lock file that names no numeric pid, or cannot be read', () => {
    const path = tempFile();
    writeLock(path, { pid: String(process.ppid), host: hostname(), at: 0 });
    acquireStoreLock(path)();
    writeFileSync(`${path}.lock`, '{"pid": 12');
    acquireStoreLock(path)();
    writeFileSync(`${path}.lock`, 'null');
    acquireStoreLock(path)();
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it('reports a lock file that cannot be created as it is, without touching anything', () => {
    const dir = mkdtempSync(join(tmpdir(), 'file-lock-'));
    dirs.push(dir);
    // The store's folder is a plain file: the lock cannot be created next to it.
    writeFileSync(join(dir, 'data'), 'not a folder');
    let thrown: unknown;
    try {
      acquireStoreLock(join(dir, 'data', 'bot.sqlite'));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ code: 'ENOTDIR', syscall: 'open' });
  });
});

describe('releasing the store lock', () => {
  it('drops the lock on exit until released, and removes its exit hook when released', () => {
    const path = tempFile();
    const before = process.listenerCount('exit');
    const release = acquireStoreLock(path);
    expect(process.listenerCount('exit')).toBe(before + 1);
    release();
    expect(process.listenerCount('exit')).toBe(before);
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it("leaves a lock another process holds by then (after ours was judged stale), and never deletes it on a second release", () => {
    const path = tempFile();
    const release = acquireStoreLock(path);
    writeLock(path, { pid: process.ppid, host: hostname(), at: 1 });
    release();
    expect(holder(path).pid).toBe(process.ppid);

    // Another machine whose process has our pid takes the file after we released it: closing twice must not free it.
    rmSync(`${path}.lock`);
    const again = acquireStoreLock(path);
    again();
    writeLock(path, { pid: process.pid, host: 'another-container', at: 2 });
    again();
    expect(holder(path).host).toBe('another-container');
  });
});
