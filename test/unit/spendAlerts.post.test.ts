import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { emptyMarks } from '../../src/core/spendAlerts.js';
import type { SpendLimits } from '../../src/core/spendMath.js';
import { createLogger } from '../../src/logger.js';
import { SpendAlerts, type AlertPoster, type AlertSettings } from '../../src/spend/spendAlerts.js';
import { SpendLedger, type LedgerEvent, type LedgerLock } from '../../src/spend/spendLedger.js';
import { openStore, type Store } from '../../src/store/openStore.js';

/**
 * The alert channel end to end below Discord: the real ledger on a real (in-memory SQLite)
 * store feeds SpendAlerts, and a fake poster stands for the channel.
 */

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
/** 2026-11-27 00:00 UTC and 2026-12-01 00:00 UTC, in Discord's <t:…> seconds. */
const NEXT_DAY = 1795737600;
const NEXT_MONTH = 1796083200;

let store: Store;
let now: number;
let logLines: { level: number; msg: string; guildId?: string; channelId?: string; err?: { message: string } }[];
let lockKeys: string[];
let posts: { channelId: string; content: string }[];

function setUp(limits: SpendLimits = { daily: 100, monthly: 1000, userDaily: null }, lock?: LedgerLock) {
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) logLines.push(JSON.parse(line));
      done();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  const keyv = store.namespace<AlertSettings>('alerts');
  const storeLock: LedgerLock = (key, task) => {
    lockKeys.push(key);
    return store.lock(key, task);
  };
  const alerts = new SpendAlerts(keyv, lock ?? storeLock, logger, () => now);
  const ledger = new SpendLedger(store.namespace('spend'), () => limits, () => now);
  ledger.observe((event) => alerts.handle(event));
  const poster: AlertPoster = async (channelId, content) => {
    posts.push({ channelId, content });
  };
  /** Reserves and settles `amount` for `userId` in `scope`, then waits for any alert. */
  const spend = async (amount: number, userId = 'u1', scope = 'g1') => {
    const r = await ledger.reserve({ scope, userId, kind: 'image', model: 'flux', estimate: amount });
    if (!r.ok) throw new Error(`refused: ${r.refusal.limit}`);
    await ledger.settle(r.hold, amount);
    await alerts.idle();
  };
  /** A reservation the ledger refuses; waits for any alert. */
  const refuse = async (amount: number, userId = 'u9') => {
    const r = await ledger.reserve({ scope: 'g1', userId, kind: 'chat', model: 'qwen', estimate: amount });
    expect(r.ok).toBe(false);
    await alerts.idle();
  };
  return { alerts, ledger, keyv, poster, spend, refuse };
}

beforeEach(() => {
  store = openStore('sqlite://:memory:');
  now = T0;
  logLines = [];
  lockKeys = [];
  posts = [];
});
afterEach(async () => {
  vi.restoreAllMocks();
  await store.close();
});

const crossed80 = (spent: string, limit: string, who: string) =>
  `📊 **This server has used 80% of its daily Sogni limit**: ${spent} of ${limit}. It resets at 00:00 UTC (<t:${NEXT_DAY}:R>).\n-# Last request: ${who}`;

