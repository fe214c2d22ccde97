/** Store figures: history load + trim + append, and ledger reserve + settle, in SQLite with many channels stored. */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildUpstream, MAX_STORED_TURNS, type Turn } from '../src/core/history.js';
import { SpendLedger } from '../src/spend/spendLedger.js';
import { HistoryStore } from '../src/store/historyStore.js';
import { openStore } from '../src/store/openStore.js';

export interface OpFigures {
  ops: number;
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export interface StoreFigures {
  channels: number;
  fileMb: number;
  history: OpFigures;
  historyConcurrent: OpFigures;
  ledger: OpFigures;
}

function figures(latencies: number[], seconds: number): OpFigures {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? NaN;
  return { ops: latencies.length, opsPerSecond: latencies.length / seconds, p50Ms: at(0.5), p99Ms: at(0.99) };
}

const turn = (i: number): Turn =>
  i % 2 === 0
    ? { role: 'user', name: `user${i % 7}`, content: `Question number ${i}: how does the streaming pacer share a channel budget?`, at: i }
    : { role: 'assistant', content: `Answer ${i}: `.padEnd(400, 'lorem ipsum dolor sit amet '), at: i };

export async function storeBench(channels: number): Promise<StoreFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'sogni-store-bench-'));
  const file = join(dir, 'bench.sqlite');
  const store = openStore(`sqlite://${file}`);
  const historyKeyv = store.namespace<Turn[]>('history');
  const history = new HistoryStore(historyKeyv, { maxImages: 4 });
  const full = Array.from({ length: MAX_STORED_TURNS }, (_, i) => turn(i));
  const small = full.slice(0, 6);

  // Fill the file in large transactions; one insert per channel would measure fsync, not the bot.
  const query = (store.adapter as unknown as { query(sql: string, ...args: unknown[]): Promise<unknown> }).query;
  const hot = 1000;
  for (let start = 0; start < channels; start += 500) {
    await query('BEGIN');
    const entries = [];
    for (let c = start; c < Math.min(channels, start + 500); c++) entries.push({ key: `channel${c}`, value: c < hot ? full : small });
    await historyKeyv.setMany(entries);
    await query('COMMIT');
  }

  /** What one answer does to the store: load the channel, trim it for upstream, append the exchange. */
  const answerOnce = async (channel: string, k: number, into: number[]) => {
    const start = performance.now();
    const turns = await history.load(channel);
    buildUpstream('system prompt', [...turns, turn(k)]);
    await history.append(channel, [turn(k), turn(k + 1)]);
    into.push(performance.now() - start);
  };

  const sequential: number[] = [];
  let t0 = performance.now();
  for (let i = 0; i < 2000; i++) await answerOnce(`channel${(i * 7919) % hot}`, i, sequential);
  const historyFigures = figures(sequential, (performance.now() - t0) / 1000);

  const concurrent: number[] = [];
  t0 = performance.now();
  for (let round = 0; round < 40; round++) {
    await Promise.all(Array.from({ length: 50 }, (_, k) => answerOnce(`channel${(round * 50 + k) % hot}`, k, concurrent)));
  }
  const concurrentFigures = figures(concurrent, (performance.now() - t0) / 1000);

  const ledger = new SpendLedger(store.namespace('spend'), () => ({ daily: 1e9, monthly: 1e9, userDaily: null }));
  const ledgerLatencies: number[] = [];
  t0 = performance.now();
  for (let i = 0; i < 2000; i++) {
    const start = performance.now();
    const held = await ledger.reserve({ scope: `guild${i % 100}`, userId: `user${i % 37}`, kind: 'chat', model: 'm', estimate: 0.25 });
    if (held.ok) await ledger.settle(held.hold, 0.1);
    ledgerLatencies.push(performance.now() - start);
  }
  const ledgerFigures = figures(ledgerLatencies, (performance.now() - t0) / 1000);

  await store.close();
  const fileMb = statSync(file).size / 1024 / 1024;
  rmSync(dir, { recursive: true, force: true });
  return { channels, fileMb, history: historyFigures, historyConcurrent: concurrentFigures, ledger: ledgerFigures };
}
