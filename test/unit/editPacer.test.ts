import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChannelPacer, PacerRegistry, type Urgency } from '../../src/core/editPacer.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Keeps `n` callers asking for slots of the given kind, and records when each slot is granted. */
function demand(pacer: ChannelPacer, n: number, kind: Urgency, grants: number[]) {
  for (let i = 0; i < n; i++) void pacer.acquire(kind).then(() => grants.push(Date.now()));
}

function maxInWindow(times: number[], windowMs: number): number {
  let best = 0;
  for (const t of times) best = Math.max(best, times.filter((u) => u >= t && u < t + windowMs).length);
  return best;
}

describe('ChannelPacer', () => {
  it('spaces edits about one second apart', async () => {
    const pacer = new ChannelPacer();
    const grants: number[] = [];
    demand(pacer, 4, 'paced', grants);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(grants.map((t) => t - 1_000_000)).toEqual([0, 1000, 2000, 3000]);
  });

  it('never grants more than 5 slots in any 5 s window plus margin, whatever the mix', async () => {
    const pacer = new ChannelPacer();
    const grants: number[] = [];
    demand(pacer, 3, 'urgent', grants);
    demand(pacer, 20, 'paced', grants);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(grants).toHaveLength(23);
    expect(maxInWindow(grants, 5250)).toBeLessThanOrEqual(5);
  });

  it('after a burst of new messages, gives each answer its turn instead of stalling', async () => {
    const pacer = new ChannelPacer();
    const grants: number[] = [];
    demand(pacer, 3, 'urgent', grants);
    demand(pacer, 6, 'paced', grants);
    await vi.advanceTimersByTimeAsync(20_000);
    // Three creates at once cost three seconds of budget; edits then come about a second apart.
    expect(grants.map((t) => t - 1_000_000)).toEqual([0, 0, 0, 3000, 4000, 5250, 6250, 7250, 8250]);
  });

  it('lets an urgent send jump ahead of waiting edits', async () => {
    const pacer = new ChannelPacer();
    const order: string[] = [];
    void pacer.acquire('paced').then(() => order.push('edit1'));
    void pacer.acquire('paced').then(() => order.push('edit2'));
    void pacer.acquire('urgent').then(() => order.push('urgent'));
    await vi.advanceTimersByTimeAsync(5000);
    expect(order).toEqual(['edit1', 'urgent', 'edit2']);
  });

  it('grants an urgent send at once, without the edit spacing', async () => {
    const pacer = new ChannelPacer();
    const grants: number[] = [];
    demand(pacer, 1, 'paced', grants);
    await vi.advanceTimersByTimeAsync(0);
    demand(pacer, 1, 'urgent', grants);
    await vi.advanceTimersByTimeAsync(0);
    expect(grants.map((t) => t - 1_000_000)).toEqual([0, 0]);
  });

  it('holds every slot while paused by a rate limit', async () => {
    const pacer = new ChannelPacer();
    pacer.pauseUntil(Date.now() + 3000);
    const grants: number[] = [];
    demand(pacer, 1, 'urgent', grants);
    await vi.advanceTimersByTimeAsync(2999);
    expect(grants).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(grants).toHaveLength(1);
  });
});

describe('ChannelPacer turns', () => {
  it('lets a final edit keep its place in line, then skip the spacing', async () => {
    const pacer = new ChannelPacer();
    const order: string[] = [];
    void pacer.acquire('paced').then(() => order.push(`edit1@${Date.now() - 1_000_000}`));
    void pacer.acquire('paced').then(() => order.push(`edit2@${Date.now() - 1_000_000}`));
    void pacer.acquire('final').then(() => order.push(`final@${Date.now() - 1_000_000}`));
    void pacer.acquire('paced').then(() => order.push(`edit3@${Date.now() - 1_000_000}`));
    await vi.advanceTimersByTimeAsync(5000);
    // Not ahead of the edit that asked first; but once it is its turn, no spacing after edit2.
    expect(order).toEqual(['edit1@0', 'edit2@1000', 'final@1000', 'edit3@3000']);
  });

  it('gives back a slot that was not used', async () => {
    const pacer = new ChannelPacer({ limit: 1, windowMs: 1000, marginMs: 0 });
    const slot = await pacer.acquire('urgent');
    slot.cancel();
    const grants: number[] = [];
    demand(pacer, 1, 'urgent', grants);
    await vi.advanceTimersByTimeAsync(0);
    expect(grants).toEqual([1_000_000]);
  });
});

describe('PacerRegistry', () => {
  it('shares one pacer per channel', () => {
    const registry = new PacerRegistry();
    expect(registry.channel('a')).toBe(registry.channel('a'));
    expect(registry.channel('a')).not.toBe(registry.channel('b'));
  });

  it('keeps the whole bot under its global budget across many channels', async () => {
    const registry = new PacerRegistry(undefined, { limit: 40, windowMs: 1000, marginMs: 0 });
    const grants: number[] = [];
    for (let c = 0; c < 200; c++) void registry.for(`channel${c}`).acquire('urgent').then(() => grants.push(Date.now()));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(grants).toHaveLength(200);
    expect(maxInWindow(grants, 1000)).toBeLessThanOrEqual(40);
  });
});
