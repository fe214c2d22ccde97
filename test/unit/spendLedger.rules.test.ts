import Keyv from 'keyv';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SpendLimits, SpendState } from '../../src/core/spendMath.js';
import { LEDGER_ENTRY_TTL_MS, SpendLedger } from '../../src/spend/spendLedger.js';

const limits: SpendLimits = { daily: 100, monthly: 1000, userDaily: null };
const req = (userId: string, estimate: number) => ({ scope: 'guild1', userId, kind: 'image' as const, model: 'flux', estimate });
const DAY = 24 * 3600_000;
const START = Date.UTC(2026, 10, 26, 12, 0, 0);

afterEach(() => {
  vi.useRealTimers();
});

/** The ledger on keyv's in-memory store, with the clock the test moves. */
function setup() {
  let now = START;
  const keyv = new Keyv<unknown>({ namespace: 'spend' });
  const ledger = new SpendLedger(keyv, () => limits, () => now);
  return { keyv, ledger, at: (t: number) => (now = t) };
}

describe('the ledger\'s rules', () => {
  it('keeps each entry for 400 days, then lets it expire', async () => {
    vi.useFakeTimers({ now: START, toFake: ['Date'] });
    const { ledger } = setup();
    const held = await ledger.reserve(req('u1', 5));
    if (!held.ok) throw new Error('refused');
    expect(LEDGER_ENTRY_TTL_MS).toBe(400 * DAY);
    vi.setSystemTime(START + 399 * DAY);
    expect(await ledger.entry('guild1', held.hold.entry.id)).toMatchObject({ status: 'reserved' });
    vi.setSystemTime(START + 401 * DAY);
    expect(await ledger.entry('guild1', held.hold.entry.id)).toBeUndefined();
  });

  it('previews a refusal with check(), holding nothing', async () => {
    const { ledger } = setup();
    expect(await ledger.check({ scope: 'guild1', userId: 'u1', estimate: 150 })).toMatchObject({ limit: 'daily', needed: 150 });
    expect(await ledger.check({ scope: 'guild1', userId: 'u1', estimate: 50 })).toBeNull();
    expect(Object.keys((await ledger.state('guild1')).reservations)).toHaveLength(0);
  });

  it('records the kind a request turned out to be when it settles', async () => {
    const { ledger } = setup();
    const held = await ledger.reserve(req('u1', 5));
    if (!held.ok) throw new Error('refused');
    await ledger.settle(held.hold, 4, 'video');
    expect(await ledger.entry('guild1', held.hold.entry.id)).toMatchObject({ kind: 'video', actual: 4, status: 'settled' });
    expect((await ledger.userRecent('guild1', 'u1'))[0]).toMatchObject({ kind: 'video' });
  });

  it('stores nothing for a server once its last role limit is removed', async () => {
    const { keyv, ledger } = setup();
    await ledger.setRoleLimit('guild1', 'r1', 10);
    expect(await keyv.get('limits:guild1')).toEqual({ roles: { r1: 10 } });
    await ledger.setRoleLimit('guild1', 'r1', null);
    expect(await keyv.get('limits:guild1')).toBeUndefined();
    await ledger.setLimits('guild1', { daily: 5 });
    await ledger.setRoleLimit('guild1', 'r2', 3);
    await ledger.setRoleLimit('guild1', 'r2', null);
    expect(await keyv.get('limits:guild1')).toEqual({ daily: 5 });
  });

  it('marks a released hold released even after it had expired, and never un-settles a settled one', async () => {
    const { ledger, at } = setup();
    const first = await ledger.reserve(req('u1', 5));
    if (!first.ok) throw new Error('refused');
    // 31 minutes on, the next reserve expires the first hold (its process is presumed dead).
    at(START + 31 * 60_000);
    await ledger.reserve(req('u2', 1));
    expect(await ledger.entry('guild1', first.hold.entry.id)).toMatchObject({ status: 'expired' });
    await ledger.release(first.hold);
    expect(await ledger.entry('guild1', first.hold.entry.id)).toMatchObject({ status: 'released', actual: 0 });

    const second = await ledger.reserve(req('u3', 2));
    if (!second.ok) throw new Error('refused');
    await ledger.settle(second.hold, 2);
    await ledger.release(second.hold);
    expect(await ledger.entry('guild1', second.hold.entry.id)).toMatchObject({ status: 'settled', actual: 2 });
  });

  it('expires a stale hold keeping what its entry said, or from the hold alone when the entry is gone', async () => {
    const { keyv, ledger, at } = setup();
    const kept = await ledger.reserve(req('u1', 5));
    const lost = await ledger.reserve(req('u2', 7));
    if (!kept.ok || !lost.ok) throw new Error('refused');
    await keyv.delete(`entry:guild1:${lost.hold.entry.id}`);
    at(START + 31 * 60_000);
    await ledger.reserve(req('u3', 1));
    expect(await ledger.entry('guild1', kept.hold.entry.id)).toMatchObject({ status: 'expired', kind: 'image', model: 'flux', estimate: 5, actual: null });
    expect(await ledger.entry('guild1', lost.hold.entry.id)).toEqual({
      id: lost.hold.entry.id,
      at: START,
      scope: 'guild1',
      userId: 'u2',
      kind: 'other',
      model: '',
      estimate: 7,
      actual: null,
      status: 'expired',
    });
    const state = (await keyv.get('state:guild1')) as SpendState;
    expect(Object.keys(state.reservations)).toHaveLength(1);
  });

  it('fails only the request whose own read failed; the others in its turn go through', async () => {
    const keyv = new Keyv<unknown>({ namespace: 'spend', throwOnErrors: true });
    keyv.on('error', () => {});
    const ledger = new SpendLedger(keyv, () => limits, () => START);
    const a = await ledger.reserve(req('u1', 1));
    const b = await ledger.reserve(req('u2', 1));
    if (!a.ok || !b.ok) throw new Error('refused');
    // The store fails to read u1's recent list once; u2's settle in the same turn is unaffected.
    const get = keyv.get.bind(keyv);
    let failed = false;
    vi.spyOn(keyv, 'get').mockImplementation(((key: string) => {
      if (key === 'recent:guild1:u1' && !failed) {
        failed = true;
        return Promise.reject(new Error('read failed'));
      }
      return get(key);
    }) as typeof keyv.get);
    const [settledA, settledB] = await Promise.allSettled([ledger.settle(a.hold, 1), ledger.settle(b.hold, 1)]);
    expect(settledA.status === 'rejected' && (settledA.reason as Error).message).toBe('read failed');
    expect(settledB.status).toBe('fulfilled');
    expect(await ledger.entry('guild1', b.hold.entry.id)).toMatchObject({ status: 'settled' });
    expect(await ledger.entry('guild1', a.hold.entry.id)).toMatchObject({ status: 'reserved' });
    // The failed one can settle later.
    await ledger.settle(a.hold, 1);
    expect((await ledger.state('guild1')).daySpent).toBe(2);
  });
});
