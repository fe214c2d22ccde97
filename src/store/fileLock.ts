import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** A second bot process on the same SQLite file: refused at start, with the file named. */
export class StoreLockedError extends Error {
  constructor(readonly path: string, readonly pid: number) {
    super(
      `Another bot process (pid ${pid}) is already using the store ${path}. ` +
        'Stop it first, or give this one its own STORE_URL (or a shared redis:// or postgres:// store).',
    );
    this.name = 'StoreLockedError';
  }
}

interface LockFile {
  pid: number;
  host: string;
  at: number;
}

/** Locks taken by this process, so a pid that is our own is told apart from a stale lock left with the same pid. */
const heldHere = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(path: string): { pid: number; host: unknown } | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockFile>;
    if (typeof parsed.pid === 'number') return { pid: parsed.pid, host: parsed.host };
  } catch {
    // Unreadable or half-written: there is no holder to respect.
  }
  return undefined;
}

/**
 * Holds `<store>.lock` for this process's life. The ledger's and history's locks are
 * in-process, so two processes writing one SQLite file would lose each other's updates.
 * A lock whose process is gone (a crash, or a container restarted with the same pid) is
 * stale and taken over. Returns the release function; the lock is also dropped on exit.
 */
export function acquireStoreLock(storePath: string): () => void {
  const path = `${storePath}.lock`;
  const mine: LockFile = { pid: process.pid, host: hostname(), at: Date.now() };
  const content = JSON.stringify(mine);
  try {
    writeFileSync(path, content, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const other = readLock(path);
    const ours = other?.pid === process.pid && heldHere.has(path);
    const live = other !== undefined && other.host === mine.host && (ours || (other.pid !== process.pid && isAlive(other.pid)));
    if (live) throw new StoreLockedError(storePath, other.pid);
    unlinkSync(path);
    // One retry: if another process takes the stale lock at this instant, this write fails (EEXIST) rather than both holding it.
    // Stryker disable next-line ObjectLiteral,StringLiteral: only another process writing between the unlink above and this line could tell 'wx' from a plain write
    writeFileSync(path, content, { flag: 'wx' });
  }
  heldHere.add(path);
  const release = () => {
    process.off('exit', release);
    if (!heldHere.delete(path)) return;
    try {
      if (readLock(path)?.pid === process.pid) unlinkSync(path);
    } catch {
      // Already gone: nothing to release.
    }
  };
  process.on('exit', release);
  return release;
}
