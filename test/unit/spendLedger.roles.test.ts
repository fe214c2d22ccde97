import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SpendLimits } from '../../src/core/spendMath.js';
import { SpendLedger, USER_RECENT_ENTRIES, type LedgerEvent } from '../../src/spend/spendLedger.js';
import { openStore, type Store } from '../../src/store/openStore.js';

let dir: string;
let store: Store;
const now = Date.UTC(2026, 10, 26, 12, 0, 0);
const limits: SpendLimits = { daily: 1000, monthly: 10_000, userDaily: 10 };
const ledger = () => new SpendLedger(store.namespace('spend'), () => limits, () => now);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ledger-roles-'));
  store = openStore(`sqlite://${join(dir, 'spend.sqlite')}`);
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const req = (userId: string, estimate: number, roleIds?: string[]) => ({ scope: 'g', userId, kind: 'chat' as const, model: 'm', estimate, ...(roleIds ? { roleIds } : {}) });

describe('SpendLedger role limits', () => {
  it('stores role limits with the scope’s limits, without making them custom, and clears them with the rest', async () => {
    const l = ledger();
    expect(await l.setRoleLimit('g', 'patron', 30)).toEqual({ patron: 30 });
    expect(await l.limits('g')).toEqual({ limits, custom: false });
    await l.setLimits('g', { daily: 500 });
    expect(await l.roleLimits('g')).toEqual({ patron: 30 });
    expect((await l.limits('g')).limits).toEqual({ ...limits, daily: 500 });
    expect(await l.setRoleLimit('g', 'patron', null)).toEqual({});
    await l.setRoleLimit('g', 'muted', 0);
    await l.clearLimits('g');
    expect(await l.roleLimits('g')).toEqual({});
  });

  it('decides each member’s allowance atomically under 20 concurrent requests', async () => {
    const l = ledger();
    await l.setRoleLimit('g', 'patron', 30);
    const results = await Promise.all([
      ...Array.from({ length: 10 }, () => l.reserve(req('pat', 4, ['patron', 'other']))),
      ...Array.from({ length: 10 }, () => l.reserve(req('joe', 4, ['other']))),
    ]);
    const granted = (userId: string) => results.filter((r) => r.ok && r.hold.entry.userId === userId).length;
    // 30 / 4 → 7 for the patron; the default 10 / 4 → 2 for everyone else.
    expect(granted('pat')).toBe(7);
    expect(granted('joe')).toBe(2);
    const state = await l.state('g');
    expect(state.userDay).toEqual({ pat: 28, joe: 8 });
    const refusals = results.flatMap((r) => (r.ok ? [] : [r.refusal]));
    expect(new Set(refusals.map((r) => `${r.limit}:${r.limitSpark}`))).toEqual(new Set(['userDaily:30', 'userDaily:10']));
  });

  it('blocks a role at 0 unless another of the member’s roles allows paid use', async () => {
    const l = ledger();
    await l.setRoleLimit('g', 'muted', 0);
    await l.setRoleLimit('g', 'patron', 30);
    const blocked = await l.reserve(req('m', 1, ['muted']));
    expect(blocked.ok ? null : blocked.refusal).toMatchObject({ limit: 'userDaily', limitSpark: 0 });
    expect(await l.check(req('m', 0, ['muted']))).toMatchObject({ limit: 'userDaily', limitSpark: 0 });
    expect((await l.reserve(req('m', 1, ['muted', 'patron']))).ok).toBe(true);
    expect(await l.allowance('g', ['muted', 'patron'])).toEqual({ spark: 30, source: 'role', roleId: 'patron' });
  });

  it('warns at 80% of the allowance the hold was granted under', async () => {
    const l = ledger();
    await l.setRoleLimit('g', 'patron', 30);
    const held = await l.reserve(req('pat', 5, ['patron']));
    if (!held.ok) throw new Error('refused');
    // 12 is past 80% of the default 10 but not of the patron's 30: no warning.
    expect((await l.settle(held.hold, 12)).warnings).toEqual([]);
    const again = await l.reserve(req('pat', 5, ['patron']));
    if (!again.ok) throw new Error('refused');
    const settled = await l.settle(again.hold, 13);
    expect(settled.warnings).toEqual(['userDaily']);
    expect(settled.limits.userDaily).toBe(30);
  });

  it('keeps each member’s last paid requests apart, bounded', async () => {
    const l = ledger();
    for (let i = 0; i < USER_RECENT_ENTRIES + 2; i++) {
      const held = await l.reserve(req('a', 0.5));
      if (!held.ok) throw new Error('refused');
      await l.settle(held.hold, 0.1 * (i + 1));
    }
    const other = await l.reserve(req('b', 1));
    if (!other.ok) throw new Error('refused');
    await l.settle(other.hold, 0.9);
    const mine = await l.userRecent('g', 'a');
    expect(mine).toHaveLength(USER_RECENT_ENTRIES);
    expect(mine.every((e) => e.userId === 'a' && e.status === 'settled')).toBe(true);
    expect(mine[0]?.actual).toBeCloseTo(0.7, 6);
    expect((await l.userRecent('g', 'b')).map((e) => e.actual)).toEqual([0.9]);
  });

  it('tells observers about settlements and refusals, and survives an observer that throws', async () => {
    const l = ledger();
    const events: LedgerEvent[] = [];
    l.observe(() => {
      throw new Error('broken observer');
    });
    l.observe((e) => events.push(e));
    const held = await l.reserve(req('a', 4, ['r']));
    if (!held.ok) throw new Error('refused');
    await l.settle(held.hold, 3);
    await l.reserve(req('a', 20));
    expect(events.map((e) => e.type)).toEqual(['settled', 'refused']);
    expect(events[0]).toMatchObject({ type: 'settled', scope: 'g', entry: { userId: 'a', actual: 3 }, state: { daySpent: 3 }, limits });
    expect(events[1]).toMatchObject({ type: 'refused', request: { userId: 'a', kind: 'chat', estimate: 20 }, refusal: { limit: 'userDaily' } });
    expect(events[1]?.type === 'refused' && 'roleIds' in events[1].request).toBe(false);
  });
});
