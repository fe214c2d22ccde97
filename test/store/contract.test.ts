import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createClient } from '@keyv/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Turn } from '../../src/core/history.js';
import { SpendLedger } from '../../src/spend/spendLedger.js';
import { StoreLockedError } from '../../src/store/fileLock.js';
import { HistoryStore } from '../../src/store/historyStore.js';
import { LockTimeoutError, openStore, type Store, type StoreKind, type StoreOptions } from '../../src/store/openStore.js';
import { waitFor } from '../fakes/waitFor.js';
import { backendsToTest, startServer, type TestServer } from './servers.js';

/**
 * One contract, every backend: SQLite always, and real Redis and PostgreSQL servers started
 * for the run. The bot sees the store only through this interface, so what passes here holds
 * for history, the ledger, media jobs and the command hash on every backend.
 */

interface Backend {
  kind: StoreKind;
  /** Prepares fresh storage (a temp file or a server). */
  setUp(): Promise<void>;
  /** Opens a store on that storage, as another process would. */
  open(options?: StoreOptions): Store;
  /** Two stores whose locks contend (one store on SQLite, where a file has one writer), the second with `options`. */
  contenders(options: StoreOptions): [Store, Store];
  /** The server's URL, for raw clients playing a crashed process. */
  url: string;
  /** Makes the storage unreachable for every store opened on it. */
  takeDown(store: Store): Promise<void>;
  tearDown(): Promise<void>;
}

