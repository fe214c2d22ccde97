import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpendLedger } from '../../src/spend/spendLedger.js';
import { openStore, type Store } from '../../src/store/openStore.js';
import { waitFor } from '../fakes/waitFor.js';
import { backendsToTest, startServer, type TestServer } from './servers.js';

/**
 * Two bot processes on one Redis or PostgreSQL reserving against the same guild at once:
 * the guild's limit holds exactly, and the ledger's state adds up after they settle.
 */

interface Worker {
  child: ChildProcess;
  /** Each JSON line the worker printed, in order. */
  messages: Record<string, unknown>[];
  send(line: string): void;
  exited: Promise<number | null>;
  output(): string;
}

function startWorker(url: string, index: number, env: Record<string, string>): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'ledgerWorker.ts')], {
    cwd: join(import.meta.dirname, '../..'),
    env: { PATH: process.env['PATH'] ?? '', STORE_URL: url, WORKER: String(index), ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const messages: Record<string, unknown>[] = [];
  let text = '';
  createInterface({ input: child.stdout! }).on('line', (line) => {
    text += `${line}\n`;
    try {
      messages.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // Not one of the worker's lines.
    }
  });
  child.stderr!.on('data', (d: Buffer) => (text += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, messages, send: (line) => child.stdin!.write(`${line}\n`), exited, output: () => text };
}

const { available } = backendsToTest();

for (const kind of available) {
  describe(`the spend ledger across processes: ${kind}`, () => {
    let server: TestServer;
    let store: Store;
    beforeAll(async () => {
      server = await startServer(kind);
      store = openStore(server.url);
    });
    afterAll(async () => {
      await store?.close();
      await server?.stop();
    });

    it('two bot processes reserving against one guild at once never overspend, and settle to the exact total', async () => {
      const scope = `guild-${kind}`;
      const env = { SCOPE: scope, ATTEMPTS: '30', ESTIMATE: '3', DAILY: '100' };
      const workers = [startWorker(server.url, 0, env), startWorker(server.url, 1, env)];
      try {
        const has = (w: Worker, key: string) => w.messages.find((m) => key in m);
        await waitFor(() => workers.every((w) => has(w, 'ready') || w.child.exitCode !== null), 30_000, 'workers ready');
        for (const w of workers) expect(has(w, 'ready'), w.output()).toBeTruthy();
        for (const w of workers) w.send('go');
        await waitFor(() => workers.every((w) => has(w, 'granted') || w.child.exitCode !== null), 30_000, 'reservations');

        // 60 attempts of 3 Spark against 100: exactly 33 fit, whichever process got them.
        const granted = workers.map((w) => Number(has(w, 'granted')?.['granted']));
        expect(granted.reduce((a, b) => a + b, 0), workers.map((w) => w.output()).join('\n')).toBe(33);
        // Both processes really competed.
        expect(granted.every((g) => g > 0)).toBe(true);
        const ledger = new SpendLedger(store.namespace('spend'), () => ({ daily: 100, monthly: null, userDaily: null }));
        const held = await ledger.state(scope);
        expect(held.daySpent).toBe(99);
        expect(Object.keys(held.reservations)).toHaveLength(33);
        const ids = workers.flatMap((w) => has(w, 'granted')?.['ids'] as string[]);
        expect(new Set(ids).size).toBe(33);
        for (const id of ids) expect(await ledger.entry(scope, id)).toMatchObject({ status: 'reserved', estimate: 3 });

        for (const w of workers) w.send('settle');
        expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0]);
        const settled = workers.map((w) => Number(has(w, 'settledSpark')?.['settledSpark'])).reduce((a, b) => a + b, 0);
        const after = await ledger.state(scope);
        expect(after.reservations).toEqual({});
        expect(after.daySpent).toBe(settled);
        const statuses = await Promise.all(ids.map(async (id) => (await ledger.entry(scope, id))?.status));
        expect(statuses.filter((s) => s === 'settled').length + statuses.filter((s) => s === 'released').length).toBe(33);
      } finally {
        for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
      }
    });
  });
}
