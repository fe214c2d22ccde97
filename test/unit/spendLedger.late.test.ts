import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SpendLimits } from '../../src/core/spendMath.js';
import { SpendLedger } from '../../src/spend/spendLedger.js';
import { openStore, type Store } from '../../src/store/openStore.js';

let dir: string;
let store: Store;
let now: number;
const limits: SpendLimits = { daily: 100, monthly: 1000, userDaily: null };
const ledger = () => new SpendLedger(store.namespace('spend'), () => limits, () => now);
const req = (userId: string, estimate: number) => ({ scope: 'guild1', userId, kind: 'video' as const, model: 'm', estimate });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ledger-late-'));
  store = openStore(`sqlite://${join(dir, 'spend.sqlite')}`);
  now = Date.UTC(2026, 10, 26, 12, 0, 0);
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('settling a media run after a restart', () => {
  it('counts a late settle after its hold expired', async () => {
    const l = ledger();
    const held = await l.reserve(req('u1', 50));
    if (!held.ok) throw new Error('refused');
    now += 31 * 60_000;
    // Another request expires the stale hold…
    expect((await l.reserve(req('u2', 1))).ok).toBe(true);
    expect((await l.state('guild1')).daySpent).toBe(1);
    // …and the run it belonged to reports its cost later: it still counts.
    await l.settle(held.hold, 50);
    const state = await l.state('guild1');
    expect(state.daySpent).toBe(51);
    expect(state.userDay['u1']).toBe(50);
    expect(await l.entry('guild1', held.hold.entry.id)).toMatchObject({ status: 'settled', actual: 50 });
  });

  it('settles once: a replayed settle or a release after it changes nothing', async () => {
    const l = ledger();
    const held = await l.reserve(req('u1', 50));
    if (!held.ok) throw new Error('refused');
    await l.settle(held.hold, 40);
    await l.settle(held.hold, 40);
    await l.release(held.hold);
    expect((await l.state('guild1')).daySpent).toBe(40);
    expect(await l.entry('guild1', held.hold.entry.id)).toMatchObject({ status: 'settled', actual: 40 });
  });

  it('releases once: a settle replayed after a release does not charge', async () => {
    const l = ledger();
    const held = await l.reserve(req('u1', 50));
    if (!held.ok) throw new Error('refused');
    await l.release(held.hold);
    await l.settle(held.hold, 50);
    expect((await l.state('guild1')).daySpent).toBe(0);
  });
});