describe('spend alerts: crossings of the server limits', () => {
  it('posts 80% of the daily limit once per day, naming the request that crossed it', async () => {
    const { alerts, poster, spend } = setUp();
    alerts.postWith(poster);
    await alerts.configure('g1', 'c-alerts');
    await spend(50);
    expect(posts).toEqual([]);
    await spend(35, 'u2');
    expect(posts).toEqual([{ channelId: 'c-alerts', content: crossed80('85 Spark', '100 Spark', '<@u2> · image · `flux` · 35 Spark') }]);
    await spend(5);
    expect(posts).toHaveLength(1);
    // The next day is a new window: crossing 80% again is news again.
    now = T0 + 24 * 3600_000;
    await spend(90);
    expect(posts).toHaveLength(2);
    expect(posts[1]?.content).toContain('used 80% of its daily Sogni limit**: 90 Spark of 100 Spark');
  });

  it('posts 100% (paid requests refused until reset), and one request crossing two limits posts both, daily first', async () => {
    const { alerts, poster, spend } = setUp({ daily: 100, monthly: 120, userDaily: null });
    alerts.postWith(poster);
    await alerts.configure('g1', 'c-alerts');
    await spend(100);
    expect(posts.map((p) => p.content)).toEqual([
      `🛑 **This server has used its daily Sogni limit**: 100 Spark of 100 Spark. Paid requests are refused until it resets at 00:00 UTC (<t:${NEXT_DAY}:R>).\n-# Last request: <@u1> · image · \`flux\` · 100 Spark`,
      `📊 **This server has used 80% of its monthly Sogni limit**: 100 Spark of 120 Spark. It resets on the 1st (<t:${NEXT_MONTH}:R>).\n-# Last request: <@u1> · image · \`flux\` · 100 Spark`,
    ]);
    expect(posts.every((p) => p.channelId === 'c-alerts')).toBe(true);
  });

  it('announces a crossing once when two requests settle past it together', async () => {
    const { alerts, ledger, poster } = setUp();
    alerts.postWith(poster);
    await alerts.configure('g1', 'c-alerts');
    const holds = await Promise.all(['u1', 'u2'].map((userId) => ledger.reserve({ scope: 'g1', userId, kind: 'image', model: 'flux', estimate: 45 })));
    await Promise.all(holds.map((r) => (r.ok ? ledger.settle(r.hold, 45) : Promise.reject(new Error('refused')))));
    await alerts.idle();
    expect(posts).toHaveLength(1);
    expect(posts[0]?.content).toContain('80% of its daily Sogni limit**: 90 Spark of 100 Spark');
  });
});

describe('spend alerts: refusals', () => {
  it('posts a refusal by a server limit at most once an hour per limit', async () => {
    const { alerts, poster, spend, refuse } = setUp({ daily: 100, monthly: 1000, userDaily: null });
    alerts.postWith(poster);
    await alerts.configure('g1', 'c-alerts');
    await spend(100);
    posts.length = 0;
    await refuse(7);
    expect(posts).toEqual([
      {
        channelId: 'c-alerts',
        content: [
          `⛔ **A request was refused by this server's daily Sogni limit**: 100 Spark of 100 Spark used. It resets at 00:00 UTC (<t:${NEXT_DAY}:R>).`,
          '-# <@u9> · chat · `qwen` · about 7 Spark',
          '-# Further refusals for this limit in the next hour are not posted.',
        ].join('\n'),
      },
    ]);
    now = T0 + 3600_000 - 1;
    await refuse(7);
    expect(posts).toHaveLength(1);
    now = T0 + 3600_000;
    await refuse(7);
    expect(posts).toHaveLength(2);
  });

  it('does not alert when a member only hits their own allowance', async () => {
    const { alerts, poster, spend, refuse } = setUp({ daily: 1000, monthly: null, userDaily: 10 });
    alerts.postWith(poster);
    await alerts.configure('g1', 'c-alerts');
    await spend(10, 'u9');
    await refuse(5, 'u9');
    expect(posts).toEqual([]);
  });
});