function sqliteBackend(): Backend {
  let dir = '';
  return {
    kind: 'sqlite',
    async setUp() {
      dir = mkdtempSync(join(tmpdir(), 'store-contract-'));
    },
    open: (options) => openStore(`sqlite://${join(dir, 'bot.sqlite')}`, options),
    contenders(options) {
      const store = openStore(`sqlite://${join(dir, 'locks.sqlite')}`, options);
      return [store, store];
    },
    url: '',
    async takeDown(store) {
      await store.adapter.disconnect?.();
    },
    async tearDown() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function serverBackend(kind: 'redis' | 'postgres'): Backend {
  let server: TestServer | undefined;
  return {
    kind,
    async setUp() {
      server = await startServer(kind);
    },
    open(options) {
      return openStore(this.url, options);
    },
    contenders(options) {
      return [openStore(this.url), openStore(this.url, options)];
    },
    get url() {
      if (!server) throw new Error('server not started');
      return server.url;
    },
    async takeDown() {
      await server?.stop();
    },
    async tearDown() {
      await server?.stop();
    },
  };
}

const { available } = backendsToTest();
const backends: Backend[] = [sqliteBackend(), ...available.map((kind) => serverBackend(kind))];

for (const backend of backends) {
  describe(`store contract: ${backend.kind}`, () => {
    let store: Store;
    const opened: Store[] = [];
    const open = (options?: StoreOptions) => {
      const s = backend.open(options);
      opened.push(s);
      return s;
    };

    beforeAll(async () => {
      await backend.setUp();
      store = open();
    });
    afterAll(async () => {
      await Promise.allSettled(opened.map((s) => s.close()));
      await backend.tearDown();
    });

    it('keeps each value by namespace and key, as written', async () => {
      const history = store.namespace<unknown>('history');
      const meta = store.namespace<unknown>('meta');
      const value = { text: 'héllo 👋', n: 1.5, list: [1, 'two', null], nested: { ok: true } };
      await history.set('channel-1', value);
      await meta.set('channel-1', 'other namespace');
      expect(await history.get('channel-1')).toEqual(value);
      expect(await meta.get('channel-1')).toBe('other namespace');
      expect(await history.get('missing')).toBeUndefined();
      expect(await history.delete('channel-1')).toBe(true);
      expect(await history.get('channel-1')).toBeUndefined();
      expect(await meta.get('channel-1')).toBe('other namespace');
    });

    if (backend.kind === 'sqlite') {
      it('keeps one writer per file: a second store is refused until the first closes, then sees its data', async () => {
        await store.namespace<string>('meta').set('written-by', 'first');
        expect(() => backend.open()).toThrow(StoreLockedError);
        await store.close();
        store = open();
        expect(await store.namespace<string>('meta').get('written-by')).toBe('first');
      });
    } else {
      it('shares state with every other store on the same server, as another process would see it', async () => {
        const other = open();
        await store.namespace<string>('meta').set('written-by', 'first');
        expect(await other.namespace<string>('meta').get('written-by')).toBe('first');
        await other.namespace<string>('meta').set('written-by', 'second');
        expect(await store.namespace<string>('meta').get('written-by')).toBe('second');
      });
    }

    it('expires entries after their TTL, and prune deletes expired ones from storage', async () => {
      const media = store.namespace<string>('media');
      await media.set('short', 'gone soon', 1);
      await media.set('forever', 'kept');
      await media.set('long', 'kept too', 3_600_000);
      await new Promise((r) => setTimeout(r, 20));
      const pruned = await store.prune(Date.now() + 60_000);
      // Redis deletes expired keys itself, so there is nothing left for prune to do.
      expect(pruned).toBe(backend.kind === 'redis' ? 0 : 1);
      expect(await store.prune(Date.now() + 60_000)).toBe(0);
      expect(await media.get('short')).toBeUndefined();
      expect(await media.get('forever')).toBe('kept');
      expect(await media.get('long')).toBe('kept too');
    });

    it('keeps history appends from concurrent answers in one channel', async () => {
      const history = new HistoryStore(store.namespace<Turn[]>('history'), { maxImages: 4 });
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => history.append('busy-channel', [{ role: 'user', name: `u${i}`, content: `question ${i}`, at: i }])),
      );
      const turns = await history.load('busy-channel');
      expect(turns.map((t) => t.content).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `question ${i}`).sort());
    });

    it('lock: concurrent read-modify-writes of one key lose nothing', async () => {
      const counters = store.namespace<number>('test');
      // Two stores stand for two processes where the backend is shared.
      const stores = backend.kind === 'sqlite' ? [store] : [store, open()];
      const increment = async (s: Store) =>
        s.lock('counter', async () => {
          const value = (await s.namespace<number>('test').get('counter')) ?? 0;
          await new Promise((r) => setTimeout(r, 2));
          await s.namespace<number>('test').set('counter', value + 1);
        });
      await Promise.all(Array.from({ length: 30 }, (_, i) => increment(stores[i % stores.length] as Store)));
      expect(await counters.get('counter')).toBe(30);
    });

    it('lock: a failing task releases the key, and its error reaches the caller', async () => {
      await expect(store.lock('failing', async () => Promise.reject(new Error('task broke')))).rejects.toThrow('task broke');
      await expect(store.lock('failing', async () => 'next one runs')).resolves.toBe('next one runs');
    });

    it('lock: waits a bounded time for a held key, then gives up with LockTimeoutError', async () => {
      const [patient, impatient] = backend.contenders({ lockWaitMs: 300 });
      opened.push(patient, impatient);
      let release!: () => void;
      let held!: () => void;
      const holding = new Promise<void>((r) => (held = r));
      const holder = patient.lock('busy', () => {
        held();
        return new Promise<void>((r) => (release = r));
      });
      await holding;
      const started = Date.now();
      await expect(impatient.lock('busy', async () => 'got it')).rejects.toBeInstanceOf(LockTimeoutError);
      expect(Date.now() - started).toBeLessThan(5000);
      release();
      await holder;
      await expect(impatient.lock('busy', async () => 'got it')).resolves.toBe('got it');
    });

    if (backend.kind === 'redis') {
      it('lock: a key left by a holder that died is taken over once its TTL passes', async () => {
        const raw = createClient({ url: backend.url });
        await raw.connect();
        // What a crashed process leaves: the lock key with its expiry, and nobody to release it.
        await raw.set('lock::orphaned', 'dead-process-token', { expiration: { type: 'PX', value: 400 } });
        await raw.close();
        const started = Date.now();
        await expect(store.lock('orphaned', async () => 'taken over')).resolves.toBe('taken over');
        expect(Date.now() - started).toBeGreaterThanOrEqual(300);
      });
    }

    if (backend.kind === 'postgres') {
      it('lock: a holder whose connection dies frees the key at once', async () => {
        let held!: () => void;
        let finish!: () => void;
        const holding = new Promise<void>((r) => (held = r));
        const holder = store.lock('orphaned', async () => {
          held();
          await new Promise<void>((r) => (finish = r));
        });
        await holding;
        // What a crashed process amounts to: its connection, and with it the transaction, ends.
        const admin = new pg.Client({ connectionString: backend.url });
        await admin.connect();
        await admin.query("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'");
        await admin.end();
        const other = open({ lockWaitMs: 5000 });
        await expect(other.lock('orphaned', async () => 'taken over')).resolves.toBe('taken over');
        // The first holder learns nothing until it ends its task; then it must not crash either.
        finish();
        await holder;
      });
    }

    it('keeps the spend ledger exact under parallel reservations from two ledgers', async () => {
      const limits = { daily: 100, monthly: null, userDaily: null };
      const ledgerOn = (s: Store) => new SpendLedger(s.namespace('spend'), () => limits, Date.now, { lock: (key, task) => s.lock(`spend:${key}`, task) });
      const ledgers = backend.kind === 'sqlite' ? [ledgerOn(store), ledgerOn(store)] : [ledgerOn(store), ledgerOn(open())];
      const results = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          (ledgers[i % 2] as SpendLedger).reserve({ scope: 'guild-contract', userId: `u${i}`, kind: 'image', model: 'm', estimate: 7 }),
        ),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(14);
      const state = await (ledgers[0] as SpendLedger).state('guild-contract');
      expect(state.daySpent).toBe(98);
      expect(Object.keys(state.reservations)).toHaveLength(14);
    });

    it('answers a ping, and fails fast instead of hanging once the storage is gone', async () => {
      await store.ping(2000);
      await backend.takeDown(store);
      const started = Date.now();
      await expect(store.ping(1000)).rejects.toThrow();
      await expect(store.namespace<string>('meta').get('written-by')).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(15_000);
    });
  });
}
