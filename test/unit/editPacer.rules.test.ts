import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChannelPacer, PacerRegistry, type Slot, type Urgency } from '../../src/core/editPacer.js';

const T0 = 1_000_000;

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Asks for a slot and records, under `name`, when it was granted (ms after T0). */
function ask(order: string[], pacer: { acquire(u: Urgency): Promise<Slot> }, urgency: Urgency, name: string): Promise<Slot> {
  return pacer.acquire(urgency).then((slot) => {
    order.push(`${name}@${Date.now() - T0}`);
    return slot;
  });
}

describe('ChannelPacer order and timers', () => {
  it('a new message jumps ahead of waiting edits', async () => {
    const pacer = new ChannelPacer();
    const order: string[] = [];
    void ask(order, pacer, 'paced', 'edit1');
    void ask(order, pacer, 'paced', 'edit2');
    void ask(order, pacer, 'new', 'new');
    await vi.advanceTimersByTimeAsync(5000);
    // The new message went first and, like every grant, took a turn of the spacing.
    expect(order).toEqual(['edit1@0', 'new@0', 'edit2@2000']);
  });

  it('sends that jump the line keep the order they asked in', async () => {
    const pacer = new ChannelPacer();
    pacer.pauseUntil(T0 + 1000);
    const order: string[] = [];
    void ask(order, pacer, 'new', 'new1');
    void ask(order, pacer, 'urgent', 'urgent2');
    void ask(order, pacer, 'new', 'new3');
    await vi.advanceTimersByTimeAsync(2000);
    expect(order.map((o) => o.split('@')[0])).toEqual(['new1', 'urgent2', 'new3']);
  });

  it('a shorter pause does not cut a longer one short', async () => {
    const pacer = new ChannelPacer();
    pacer.pauseUntil(T0 + 3000);
    pacer.pauseUntil(T0 + 1000);
    const order: string[] = [];
    void ask(order, pacer, 'urgent', 'u');
    await vi.advanceTimersByTimeAsync(5000);
    expect(order).toEqual(['u@3000']);
  });

  it('a pause with no one waiting sets no timer, and granting everyone leaves none', async () => {
    const pacer = new ChannelPacer();
    pacer.pauseUntil(T0 + 3000);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(3000);
    await pacer.acquire('paced');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('planning again keeps a single timer', async () => {
    const pacer = new ChannelPacer();
    const order: string[] = [];
    void ask(order, pacer, 'paced', 'e1');
    void ask(order, pacer, 'paced', 'e2');
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 3; i++) pacer.replan();
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(order).toEqual(['e1@0', 'e2@1000']);
  });

  it('a slot given back lets the next waiter go at once', async () => {
    const pacer = new ChannelPacer({ limit: 1, windowMs: 1000, marginMs: 0 });
    const order: string[] = [];
    const first = await pacer.acquire('urgent');
    void ask(order, pacer, 'urgent', 'next');
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual([]);
    first.cancel();
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual(['next@0']);
  });
});

describe('ChannelPacer.tryAcquire (typing)', () => {
  it('takes a slot only when a progress edit could go now', async () => {
    const pacer = new ChannelPacer();
    expect(pacer.tryAcquire()).toBe(true);
    expect(pacer.tryAcquire()).toBe(false);
    await vi.advanceTimersByTimeAsync(999);
    expect(pacer.tryAcquire()).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(pacer.tryAcquire()).toBe(true);
  });

  it('never while paused', () => {
    const pacer = new ChannelPacer();
    pacer.pauseUntil(T0 + 1000);
    expect(pacer.tryAcquire()).toBe(false);
  });

  it('never ahead of a send that is waiting, even when its timer is late', async () => {
    const pacer = new ChannelPacer();
    await pacer.acquire('paced');
    void pacer.acquire('paced');
    // The clock moves past the waiter's turn before its timer has run (a busy event loop).
    vi.setSystemTime(T0 + 1500);
    expect(pacer.waiting).toBe(1);
    expect(pacer.tryAcquire()).toBe(false);
  });

  it('counts the typing request in the window like an unmatched send, from when it left plus the margin', async () => {
    const pacer = new ChannelPacer();
    expect(pacer.tryAcquire()).toBe(true);
    const order: string[] = [];
    for (let i = 0; i < 5; i++) void ask(order, pacer, 'urgent', `u${i}`);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(order).toEqual(['u0@0', 'u1@0', 'u2@0', 'u3@0', 'u4@5250']);
  });
});

describe('PacerRegistry', () => {
  const quickGlobal = { limit: 4, windowMs: 1000, marginMs: 0 };

  it('typing takes a bot-wide slot only when one is free and no send waits for one', async () => {
    const registry = new PacerRegistry(undefined, quickGlobal);
    expect(registry.for('a').tryAcquire()).toBe(true);
    const granted: string[] = [];
    for (const c of ['b', 'c', 'd']) void registry.for(c).acquire('urgent').then(() => granted.push(c));
    await vi.advanceTimersByTimeAsync(0);
    expect(granted.length).toBeLessThan(3);
    expect(registry.for('e').tryAcquire()).toBe(false);
  });

  for (const urgency of ['new', 'paced'] as const) {
    it(`typing never goes ahead of a waiting ${urgency} send, even when its timer is late`, async () => {
      const registry = new PacerRegistry(undefined, quickGlobal);
      const granted: string[] = [];
      for (const c of ['a', 'b', 'c', 'd']) void registry.for(c).acquire(urgency).then(() => granted.push(c));
      await vi.advanceTimersByTimeAsync(0);
      expect(granted.length).toBeLessThan(4);
      vi.setSystemTime(T0 + 5000);
      expect(registry.for('e').tryAcquire()).toBe(false);
    });
  }

  it('a send given back in a channel lets a send waiting for the bot-wide budget go at once', async () => {
    const registry = new PacerRegistry(undefined, { limit: 3, windowMs: 1000, marginMs: 0 });
    const slots: Slot[] = [];
    const granted: string[] = [];
    for (const c of ['a', 'b', 'c']) {
      void registry
        .for(c)
        .acquire('urgent')
        .then((slot) => {
          slots.push(slot);
          granted.push(`${c}@${Date.now() - T0}`);
        });
    }
    await vi.advanceTimersByTimeAsync(0);
    const waitingBefore = 3 - granted.length;
    expect(waitingBefore).toBeGreaterThan(0);
    for (const s of [...slots]) s.cancel();
    await vi.advanceTimersByTimeAsync(0);
    expect(granted).toHaveLength(3);
    expect(granted.every((g) => g.endsWith('@0'))).toBe(true);
  });

  it('forgets idle channels once a minute, not sooner', async () => {
    const registry = new PacerRegistry();
    registry.channel('a');
    await vi.advanceTimersByTimeAsync(59_999);
    registry.channel('b');
    expect(registry.size).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    registry.channel('c');
    expect(registry.size).toBe(1);
  });

  it('keeps a channel that sent within its window, is paused, or has a send waiting', async () => {
    const registry = new PacerRegistry();
    registry.channel('x');
    registry.channel('paused').pauseUntil(T0 + 120_000);
    await vi.advanceTimersByTimeAsync(59_000);
    const slot = await registry.for('busy').acquire('urgent');
    slot.done();
    registry.channel('waiting').pauseUntil(T0 + 200_000);
    void registry.channel('waiting').acquire('urgent');
    vi.setSystemTime(T0 + 60_000);
    registry.channel('y');
    expect(registry.size).toBe(4);
    expect(registry.channel('paused')).toBeDefined();
  });

  it('a channel whose pause ends right at the sweep is forgotten', async () => {
    const registry = new PacerRegistry();
    const first = registry.channel('a');
    first.pauseUntil(T0 + 60_000);
    await vi.advanceTimersByTimeAsync(60_000);
    registry.channel('b');
    expect(registry.size).toBe(1);
    expect(registry.channel('a')).not.toBe(first);
  });

  it('with 256 channels or more, idle ones are forgotten every second', async () => {
    const registry = new PacerRegistry();
    for (let i = 0; i < 255; i++) registry.channel(`c${i}`);
    await vi.advanceTimersByTimeAsync(999);
    registry.channel('c255');
    expect(registry.size).toBe(256);
    await vi.advanceTimersByTimeAsync(1);
    registry.channel('last');
    expect(registry.size).toBe(1);
  });
});

describe('learning whether edits have a budget of their own', () => {
  const CH = '222222222222222222';
  const create = { method: 'POST', path: `/channels/${CH}/messages` };
  const edit = { method: 'PATCH', path: `/channels/${CH}/messages/444444444444444444` };

  it("the first edit goes early to find out, and takes no one's turn: the next edit is spaced from the message alone", async () => {
    const registry = new PacerRegistry();
    const pacer = registry.for(CH);
    const order: string[] = [];
    const stamp = (name: string) => () => order.push(`${name}@${Date.now() - T0}`);
    await pacer.acquire('new', create).then(stamp('post'));
    await pacer.acquire('paced', edit).then(stamp('probe'));
    void pacer.acquire('paced', edit).then(stamp('edit'));
    await vi.advanceTimersByTimeAsync(5000);
    expect(order).toEqual(['post@0', 'probe@0', 'edit@1000']);
  });
});
