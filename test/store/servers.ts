import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { waitFor } from '../fakes/waitFor.js';

/**
 * Real Redis and PostgreSQL servers for the store tests, each on 127.0.0.1 on a free port in
 * its own temp folder, started lean (no persistence, no fsync): the machine is shared.
 * Without the binaries the suites say why and skip; under CI=true they fail instead.
 */

export interface TestServer {
  url: string;
  /** Stops the server (idempotent); its folder is removed. */
  stop(): Promise<void>;
}

export type Backend = 'redis' | 'postgres';

/** Where each server's binaries are, or why they are not usable. */
export function findBinaries(): Record<Backend, { bin: string } | { missing: string }> {
  const redis = which('redis-server');
  const postgresBin = postgresBinDir();
  return {
    redis: redis ? { bin: redis } : { missing: 'redis-server is not installed (Debian: apt-get install redis-server)' },
    postgres: postgresBin ? { bin: postgresBin } : { missing: 'PostgreSQL is not installed (Debian: apt-get install postgresql)' },
  };
}

/**
 * Which backends to test: every backend whose binaries exist. Missing ones are skipped with
 * the reason printed, except under CI=true, where a missing server is a failure.
 */
export function backendsToTest(): { available: Backend[]; skipped: { backend: Backend; why: string }[] } {
  const found = findBinaries();
  const available: Backend[] = [];
  const skipped: { backend: Backend; why: string }[] = [];
  for (const backend of ['redis', 'postgres'] as const) {
    const entry = found[backend];
    if ('bin' in entry) available.push(backend);
    else if (process.env['CI'] === 'true') available.push(backend);
    else skipped.push({ backend, why: entry.missing });
  }
  for (const { backend, why } of skipped) console.warn(`[store tests] skipping ${backend}: ${why}`);
  return { available, skipped };
}

export function startServer(backend: Backend): Promise<TestServer> {
  return backend === 'redis' ? startRedis() : startPostgres();
}

export async function startRedis(): Promise<TestServer> {
  const found = findBinaries().redis;
  if (!('bin' in found)) throw new Error(found.missing);
  const dir = mkdtempSync(join(tmpdir(), 'redis-test-'));
  const port = await freePort();
  const child = spawn(found.bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = collect(child);
  await waitFor(() => output.text.includes('Ready to accept connections') || child.exitCode !== null, 15_000, 'redis-server start');
  if (child.exitCode !== null) throw new Error(`redis-server exited: ${output.text}`);
  return { url: `redis://127.0.0.1:${port}`, stop: stopper(child, dir, 'SIGTERM') };
}

export async function startPostgres(): Promise<TestServer> {
  const found = findBinaries().postgres;
  if (!('bin' in found)) throw new Error(found.missing);
  const dir = mkdtempSync(join(tmpdir(), 'pg-test-'));
  const data = join(dir, 'data');
  // initdb refuses to run as root: as root, the cluster belongs to the postgres user.
  const owner = process.getuid?.() === 0 ? userIds('postgres') : undefined;
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const as = owner ? { uid: owner.uid, gid: owner.gid } : {};
  execFileSync(join(found.bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--no-instructions'], {
    stdio: 'pipe',
    ...as,
  });
  const port = await freePort();
  const child = spawn(
    join(found.bin, 'postgres'),
    [
      '-D', data, '-p', String(port), '-k', dir,
      '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
      '-c', 'shared_buffers=16MB', '-c', 'max_connections=60', '-c', 'logging_collector=off',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], ...as },
  );
  const output = collect(child);
  await waitFor(() => output.text.includes('ready to accept connections') || child.exitCode !== null, 30_000, 'postgres start');
  if (child.exitCode !== null) throw new Error(`postgres exited: ${output.text}`);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  // The "ready" line can come a moment before TCP connections are accepted.
  for (let attempt = 0; ; attempt++) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      break;
    } catch (err) {
      await client.end().catch(() => {});
      if (attempt > 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  // SIGINT: PostgreSQL's fast shutdown (disconnects clients, no checkpoint wait worth having here).
  return { url, stop: stopper(child, dir, 'SIGINT') };
}

function stopper(child: ChildProcess, dir: string, signal: NodeJS.Signals): () => Promise<void> {
  let stopped: Promise<void> | undefined;
  return () => {
    stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
}

function collect(child: ChildProcess): { text: string } {
  const output = { text: '' };
  child.stdout?.on('data', (d: Buffer) => (output.text += String(d)));
  child.stderr?.on('data', (d: Buffer) => (output.text += String(d)));
  return output;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function which(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(':').concat(['/usr/sbin', '/usr/bin', '/usr/local/bin'])) {
    const path = join(dir, name);
    if (dir && existsSync(path)) return path;
  }
  return undefined;
}

/** /usr/lib/postgresql/<version>/bin (Debian), newest version first; else wherever initdb is on the PATH. */
function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  const initdb = which('initdb');
  return initdb && existsSync(join(initdb, '..', 'postgres')) ? join(initdb, '..') : undefined;
}

function userIds(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new Error(`no ${name} user to run PostgreSQL as (initdb refuses root)`);
  return { uid: Number(uid), gid: Number(gid) };
}
