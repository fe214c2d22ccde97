import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PacerRegistry, type Urgency } from '../../src/core/editPacer.js';
import { RateBuckets } from '../../src/core/rateBuckets.js';
import { readRateHeaders, routeOf, type RateHeaders, type SendRoute } from '../../src/core/rateHeaders.js';

const T0 = 1_000_000;
const CHANNEL = '111111111111111111';
const OTHER = '222222222222222222';
const APP = '333333333333333333';
const create = (channel = CHANNEL): SendRoute => ({ method: 'POST', path: `/channels/${channel}/messages` });
const edit = (channel = CHANNEL): SendRoute => ({ method: 'PATCH', path: `/channels/${channel}/messages/444444444444444444` });
const webhook = (token: string): SendRoute => ({ method: 'PATCH', path: `/webhooks/${APP}/${token}/messages/@original` });

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

/**
 * Discord as the fake counts it, in miniature: sliding windows per bucket, counted when a
 * request lands (`latencyMs` after it leaves), with Discord's headers. `shared`: a channel's
 * writes and its interaction webhooks are one budget; `separate`: creates, edits and each
 * token apart, creates and edits reporting one hash.
 */
class MiniDiscord {
  mode: 'shared' | 'separate';
  limit: number;
  readonly windowMs: number;
  readonly latencyMs: number;
  readonly globalPerSecond: number;
  readonly #logs = new Map<string, number[]>();
  readonly #global: number[] = [];
  /** Every request as it landed: when, which bucket, and the status it got. */
  readonly landed: { at: number; bucket: string; status: number }[] = [];

  constructor(options: { mode: 'shared' | 'separate'; limit?: number; windowMs?: number; latencyMs?: number; globalPerSecond?: number }) {
    this.mode = options.mode;
    this.limit = options.limit ?? 5;
    this.windowMs = options.windowMs ?? 5000;
    this.latencyMs = options.latencyMs ?? 50;
    this.globalPerSecond = options.globalPerSecond ?? 50;
  }

  get rateLimited(): number {
    return this.landed.filter((l) => l.status === 429).length;
  }

  /** Starts every bucket afresh with a new limit, as Discord may change its limits. */
  changeLimit(limit: number): void {
    this.limit = limit;
    this.#logs.clear();
  }

  bucketOf(route: SendRoute): { counter: string; hash: string } {
    const parts = route.path.split('/').filter(Boolean);
    if (parts[0] === 'webhooks') return this.mode === 'shared' ? { counter: 'channel', hash: 'messages' } : { counter: `webhook:${parts[2]}`, hash: 'webhook' };
    const channel = parts[1] as string;
    if (this.mode === 'shared') return { counter: channel, hash: 'messages' };
    return { counter: `${route.method}:${channel}`, hash: 'messages' };
  }