describe('spend alerts: where they go', () => {
  it('says nothing, and stores nothing, for a server without an alert channel', async () => {
    const { alerts, keyv, poster, spend, refuse } = setUp();
    alerts.postWith(poster);
    await spend(100);
    await refuse(1);
    expect(posts).toEqual([]);
    expect(await alerts.settings('g1')).toBeUndefined();
    expect(await keyv.get('g1')).toBeUndefined();
  });

  it('writes nothing when a request announces nothing', async () => {
    const { alerts, keyv, poster, spend, refuse } = setUp();
    alerts.postWith(poster);
    await alerts.configure('g1', 'c-alerts');
    await spend(100);
    await refuse(1);
    expect(posts).toHaveLength(2);
    const set = vi.spyOn(keyv, 'set');
    // Nothing new: already at 100%, and the refusal was posted less than an hour ago.
    await refuse(1);
    expect(posts).toHaveLength(2);
    expect(set).not.toHaveBeenCalled();
  });

  it('writes nothing when a settled request crosses no new level', async () => {
    const { alerts, keyv, poster, spend } = setUp();
    alerts.postWith(poster);
    await alerts.configure('g1', 'c-alerts');
    const set = vi.spyOn(keyv, 'set');
    await spend(79);
    expect(posts).toEqual([]);
    expect(set).not.toHaveBeenCalled();
  });

  it('writes nothing after a successful post when no failure was recorded', async () => {
    const { alerts, keyv, poster, spend } = setUp();
    alerts.postWith(poster);
    await alerts.configure('g1', 'c-alerts');
    const set = vi.spyOn(keyv, 'set');
    await spend(80);
    expect(posts).toHaveLength(1);
    // The decision records the marks once; the post's outcome changes nothing.
    expect(set).toHaveBeenCalledTimes(1);
  });

  it('ignores direct messages (they have no alert channel), whatever is stored', async () => {
    const { alerts, poster, spend } = setUp();
    alerts.postWith(poster);
    await alerts.configure('dm:u1', 'c-dm');
    await spend(100, 'u1', 'dm:u1');
    expect(posts).toEqual([]);
    expect(lockKeys.filter((k) => k.startsWith('alerts:'))).toEqual(['alerts:dm:u1']);
  });

  it('a new channel starts with nothing announced; the same channel again keeps what was; off stops alerts', async () => {
    const { alerts, poster, spend } = setUp();
    alerts.postWith(poster);
    await alerts.configure('g1', 'c1');
    expect(await alerts.settings('g1')).toEqual({ channelId: 'c1', marks: emptyMarks() });
    await spend(80);
    expect(posts.map((p) => p.channelId)).toEqual(['c1']);
    await alerts.configure('g1', 'c1');
    await spend(1);
    expect(posts).toHaveLength(1);
    await alerts.configure('g1', 'c2');
    expect(await alerts.settings('g1')).toEqual({ channelId: 'c2', marks: emptyMarks() });
    await spend(1);
    expect(posts.map((p) => p.channelId)).toEqual(['c1', 'c2']);
    await alerts.configure('g1', null);
    expect(await alerts.settings('g1')).toBeUndefined();
    await spend(18);
    expect(posts).toHaveLength(2);
  });

  it("holds the server's alerts lock (not the ledger's) while deciding and recording", async () => {
    const { alerts, poster, spend } = setUp();
    alerts.postWith(poster);
    await alerts.configure('g1', 'c1');
    await spend(85);
    const alertKeys = lockKeys.filter((k) => k.startsWith('alerts'));
    // configure, the decision, then recording the outcome of the post.
    expect(alertKeys).toEqual(['alerts:g1', 'alerts:g1', 'alerts:g1']);
    expect(lockKeys).toHaveLength(3);
  });
});

