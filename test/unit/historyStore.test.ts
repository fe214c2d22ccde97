import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Keyv from 'keyv';
import { afterEach, describe, expect, it } from 'vitest';
import type { Turn } from '../../src/core/history.js';
import { HistoryStore } from '../../src/store/historyStore.js';
import { openStore, type Store } from '../../src/store/openStore.js';
import { waitFor } from '../fakes/waitFor.js';

/**
 * The real keyv store with a gate in front of its reads: every `get` waits until the test
 * opens the gate, then reads for real. Whatever reads arrive while it is shut are released
 * together, so two appends that are allowed to overlap both read before either writes.
 */
function gatedReads(keyv: Keyv<Turn[]>) {
  const waiting: (() => void)[] = [];
  const log: string[] = [];
  let open = false;
  const gated = new Proxy(keyv, {
    get(target, property) {
      if (property === 'get') {
        return async (key: string) => {
          log.push(`read ${key}`);
          if (!open) await new Promise<void>((resolve) => waiting.push(resolve));
          return target.get(key);
        };
      }
      if (property === 'set') {
        return async (key: string, value: Turn[]) => {
          log.push(`write ${key}`);
          return target.set(key, value);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    keyv: gated,
    log,
    /** Reads held at the gate right now. */
    get held() {
      return waiting.length;
    },
    /** Lets every held read through at once, and every later one straight away. */
    openGate() {
      open = true;
      for (const resolve of waiting.splice(0)) resolve();
    },
  };
}

const turn = (content: string, at: number): Turn => ({ role: 'user', name: 'u', content, at });

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

const stores: [string, () => Keyv<Turn[]>][] = [
  ['in memory', () => new Keyv<Turn[]>()],
  [
    'in SQLite',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'history-'));
      const store: Store = openStore(`sqlite://${join(dir, 'bot.sqlite')}`);
      cleanup = async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      };
      return store.namespace<Turn[]>('history');
    },
  ],
];

describe.each(stores)('HistoryStore %s', (_name, makeKeyv) => {
  it('keeps both exchanges when two appends to one channel overlap (reads held, then released together)', async () => {
    const gate = gatedReads(makeKeyv());
    const history = new HistoryStore(gate.keyv, { maxImages: 4 });
    const first = history.append('c1', [turn('first question', 1), { role: 'assistant', content: 'first answer', at: 2 }]);
    const second = history.append('c1', [turn('second question', 3), { role: 'assistant', content: 'second answer', at: 4 }]);
    // The first append is at the gate; give the second every chance to reach it too (it can
    // without the per-channel lock), then let all held reads go at the same moment.
    await waitFor(() => gate.held >= 1, 2000, 'the first read');
    await new Promise((resolve) => setImmediate(resolve));
    gate.openGate();
    await Promise.all([first, second]);
    const order = [...gate.log];

    expect((await history.load('c1')).map((t) => t.content)).toEqual(['first question', 'first answer', 'second question', 'second answer']);
    // The lock, not luck: the second read waited for the first write.
    expect(order).toEqual(['read c1', 'write c1', 'read c1', 'write c1']);
  });

  it('does not hold one channel’s append behind another channel’s', async () => {
    const gate = gatedReads(makeKeyv());
    const history = new HistoryStore(gate.keyv, { maxImages: 4 });
    const a = history.append('a', [turn('in a', 1)]);
    const b = history.append('b', [turn('in b', 2)]);
    await waitFor(() => gate.held === 2, 2000, 'both channels reading at once');
    gate.openGate();
    await Promise.all([a, b]);
    expect(await history.load('a')).toEqual([turn('in a', 1)]);
    expect(await history.load('b')).toEqual([turn('in b', 2)]);
  });

  it('clears a channel only after an append in flight has landed', async () => {
    const gate = gatedReads(makeKeyv());
    const history = new HistoryStore(gate.keyv, { maxImages: 4 });
    const appending = history.append('c1', [turn('said before /forget', 1)]);
    const clearing = history.clear('c1');
    await waitFor(() => gate.held >= 1, 2000, 'the append reading');
    gate.openGate();
    await Promise.all([appending, clearing]);
    expect(await history.load('c1')).toEqual([]);
    await history.append('c1', [turn('after', 2)]);
    expect(await history.load('c1')).toEqual([turn('after', 2)]);
  });

  it('bounds what a channel keeps: the newest turns, and image data for the newest images only', async () => {
    const history = new HistoryStore(makeKeyv(), { maxImages: 1 });
    const withImage = (i: number): Turn => ({ ...turn(`look ${i}`, i), images: [{ name: `p${i}.png`, dataUri: `data:image/png;base64,${i}` }] });
    await history.append('c1', [withImage(1)]);
    await history.append('c1', [withImage(2)]);
    expect((await history.load('c1')).map((t) => t.images)).toEqual([[{ name: 'p1.png' }], [{ name: 'p2.png', dataUri: 'data:image/png;base64,2' }]]);
    for (let i = 0; i < 70; i++) await history.append('c1', [turn(`t${i}`, 10 + i)]);
    const kept = await history.load('c1');
    expect(kept).toHaveLength(60);
    expect(kept.at(-1)?.content).toBe('t69');
  });
});