  /** Sends the request; resolves with Discord's answer once it is back. */
  async request(route: SendRoute): Promise<{ status: number; headers: RateHeaders }> {
    await new Promise((r) => setTimeout(r, this.latencyMs));
    const now = Date.now();
    while (this.#global.length && now - (this.#global[0] as number) >= 1000) this.#global.shift();
    const { counter, hash } = this.bucketOf(route);
    if (this.#global.length >= this.globalPerSecond) {
      this.landed.push({ at: now, bucket: 'global', status: 429 });
      return { status: 429, headers: { global: true, scope: 'global', retryAfterMs: 1000 - (now - (this.#global[0] as number)) } };
    }
    this.#global.push(now);
    const log = this.#logs.get(counter) ?? [];
    while (log.length && now - (log[0] as number) >= this.windowMs) log.shift();
    this.#logs.set(counter, log);
    if (log.length >= this.limit) {
      const retry = (log[0] as number) + this.windowMs - now;
      this.landed.push({ at: now, bucket: counter, status: 429 });
      return { status: 429, headers: { global: false, scope: 'user', limit: this.limit, remaining: 0, resetAfterMs: retry, retryAfterMs: Math.ceil(retry / 1000) * 1000, bucket: hash } };
    }
    log.push(now);
    this.landed.push({ at: now, bucket: counter, status: 200 });
    const resetAfterMs = (log[0] as number) + this.windowMs - now;
    return {
      status: 200,
      headers: { global: false, limit: this.limit, remaining: this.limit - log.length, resetAfterMs, resetAtMs: now + resetAfterMs, bucket: hash },
    };
  }

  /** Most requests any `windowMs` window let into one bucket. */
  maxInWindow(bucket: string, windowMs = this.windowMs, from = 0): number {
    const times = this.landed.filter((l) => l.bucket === bucket && l.status !== 429 && l.at >= from).map((l) => l.at);
    return Math.max(0, ...times.map((t) => times.filter((u) => u >= t && u < t + windowMs).length));
  }
}

/**
 * One answer's send loop as the renderer runs it: a slot, the request, its answer observed,
 * done. `readLateMs`: the answer is read that much after it came back (a busy event loop).
 */
async function sendThrough(registry: PacerRegistry, discord: MiniDiscord, channel: string, urgency: Urgency, route: SendRoute, readLateMs = 0): Promise<void> {
  const slot = await registry.for(channel).acquire(urgency, route);
  const { status, headers } = await discord.request(route);
  if (readLateMs > 0) await new Promise((r) => setTimeout(r, readLateMs));
  registry.observe(route.method, route.path, status, headers);
  slot.done();
}

/** Lets the fake clock run until the sends are answered (they all leave at once, so within a round trip). */
async function settle(sends: Promise<void>[]): Promise<void> {
  await vi.advanceTimersByTimeAsync(100);
  await Promise.all(sends);
}

/** Keeps sending `route` one request at a time (as one message's edits go) until `until`, recording when each left. */
function keepSending(registry: PacerRegistry, discord: MiniDiscord, route: SendRoute, until: number, sent: number[], urgency: Urgency = 'paced') {
  return (async () => {
    while (Date.now() < until) {
      const slot = await registry.for(CHANNEL).acquire(urgency, route);
      sent.push(Date.now());
      const { status, headers } = await discord.request(route);
      registry.observe(route.method, route.path, status, headers);
      slot.done();
    }
  })();
}

describe('routeOf', () => {
  it('keys a route as discord.js buckets it: template and major parameter, @original unescaped', () => {
    const a = routeOf('PATCH', `/webhooks/${APP}/tok-en/messages/%40original`);
    const b = routeOf('patch', `/webhooks/${APP}/tok-en/messages/@original?wait=true`);
    expect(a).toEqual(b);
    expect(a.template).toBe('PATCH /webhooks/:id/:token/messages/@original');
    expect(a.major).toBe(`${APP}/tok-en`);
    expect(routeOf('PATCH', `/channels/${CHANNEL}/messages/444444444444444444`)).toMatchObject({ template: 'PATCH /channels/:id/messages/:id', major: CHANNEL });
  });

  it('reads Discord’s rate-limit headers, in ms', () => {
    const headers = new Map(
      Object.entries({ 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': '1.250', 'x-ratelimit-bucket': 'abc', 'retry-after': '2', 'x-ratelimit-scope': 'User' }),
    );
    expect(readRateHeaders((n) => headers.get(n))).toEqual({ limit: 5, remaining: 0, resetAfterMs: 1250, bucket: 'abc', retryAfterMs: 2000, scope: 'user', global: false });
    expect(readRateHeaders((n) => (n === 'x-ratelimit-global' ? 'true' : null)).global).toBe(true);
  });
});

describe('RateBuckets learned from headers', () => {
  it('learns a limit from the headers and paces to it, without a 429', async () => {
    const registry = new PacerRegistry();
    const discord = new MiniDiscord({ mode: 'shared', limit: 2 });
    const sent: number[] = [];
    void keepSending(registry, discord, edit(), T0 + 20_000, sent, 'final');
    await vi.advanceTimersByTimeAsync(20_000);
    expect(discord.rateLimited).toBe(0);
    expect(registry.buckets.limitOf(routeOf('PATCH', edit().path))).toBe(2);
    expect(discord.maxInWindow(CHANNEL)).toBe(2);
    // Two per 5 s, the most Discord allows: about 8 in 20 s, not the 20 the default rule would try.
    expect(sent.length).toBeGreaterThanOrEqual(7);
    expect(sent.length).toBeLessThanOrEqual(9);
  });

  it('tells a shared hash with separate exhaustion apart: edits stop waiting behind new messages', async () => {
    const registry = new PacerRegistry();
    const discord = new MiniDiscord({ mode: 'separate' });
    // Three answers' first messages at once, then their edits.
    await settle([0, 1, 2].map(() => sendThrough(registry, discord, CHANNEL, 'new', create())));
    const sent: number[] = [];
    void keepSending(registry, discord, edit(), T0 + 10_000, sent);
    await vi.advanceTimersByTimeAsync(10_000);
    const creates = routeOf('POST', create().path);
    const edits = routeOf('PATCH', edit().path);
    expect(registry.buckets.relation(creates, edits)).toBe('separate');
    expect(discord.rateLimited).toBe(0);
    // Under the shared rule the edits could only start 3 s in (the creates' share); counted apart, they go at once and every second.
    expect(sent[0]).toBeLessThan(T0 + 200);
    expect(sent.filter((t) => t < T0 + 5_000).length).toBeGreaterThanOrEqual(5);
  });

  it('keeps a shared budget shared when Discord counts creates and edits together', async () => {
    const registry = new PacerRegistry();
    const discord = new MiniDiscord({ mode: 'shared' });
    await settle([0, 1, 2].map(() => sendThrough(registry, discord, CHANNEL, 'new', create())));
    const sent: number[] = [];
    void keepSending(registry, discord, edit(), T0 + 15_000, sent);
    await vi.advanceTimersByTimeAsync(15_000);
    // The first edit left one remaining after three creates: the creates' budget is the edits'.
    expect(registry.buckets.relation(routeOf('POST', create().path), routeOf('PATCH', edit().path))).toBe('shared');
    expect(discord.rateLimited).toBe(0);
    expect(discord.maxInWindow(CHANNEL)).toBeLessThanOrEqual(5);
  });

  it('paces each interaction token on its own budget once Discord shows they are apart', async () => {
    const registry = new PacerRegistry();
    const discord = new MiniDiscord({ mode: 'separate' });
    // Two /ask answers' first texts leave together: the same remaining on both proves two budgets.
    await settle(['tokA', 'tokB'].map((t) => sendThrough(registry, discord, CHANNEL, 'new', webhook(t))));
    expect(registry.buckets.relation(routeOf('PATCH', webhook('tokA').path), routeOf('PATCH', webhook('tokB').path))).toBe('separate');
    const sent: Record<string, number[]> = { tokA: [], tokB: [] };
    for (const token of ['tokA', 'tokB'] as const) void keepSending(registry, discord, webhook(token), T0 + 10_000, sent[token] as number[]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(discord.rateLimited).toBe(0);
    // Each token about one edit a second, not one every two.
    expect(sent['tokA']?.length).toBeGreaterThanOrEqual(9);
    expect(sent['tokB']?.length).toBeGreaterThanOrEqual(9);
  });

  it('follows a limit that shrinks halfway through, without a 429', async () => {
    const registry = new PacerRegistry();
    const discord = new MiniDiscord({ mode: 'separate' });
    const sent: number[] = [];
    void keepSending(registry, discord, edit(), T0 + 30_000, sent, 'final');
    await vi.advanceTimersByTimeAsync(10_000);
    discord.changeLimit(3);
    const changedAt = Date.now();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(discord.rateLimited).toBe(0);
    expect(registry.buckets.limitOf(routeOf('PATCH', edit().path))).toBe(3);
    expect(discord.maxInWindow(`PATCH:${CHANNEL}`, 5000, changedAt)).toBe(3);
    // And it keeps using what is allowed: about 3 per 5 s over the last 20 s.
    expect(sent.filter((t) => t >= changedAt).length).toBeGreaterThanOrEqual(10);
  });

  it('learns from a 429 it did not foresee: the routes it counted apart are shared again', () => {
    const buckets = new RateBuckets();
    const lane = CHANNEL;
    const post = routeOf('POST', create().path);
    const patch = routeOf('PATCH', edit().path);
    const answer = (route: typeof post, remaining: number) => {
      const send = buckets.grant(route, lane, true, Date.now());
      buckets.dispatch(send, Date.now());
      buckets.observe(route.template.split(' ')[0] as string, route === post ? create().path : edit().path, 200, { global: false, limit: 5, remaining, resetAfterMs: 5000, bucket: 'h' }, Date.now());
    };
    answer(post, 4);
    answer(patch, 4);
    expect(buckets.relation(post, patch)).toBe('separate');
    const send = buckets.grant(patch, lane, true, Date.now());
    buckets.dispatch(send, Date.now());
    const observed = buckets.observe('PATCH', edit().path, 429, { global: false, scope: 'user', limit: 5, remaining: 0, resetAfterMs: 3000, retryAfterMs: 3000, bucket: 'h' }, Date.now());
    expect(observed.limited).toMatchObject({ template: 'PATCH /channels/:id/messages/:id', retryAfterMs: 3000 });
    expect(buckets.relation(post, patch)).toBe('shared');
    // Held for its Retry-After.
    expect(buckets.nextAllowed(patch, lane, false, true, Date.now())).toBeGreaterThanOrEqual(T0 + 3000);
  });
});

describe('the bot-wide budget', () => {
  it('honours a global 429: nothing leaves until its Retry-After, and the budget shrinks', async () => {
    const registry = new PacerRegistry();
    const before = registry.buckets.globalLimit;
    registry.observe('PATCH', edit().path, 429, { global: true, scope: 'global', retryAfterMs: 2000 });
    expect(registry.buckets.globalLimit).toBeLessThan(before);
    const granted: number[] = [];
    void registry.for(OTHER).acquire('new', create(OTHER)).then(() => granted.push(Date.now()));
    expect(registry.for(CHANNEL).tryAcquire()).toBe(false);
    await vi.advanceTimersByTimeAsync(1999);
    expect(granted).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(granted).toEqual([T0 + 2000]);
    // It grows back a request a minute without another.
    await vi.advanceTimersByTimeAsync(61_000);
    registry.buckets.globalNextAllowed(Date.now());
    expect(registry.buckets.globalLimit).toBe(before - 4);
  });

  it('counts each request’s second from Discord’s answer: about 49 a second, never a 429', async () => {
    const registry = new PacerRegistry();
    const discord = new MiniDiscord({ mode: 'separate', latencyMs: 50 });
    const channels = Array.from({ length: 300 }, (_, i) => String(500_000_000_000_000_000n + BigInt(i)));
    for (const channel of channels) void sendThrough(registry, discord, channel, 'new', create(channel));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(discord.rateLimited).toBe(0);
    const landed = discord.landed.map((l) => l.at);
    expect(Math.max(...landed.map((t) => landed.filter((u) => u >= t && u < t + 1000).length))).toBeLessThanOrEqual(50);
    // 49 a second, as Discord counted them: about 6.1 s for 300 (the old 47 per 1.04 s: 6.6 s).
    expect(Math.max(...landed) - T0).toBeLessThanOrEqual(6_200);
  });

  it('reads when Discord counted each request from its headers, so a slow event loop costs no requests', async () => {
    const run = async (headers: 'with' | 'without') => {
      vi.setSystemTime(T0);
      const registry = new PacerRegistry();
      const discord = new MiniDiscord({ mode: 'separate', latencyMs: 50 });
      const request = discord.request.bind(discord);
      if (headers === 'without') discord.request = async (route) => ({ ...(await request(route)), headers: { global: false } });
      const channels = Array.from({ length: 300 }, (_, i) => String(600_000_000_000_000_000n + BigInt(i)));
      // Nine answers in ten are read 200 ms after they came back; the tenth at once.
      channels.forEach((channel, i) => void sendThrough(registry, discord, channel, 'new', create(channel), i % 10 === 0 ? 0 : 200));
      await vi.advanceTimersByTimeAsync(15_000);
      expect(discord.rateLimited).toBe(0);
      return Math.max(...discord.landed.map((l) => l.at)) - T0;
    };
    const timed = await run('with');
    const untimed = await run('without');
    expect(timed).toBeLessThanOrEqual(6_250);
    // Counting from when the answers were read would lose about a tenth of the budget.
    expect(untimed).toBeGreaterThan(6_800);
  });
});