describe('spend alerts: when posting fails', () => {
  it('remembers why, for /spend status, until a post succeeds', async () => {
    const { alerts, spend } = setUp({ daily: 100, monthly: 1000, userDaily: null });
    let failing = true;
    alerts.postWith(async (channelId, content) => {
      if (failing) throw new Error('Missing Access');
      posts.push({ channelId, content });
    });
    await alerts.configure('g1', 'c1');
    await spend(80);
    const failed = await alerts.settings('g1');
    expect(failed?.failure).toEqual({ at: T0, reason: 'Missing Access' });
    expect(logLines.find((l) => l.msg === 'could not post a spend alert')).toMatchObject({ level: 40, guildId: 'g1', channelId: 'c1', err: { message: 'Missing Access' } });
    failing = false;
    now = T0 + 60_000;
    await spend(20);
    expect(posts).toHaveLength(1);
    expect(await alerts.settings('g1')).toEqual({ channelId: 'c1', marks: { crossed: { 'daily:80': '2026-11-26', 'daily:100': '2026-11-26' }, refused: {} } });
    expect(logLines.find((l) => l.msg === 'spend alert posted')).toMatchObject({ level: 30, guildId: 'g1', channelId: 'c1' });
  });

  it('records "not connected to Discord" when no poster is set yet', async () => {
    const { alerts, spend } = setUp();
    await alerts.configure('g1', 'c1');
    await spend(90);
    expect((await alerts.settings('g1'))?.failure).toEqual({ at: T0, reason: 'not connected to Discord' });
  });

  it('cuts a reason longer than 120 characters to 120, ending with an ellipsis', async () => {
    const { alerts, spend } = setUp();
    alerts.postWith(async () => {
      throw new Error('y'.repeat(121));
    });
    await alerts.configure('g1', 'c1');
    await spend(80);
    expect((await alerts.settings('g1'))?.failure?.reason).toBe(`${'y'.repeat(119)}…`);
  });

  it('takes something thrown that is not an Error as the reason text', async () => {
    const { alerts, spend } = setUp();
    alerts.postWith(async () => {
      throw 'channel gone';
    });
    await alerts.configure('g1', 'c1');
    await spend(80);
    expect((await alerts.settings('g1'))?.failure?.reason).toBe('channel gone');
  });

  it('keeps a 120-character reason whole', async () => {
    const { alerts, spend } = setUp();
    alerts.postWith(async () => {
      throw new Error('z'.repeat(120));
    });
    await alerts.configure('g1', 'c1');
    await spend(80);
    expect((await alerts.settings('g1'))?.failure?.reason).toBe('z'.repeat(120));
  });

  it('does not pin a failure on a channel chosen while the post was in flight, nor revive removed settings', async () => {
    const { alerts, spend } = setUp();
    let next: string | null = 'c2';
    alerts.postWith(async () => {
      await alerts.configure('g1', next);
      throw new Error('Unknown Channel');
    });
    await alerts.configure('g1', 'c1');
    await spend(80);
    expect(await alerts.settings('g1')).toEqual({ channelId: 'c2', marks: emptyMarks() });
    next = null;
    await spend(10);
    expect(await alerts.settings('g1')).toBeUndefined();
    expect(logLines.filter((l) => l.msg === 'spend alert failed')).toEqual([]);
  });

  it('does not clear the failure of a channel chosen while a successful post was in flight', async () => {
    const { alerts, keyv, spend } = setUp();
    alerts.postWith(async () => {
      // Another admin picks c2, and an earlier post there had failed.
      await keyv.set('g1', { channelId: 'c2', marks: emptyMarks(), failure: { at: 1, reason: 'Missing Access' } });
    });
    await alerts.configure('g1', 'c1');
    await spend(80);
    expect((await alerts.settings('g1'))?.failure).toEqual({ at: 1, reason: 'Missing Access' });
  });

  it('never throws from handle: a store failure is logged with the server', async () => {
    const { alerts } = setUp(undefined, () => Promise.reject(new Error('store is down')));
    const event: LedgerEvent = {
      type: 'refused',
      scope: 'g7',
      request: { scope: 'g7', userId: 'u1', kind: 'chat', model: 'm', estimate: 1 },
      refusal: { limit: 'daily', limitSpark: 10, spent: 10, needed: 1, resetsAt: 0 },
    };
    expect(() => alerts.handle(event)).not.toThrow();
    await alerts.idle();
    expect(logLines.find((l) => l.msg === 'spend alert failed')).toMatchObject({ level: 40, guildId: 'g7', err: { message: 'store is down' } });
  });

  it('idle waits for an alert still being posted', async () => {
    const { alerts, spend } = setUp();
    let finish!: () => void;
    let started!: () => void;
    const posting = new Promise<void>((r) => (started = r));
    alerts.postWith(
      (channelId, content) =>
        new Promise<void>((r) => {
          started();
          finish = () => {
            posts.push({ channelId, content });
            r();
          };
        }),
    );
    await alerts.configure('g1', 'c1');
    const settled = spend(85);
    await posting;
    let idle = false;
    const waiting = alerts.idle().then(() => (idle = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(idle).toBe(false);
    finish();
    await waiting;
    await settled;
    expect(posts).toHaveLength(1);
  });
});
