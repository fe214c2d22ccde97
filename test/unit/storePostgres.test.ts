import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/store/postgresStore.js';
import { LockTimeoutError, type Store } from '../../src/store/store.js';
import { backendsToTest, freePort, startPostgres, type TestServer } from '../store/servers.js';

/**
 * The PostgreSQL store's own rules, against a real server started for this file (the shared
 * contract lives in test/store/contract.test.ts). Here so mutation testing reaches postgresStore.ts.
 * The last test stops the server.
 */

const hasPostgres = backendsToTest().available.includes('postgres');

describe.runIf(hasPostgres)('PostgreSQL store', () => {
  let server: TestServer;
  let admin: pg.Client;
  const opened: Store[] = [];
  const open = (url = server.url, lockWaitMs?: number) => {
    const store = openPostgresStore(url, lockWaitMs === undefined ? {} : { lockWaitMs });
    opened.push(store);
    return store;
  };
  /** Holds `key` on `store` until the returned release is called. */
  const hold = async (store: Store, key: string) => {
    let release!: () => void;
    let held!: () => void;
    const holding = new Promise<void>((r) => (held = r));
    const done = store.lock(key, () => {
      held();
      return new Promise<void>((r) => (release = r));
    });
    await holding;
    return async () => {
      release();
      await done;
    };
  };

  beforeAll(async () => {
    server = await startPostgres();
    admin = new pg.Client({ connectionString: server.url });
    admin.on('error', () => {});
    await admin.connect();
  });
  afterAll(async () => {
    await Promise.allSettled(opened.map((s) => s.close()));
    await admin?.end().catch(() => {});
    await server?.stop();
  });

  it('keeps namespaces apart in one keyv table that every store on the server shares', async () => {
    const store = open();
    expect(store.kind).toBe('postgres');
    await store.namespace<string>('history').set('channel-1', 'turns');
    await store.namespace<string>('meta').set('channel-1', 'hash');
    expect(await open().namespace<string>('history').get('channel-1')).toBe('turns');
    expect(await store.namespace<string>('meta').get('channel-1')).toBe('hash');
    const { rows } = await admin.query("SELECT key FROM public.keyv WHERE key LIKE '%channel-1' ORDER BY key");
    expect(rows.map((r: { key: string }) => r.key)).toEqual(['history:channel-1', 'meta:channel-1']);
  });

  it('recreates the table when it is missing (the server was down when the store opened)', async () => {
    const store = open();
    await store.namespace<string>('meta').set('before', 'x');
    await admin.query('DROP TABLE public.keyv');
    await store.namespace<string>('meta').set('after', 'y');
    expect(await store.namespace<string>('meta').get('after')).toBe('y');
    expect(await store.namespace<string>('meta').get('before')).toBeUndefined();
  });

  it('prune deletes entries whose TTL has passed, keeps the rest, and skips values that are not keyv JSON', async () => {
    const store = open();
    const media = store.namespace<string>('media');
    await media.set('short', 'gone', 1);
    await media.set('forever', 'kept');
    await media.set('long', 'kept too', 3_600_000);
    await admin.query("INSERT INTO public.keyv(key, value) VALUES ('raw:text', 'plain text, {\"expires\": not json')");
    const later = Date.now() + 60_000;
    expect(await store.prune(later)).toBe(1);
    expect(await store.prune(later)).toBe(0);
    expect(await media.get('forever')).toBe('kept');
    expect(await media.get('long')).toBe('kept too');
    const { rows } = await admin.query("SELECT key FROM public.keyv WHERE key IN ('raw:text', 'media:short')");
    expect(rows).toEqual([{ key: 'raw:text' }]);
  });

  it('lock: a second holder (another process) waits for the first, then runs', async () => {
    const a = open();
    const b = open(server.url, 5000);
    const order: string[] = [];
    const release = await hold(a, 'busy');
    const second = b.lock('busy', async () => {
      order.push('b');
      return 'b ran';
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(order).toEqual([]);
    await release();
    await expect(second).resolves.toBe('b ran');
  });

  it('lock: different keys do not wait for each other', async () => {
    const release = await hold(open(), 'key-one');
    await expect(open(server.url, 300).lock('key-two', async () => 'free')).resolves.toBe('free');
    await release();
  });

  it('lock: gives up after lockWaitMs with LockTimeoutError, not before', async () => {
    const release = await hold(open(), 'stuck');
    const started = Date.now();
    await expect(open(server.url, 400).lock('stuck', async () => 'no')).rejects.toBeInstanceOf(LockTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(380);
    await release();
  });

  it('lock: a failing task releases the key at once, and its error reaches the caller', async () => {
    const a = open();
    await expect(a.lock('failing', async () => Promise.reject(new Error('task broke')))).rejects.toThrow('task broke');
    await expect(open(server.url, 300).lock('failing', async () => 'next')).resolves.toBe('next');
  });

  it('lock: a wait cut short by the server is that error, not a timeout, and the store locks again afterwards', async () => {
    const release = await hold(open(), 'cut');
    const b = open(server.url, 10_000);
    const waiting = b.lock('cut', async () => 'no');
    const outcome = waiting.then(
      () => undefined,
      (err: unknown) => err,
    );
    for (let i = 0; i < 100; i++) {
      const { rows } = await admin.query("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
      if (rows.length > 0) {
        await admin.query('SELECT pg_terminate_backend($1)', [(rows[0] as { pid: number }).pid]);
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const err = await outcome;
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(LockTimeoutError);
    await release();
    await expect(b.lock('cut', async () => 'again')).resolves.toBe('again');
  });

  it('lock: leaves nothing attached to its pooled connection', async () => {
    const store = open();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      for (let i = 0; i < 15; i++) await store.lock('often', async () => i);
      await new Promise((r) => setTimeout(r, 20));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('a store opened while the server is unreachable fails its commands (no crash) and closes', async () => {
    const store = open(`postgres://postgres@127.0.0.1:${await freePort()}/postgres`);
    await expect(store.namespace<string>('meta').get('k')).rejects.toThrow();
    await expect(store.ping(1000)).rejects.toThrow();
    await store.close();
  });

  it('close ends both pools: later queries and locks fail', async () => {
    const store = open();
    await store.namespace<string>('meta').set('k', 'v');
    await store.lock('closing', async () => undefined);
    await store.close();
    await expect(store.namespace<string>('meta').get('k')).rejects.toThrow();
    await expect(store.lock('closing', async () => undefined)).rejects.toThrow();
    await store.close();
  });

  it('ping answers; once the server goes away, idle connections dying crash nothing and commands fail', async () => {
    const store = open();
    await store.ping();
    await store.namespace<string>('meta').set('k', 'v');
    await store.lock('idle', async () => undefined);
    await admin.end();
    await server.stop();
    await expect(store.ping(2000)).rejects.toThrow();
    await expect(store.namespace<string>('meta').get('k')).rejects.toThrow();
    await expect(store.lock('idle', async () => undefined)).rejects.toThrow();
  });
});
