import { createClient } from '@keyv/redis';
import type KeyvRedis from '@keyv/redis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { openRedisStore } from '../../src/store/redisStore.js';
import { LockTimeoutError, StoreTimeoutError, type Store } from '../../src/store/store.js';
import { backendsToTest, freePort, startRedis, type TestServer } from '../store/servers.js';

/**
 * The Redis store's own rules, against a real redis-server started for this file (the shared
 * contract lives in test/store/contract.test.ts). Here so mutation testing reaches redisStore.ts.
 */

const hasRedis = backendsToTest().available.includes('redis');

describe.runIf(hasRedis)('Redis store', () => {
  let server: TestServer;
  let raw: ReturnType<typeof createClient>;
  const opened: Store[] = [];
  const open = (url = server.url, lockWaitMs?: number) => {
    const store = openRedisStore(url, lockWaitMs === undefined ? {} : { lockWaitMs });
    opened.push(store);
    return store;
  };
  const clientOf = (store: Store) => (store.adapter as KeyvRedis<unknown>).client as ReturnType<typeof createClient>;
  const setCalls = async () => {
    const stats = await raw.info('commandstats');
    return Number(/cmdstat_set:calls=(\d+)/.exec(stats)?.[1] ?? 0);
  };

  beforeAll(async () => {
    server = await startRedis();
    raw = createClient({ url: server.url });
    await raw.connect();
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });
  afterAll(async () => {
    await Promise.allSettled(opened.map((s) => s.close()));
    await raw?.close();
    await server?.stop();
  });

  it('keeps each namespace under its own prefix, once (history::<key>)', async () => {
    const store = open();
    expect(store.kind).toBe('redis');
    await store.namespace<string>('history').set('channel-1', 'turns');
    await store.namespace<string>('meta').set('channel-1', 'hash');
    expect(await raw.keys('*::channel-1')).toEqual(expect.arrayContaining(['history::channel-1', 'meta::channel-1']));
    expect(await raw.keys('*channel-1')).toHaveLength(2);
    expect(await store.namespace<string>('history').get('channel-1')).toBe('turns');
  });

  it('gives one view per namespace, so repeated calls add no listeners to the shared connection', () => {
    const store = open();
    const first = store.namespace('history');
    const listeners = clientOf(store).listenerCount('error');
    for (let i = 0; i < 150; i++) expect(store.namespace('history')).toBe(first);
    expect(clientOf(store).listenerCount('error')).toBe(listeners);
  });

  it('reconnects with a backoff that doubles from 100 ms up to 2 s', () => {
    const strategy = clientOf(open()).options?.socket?.reconnectStrategy;
    if (typeof strategy !== 'function') throw new Error('no reconnect strategy');
    expect([0, 1, 2, 3, 4, 5, 10].map((attempt) => strategy(attempt, new Error('down')))).toEqual([100, 200, 400, 800, 1600, 2000, 2000]);
  });

  it('fails a command with no answer after 5 s, and gives up connecting after 5 s', () => {
    const options = clientOf(open()).options;
    expect(options?.commandOptions).toMatchObject({ timeout: 5000 });
    expect(options?.socket).toMatchObject({ connectTimeout: 5000 });
  });

  it('lock: a second holder waits for the first, then runs; its lock key is lock::<key> while held', async () => {
    const a = open();
    const b = open(server.url, 5000);
    const order: string[] = [];
    let release!: () => void;
    let held!: () => void;
    const holding = new Promise<void>((r) => (held = r));
    const first = a.lock('busy', async () => {
      order.push('a start');
      held();
      await new Promise<void>((r) => (release = r));
      order.push('a end');
    });
    await holding;
    expect(await raw.get('lock::busy')).toMatch(/^[0-9a-f-]{36}$/);
    const second = b.lock('busy', async () => {
      order.push('b');
      return 'b ran';
    });
    await new Promise((r) => setTimeout(r, 150));
    expect(order).toEqual(['a start']);
    release();
    await first;
    await expect(second).resolves.toBe('b ran');
    expect(order).toEqual(['a start', 'a end', 'b']);
    expect(await raw.get('lock::busy')).toBeNull();
  });

  it('lock: different keys do not wait for each other', async () => {
    const a = open();
    const b = open(server.url, 300);
    let release!: () => void;
    let held!: () => void;
    const holding = new Promise<void>((r) => (held = r));
    const first = a.lock('key-one', () => {
      held();
      return new Promise<void>((r) => (release = r));
    });
    await holding;
    await expect(b.lock('key-two', async () => 'free')).resolves.toBe('free');
    release();
    await first;
  });

  it('lock: a waiting process polls gently (backing off to 100-200 ms), not in a busy loop', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(1);
    const a = open();
    const b = open(server.url, 10_000);
    let release!: () => void;
    let held!: () => void;
    const holding = new Promise<void>((r) => (held = r));
    const first = a.lock('polled', () => {
      held();
      return new Promise<void>((r) => (release = r));
    });
    await holding;
    const before = await setCalls();
    const started = Date.now();
    const second = b.lock('polled', async () => Date.now());
    await new Promise((r) => setTimeout(r, 1700));
    const releasedAt = Date.now();
    release();
    await first;
    const ranAt = await second;
    const polls = (await setCalls()) - before;
    // With the jitter at its top, polls start 10, 20, 40, 80, 160 ms apart, then every 200 ms at most:
    // never more polls than that schedule allows, and the key is taken within one pause of its release.
    expect(polls).toBeGreaterThanOrEqual(2);
    expect(polls).toBeLessThanOrEqual(6 + Math.ceil(Math.max(0, ranAt - started - 310) / 200) + 1);
    expect(ranAt - releasedAt).toBeLessThan(800);
  });

  it('lock: gives up after lockWaitMs with LockTimeoutError, not before', async () => {
    const a = open();
    const b = open(server.url, 400);
    let release!: () => void;
    let held!: () => void;
    const holding = new Promise<void>((r) => (held = r));
    const first = a.lock('stuck', () => {
      held();
      return new Promise<void>((r) => (release = r));
    });
    await holding;
    const started = Date.now();
    await expect(b.lock('stuck', async () => 'no')).rejects.toBeInstanceOf(LockTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(380);
    release();
    await first;
  });

  it('lock: a failing task releases the key at once, and its error reaches the caller', async () => {
    const a = open();
    const b = open(server.url, 300);
    await expect(a.lock('failing', async () => Promise.reject(new Error('task broke')))).rejects.toThrow('task broke');
    expect(await raw.get('lock::failing')).toBeNull();
    await expect(b.lock('failing', async () => 'next')).resolves.toBe('next');
  });

  it('lock: releasing never deletes a lock that expired and was taken by another process meanwhile', async () => {
    const store = open();
    await store.lock('taken', async () => {
      // Our lock expired and another process took the key.
      await raw.set('lock::taken', 'other-process-token');
    });
    expect(await raw.get('lock::taken')).toBe('other-process-token');
    await raw.del('lock::taken');
  });

  it('lock: a long task renews its lock every third of the 30 s TTL, and only while the lock is still its own', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const store = open();
    await store.lock('long', async () => {
      // As if 25 s of the 30 s had passed.
      await raw.pExpire('lock::long', 5000);
      vi.advanceTimersByTime(9_999);
      await new Promise((r) => setTimeout(r, 50));
      expect(await raw.pTTL('lock::long')).toBeLessThanOrEqual(5000);
      vi.advanceTimersByTime(1);
      let ttl = 0;
      for (let i = 0; i < 100 && ttl <= 5000; i++) {
        ttl = await raw.pTTL('lock::long');
        if (ttl <= 5000) await new Promise((r) => setTimeout(r, 10));
      }
      expect(ttl).toBeGreaterThan(29_000);
      // Taken over by another process: no longer renewed.
      await raw.set('lock::long', 'other-token', { expiration: { type: 'PX', value: 4000 } });
      vi.advanceTimersByTime(10_000);
      await new Promise((r) => setTimeout(r, 100));
      expect(await raw.pTTL('lock::long')).toBeLessThanOrEqual(4000);
    });
    await raw.del('lock::long');
  });

  it('prune has nothing to do: Redis expires TTL keys itself', async () => {
    await expect(open().prune(Date.now() + 3600_000)).resolves.toBe(0);
  });

  it('ping answers, and times out on a server that stopped answering', async () => {
    const own = await startRedis();
    try {
      const store = open(own.url);
      await store.ping();
      await store.namespace<string>('meta').set('k', 'v');
      const pid = Number(/process_id:(\d+)/.exec(await clientOf(store).info('server'))?.[1]);
      process.kill(pid, 'SIGSTOP');
      try {
        await expect(store.ping(200)).rejects.toBeInstanceOf(StoreTimeoutError);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
    } finally {
      await own.stop();
    }
  });

  it('a server that goes away makes commands fail (not hang, not crash); closing then still finishes', async () => {
    const own = await startRedis();
    const store = open(own.url);
    await store.namespace<string>('meta').set('k', 'v');
    await own.stop();
    await expect(store.ping(1000)).rejects.toThrow();
    // Queued while reconnecting, then failed after the 5 s command timeout.
    await expect(store.namespace<string>('meta').get('k')).rejects.toThrow();
    await store.close();
  });

  it('a store whose server never answered still closes, twice', async () => {
    const store = open(`redis://127.0.0.1:${await freePort()}`);
    await store.close();
    await store.close();
  });

  it('close ends the connection (the server sees it go), and closing twice is harmless', async () => {
    const store = open();
    await store.namespace<string>('meta').set('k', 'v');
    const id = await clientOf(store).clientId();
    await store.close();
    expect(clientOf(store).isOpen).toBe(false);
    let connected = true;
    for (let i = 0; i < 50 && connected; i++) {
      connected = (await raw.clientList()).some((c) => Number(c.id) === id);
      if (connected) await new Promise((r) => setTimeout(r, 20));
    }
    expect(connected).toBe(false);
    await store.close();
  });
});
