import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeRefusal, type SpendLimits } from '../../src/core/spendMath.js';
import { SpendLedger } from '../../src/spend/spendLedger.js';
import { openStore, type Store } from '../../src/store/openStore.js';

let dir: string;
let store: Store;
let now: number;
const limits: SpendLimits = { daily: 100, monthly: 1000, userDaily: 60 };
const ledger = (custom: SpendLimits = limits) => new SpendLedger(store.namespace('spend'), () => custom, () => now);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ledger-'));
  store = openStore(`sqlite://${join(dir, 'spend.sqlite')}`);
  now = Date.UTC(2026, 10, 26, 12, 0, 0);
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const req = (userId: string, estimate: number) => ({ scope: 'guild1', userId, kind: 'image' as const, model: 'm', estimate });

describe('SpendLedger', () => {
  it('reserves, settles with the real cost, and releases failed requests', async () => {
    const l = ledger();
    const a = await l.reserve(req('u1', 10));
    const b = await l.reserve(req('u2', 20));
    if (!a.ok || !b.ok) throw new Error('refused');
    expect((await l.state('guild1')).daySpent).toBe(30);
    await l.settle(a.hold, 4);
    await l.release(b.hold);
    const state = await l.state('guild1');
    expect(state).toMatchObject({ daySpent: 4, monthSpent: 4, userDay: { u1: 4, u2: 0 }, reservations: {} });
    expect(await l.entry('guild1', a.hold.entry.id)).toMatchObject({ estimate: 10, actual: 4, status: 'settled', userId: 'u1', kind: 'image' });
    expect(await l.entry('guild1', b.hold.entry.id)).toMatchObject({ estimate: 20, actual: 0, status: 'released' });
    expect(state.recent.map((e) => e.status)).toEqual(['released', 'settled']);
  });

  it('never lets 20 parallel reservations in one guild exceed the limit', async () => {
    const l = ledger({ daily: 100, monthly: null, userDaily: null });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => l.reserve(req(`u${i}`, 7))));
    const granted = results.filter((r) => r.ok);
    expect(granted).toHaveLength(14);
    expect((await l.state('guild1')).daySpent).toBe(98);
    for (const r of results) if (!r.ok) expect(r.refusal.limit).toBe('daily');
  });

  it('refuses what would break the per-person limit, naming it', async () => {
    const l = ledger();
    expect((await l.reserve(req('u1', 50))).ok).toBe(true);
    const refused = await l.reserve(req('u1', 20));
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.refusal).toMatchObject({ limit: 'userDaily', limitSpark: 60, spent: 50, needed: 20 });
    expect(describeRefusal(refused.refusal, now)).toBe(
      "⛔ That would go over your per-person daily limit: 50 Spark of 60 Spark used, and this needs about 20 Spark. It resets at 00:00 UTC (in 12 h 0 min).",
    );
    // Someone else still can.
    expect((await l.reserve(req('u2', 20))).ok).toBe(true);
  });

  it('blocks everything when a limit is 0', async () => {
    const l = ledger({ daily: 0, monthly: null, userDaily: null });
    const r = await l.reserve(req('u1', 0.01));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(describeRefusal(r.refusal, now)).toMatch(/turned off/);
  });

  it('rolls the day over at 00:00 UTC and the month on the 1st', async () => {
    const l = ledger();
    now = Date.UTC(2026, 10, 30, 23, 59);
    const a = await l.reserve(req('u1', 50));
    if (!a.ok) throw new Error('refused');
    await l.settle(a.hold, 50);
    now = Date.UTC(2026, 11, 1, 0, 0, 1);
    const state = await l.state('guild1');
    expect(state).toMatchObject({ day: '2026-12-01', month: '2026-12', daySpent: 0, monthSpent: 0, userDay: {} });
    const b = await l.reserve(req('u1', 55));
    if (!b.ok) throw new Error('refused');
    await l.settle(b.hold, 55);
    // Mid-month: only the day resets.
    now = Date.UTC(2026, 11, 2, 0, 0, 1);
    expect(await l.state('guild1')).toMatchObject({ daySpent: 0, monthSpent: 55 });
  });

  it('carries a request running across midnight into the new day', async () => {
    const l = ledger();
    now = Date.UTC(2026, 10, 26, 23, 59, 50);
    const a = await l.reserve(req('u1', 40));
    if (!a.ok) throw new Error('refused');
    now = Date.UTC(2026, 10, 27, 0, 0, 10);
    expect((await l.state('guild1')).daySpent).toBe(40);
    await l.settle(a.hold, 30);
    expect((await l.state('guild1')).daySpent).toBe(30);
  });

  it('warns once per window when spend passes 80% of a limit', async () => {
    const l = ledger({ daily: 100, monthly: null, userDaily: null });
    const settle = async (amount: number) => {
      const r = await l.reserve(req('u1', amount));
      if (!r.ok) throw new Error('refused');
      return (await l.settle(r.hold, amount)).warnings;
    };
    expect(await settle(70)).toEqual([]);
    expect(await settle(15)).toEqual(['daily']);
    expect(await settle(5)).toEqual([]);
    now += 24 * 3600_000;
    expect(await settle(85)).toEqual(['daily']);
  });

  it('survives a restart and releases holds left by a crashed process', async () => {
    const first = ledger();
    const held = await first.reserve(req('u1', 30));
    if (!held.ok) throw new Error('refused');
    // A new ledger on the same file, as after a restart: the hold is still counted…
    const second = ledger();
    expect((await second.state('guild1')).daySpent).toBe(30);
    // …until it is stale, when the next reservation expires it.
    now += 31 * 60_000;
    expect((await second.reserve(req('u2', 10))).ok).toBe(true);
    const state = await second.state('guild1');
    expect(state.daySpent).toBe(10);
    expect(await second.entry('guild1', held.hold.entry.id)).toMatchObject({ status: 'expired' });
  });

  it('keeps per-guild overrides and returns to the defaults on clear', async () => {
    const l = ledger();
    expect(await l.setLimits('guild1', { daily: 5 })).toEqual({ daily: 5, monthly: 1000, userDaily: 60 });
    expect((await l.limits('guild1')).custom).toBe(true);
    expect((await l.reserve(req('u1', 6))).ok).toBe(false);
    expect(await l.clearLimits('guild1')).toEqual(limits);
    expect((await l.reserve(req('u1', 6))).ok).toBe(true);
  });
});
