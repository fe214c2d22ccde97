/**
 * The rules of the rate-limit model, one by one, against its public API with explicit times
 * (the model is pure: the caller passes the clock). The end-to-end behaviour against a
 * miniature Discord lives in rateBuckets.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { DISCORD_CHANNEL_RULE, DISCORD_GLOBAL_RULE, IN_FLIGHT_MAX_MS, RateBuckets, type BucketRule, type Send } from '../../src/core/rateBuckets.js';
import { routeOf, type RateHeaders } from '../../src/core/rateHeaders.js';

const CH = '111111111111111111';
const CH2 = '222222222222222222';
const APP = '333333333333333333';
const MSG = '444444444444444444';

interface Req {
  method: string;
  path: string;
}
const POST: Req = { method: 'POST', path: `/channels/${CH}/messages` };
const PATCH: Req = { method: 'PATCH', path: `/channels/${CH}/messages/${MSG}` };
const DELETE: Req = { method: 'DELETE', path: `/channels/${CH}/messages/${MSG}` };
const POST2: Req = { method: 'POST', path: `/channels/${CH2}/messages` };
const hook = (token: string): Req => ({ method: 'PATCH', path: `/webhooks/${APP}/${token}/messages/@original` });
const route = (req: Req) => routeOf(req.method, req.path);
const h = (headers: Partial<RateHeaders> = {}): RateHeaders => ({ global: false, ...headers });

/** A channel budget of 2 per second with a 100 ms margin, and a bot budget of 5 per second: small numbers to count by hand. */
const SMALL: BucketRule = { limit: 2, windowMs: 1000, marginMs: 100 };
const SMALL_GLOBAL: BucketRule = { limit: 5, windowMs: 1000, marginMs: 40 };

interface TripOptions {
  lane?: string;
  status?: number;
  paced?: boolean;
  matched?: boolean;
}

/** One request through the model: granted and gone at `at`, Discord's answer read at `answeredAt`, then done. */
function trip(b: RateBuckets, req: Req, at: number, answeredAt: number, headers: RateHeaders = h(), options: TripOptions = {}) {
  const send = b.grant(route(req), options.lane ?? CH, options.matched ?? true, at, options.paced ?? false);
  b.dispatch(send, at);
  const observed = b.observe(req.method, req.path, options.status ?? 200, headers, answeredAt);
  b.done(send, answeredAt);
  return { send, observed };
}

/** A send granted and gone at `at`, Discord's answer not back yet. */
function leave(b: RateBuckets, req: Req, at: number, options: TripOptions = {}): Send {
  const send = b.grant(route(req), options.lane ?? CH, options.matched ?? true, at, options.paced ?? false);
  b.dispatch(send, at);
  return send;
}

/** When the next unpaced send of `req` may go (the window and Discord's holds only). */
const next = (b: RateBuckets, req: Req, now: number) => b.nextAllowed(route(req), CH, false, true, now);
/** When the next paced (turn-taking) send of `req` may go. */
const nextPaced = (b: RateBuckets, req: Req, now: number) => b.nextAllowed(route(req), CH, true, true, now);

describe('defaults', () => {
  it('assumes 5 per 5 s in a channel and 50 a second for the bot until Discord says otherwise', () => {
    expect(DISCORD_CHANNEL_RULE).toEqual({ limit: 5, windowMs: 5000, marginMs: 250 });
    expect(DISCORD_GLOBAL_RULE).toEqual({ limit: 50, windowMs: 1000, marginMs: 40 });
    expect(IN_FLIGHT_MAX_MS).toBe(15_000);
    const b = new RateBuckets();
    expect(b.limitOf(route(POST))).toBe(5);
    expect(b.windowOf(route(POST))).toBe(5000);
    expect(b.spacingOf(route(POST))).toBe(1000);
    expect(b.globalLimit).toBe(50);
  });

  it('names a channel’s default route as discord.js names an edit in it', () => {
    expect(new RateBuckets().laneRoute(CH)).toEqual(routeOf('PATCH', `/channels/${CH}/messages/${MSG}`));
  });
});

describe('learning from headers', () => {
  it('learns a route’s limit from its answer, and other channels of its template start from it', () => {
    const b = new RateBuckets();
    trip(b, POST, 0, 10, h({ limit: 3, remaining: 2 }));
    expect(b.limitOf(route(POST))).toBe(3);
    expect(b.limitOf(route(POST2))).toBe(3);
    expect(b.limitOf(route(PATCH))).toBe(5);
  });

  it('keeps a route’s own limit over the one another channel taught its template', () => {
    const b = new RateBuckets();
    trip(b, POST, 0, 10, h({ limit: 3 }));
    trip(b, POST2, 0, 10, h({ limit: 7 }), { lane: CH2 });
    expect(b.limitOf(route(POST))).toBe(3);
    expect(b.limitOf(route(POST2))).toBe(7);
    expect(b.limitOf(routeOf('POST', '/channels/999999999999999999/messages'))).toBe(7);
  });

  it('learns from answers to requests it never paced, without naming a channel to plan again', () => {
    const b = new RateBuckets();
    const observed = b.observe('POST', POST.path, 200, h({ limit: 4, remaining: 3, resetAfterMs: 8000 }), 0);
    expect(observed).toEqual({ lanes: new Set() });
    expect(b.limitOf(route(POST))).toBe(4);
    expect(b.windowOf(route(POST))).toBe(8000);
  });

  it('learns a template’s limit from a 429 too', () => {
    const b = new RateBuckets();
    b.observe('POST', POST.path, 429, h({ limit: 2, retryAfterMs: 1000 }), 0);
    expect(b.limitOf(route(POST))).toBe(2);
  });

  it('stretches the window to the longest Reset-After a success reported, never below the rule', () => {
    const b = new RateBuckets();
    trip(b, POST, 0, 10, h({ resetAfterMs: 8000 }));
    expect(b.windowOf(route(POST))).toBe(8000);
    expect(b.windowOf(route(POST2))).toBe(8000);
    expect(b.spacingOf(route(POST))).toBe(1600);
    trip(b, POST, 20, 30, h({ resetAfterMs: 3000 }));
    expect(b.windowOf(route(POST))).toBe(8000);
    expect(b.windowOf(route(PATCH))).toBe(5000);
    b.observe('PATCH', PATCH.path, 200, h({ resetAfterMs: 4000 }), 40);
    expect(b.windowOf(route(PATCH))).toBe(5000);
  });

  it('stretches no window from a 429 or any answer that is not a success', () => {
    const b = new RateBuckets();
    b.observe('POST', POST.path, 429, h({ limit: 5, resetAfterMs: 9000, retryAfterMs: 9000 }), 0);
    b.observe('POST', POST.path, 300, h({ resetAfterMs: 9000 }), 0);
    expect(b.windowOf(route(POST))).toBe(5000);
    b.observe('POST', POST.path, 299, h({ resetAfterMs: 9000 }), 0);
    expect(b.windowOf(route(POST))).toBe(9000);
  });

  it('spaces the sends of a route that reports a limit of 0 one window apart', () => {
    const b = new RateBuckets();
    trip(b, POST, 0, 10, h({ limit: 0 }));
    expect(b.spacingOf(route(POST))).toBe(5000);
  });
});

describe('answers and the sends they belong to', () => {
  it('matches a route’s answers to its sends in the order they left, keeping the rate-limit numbers', () => {
    const b = new RateBuckets();
    const first = leave(b, POST, 0);
    const second = leave(b, POST, 100);
    const observed = b.observe('POST', POST.path, 200, h({ limit: 5, remaining: 4, resetAfterMs: 5000, resetAtMs: 77_000, bucket: 'x' }), 150);
    expect(observed).toEqual({ lanes: new Set([CH]) });
    expect(first.answeredAt).toBe(150);
    expect(first.answer).toStrictEqual({ status: 200, limit: 5, remaining: 4, resetAfterMs: 5000 });
    expect(first.countedAt).toBe(72_000);
    expect(second.answeredAt).toBeUndefined();
    b.observe('POST', POST.path, 200, h({ remaining: 3 }), 300);
    expect(second.answeredAt).toBe(300);
    expect(second.answer).toStrictEqual({ status: 200, remaining: 3 });
    expect(second.countedAt).toBeUndefined();
  });

  it('records no count time without both Reset and Reset-After', () => {
    const b = new RateBuckets();
    const onlyReset = leave(b, POST, 0);
    b.observe('POST', POST.path, 200, h({ resetAtMs: 77_000 }), 10);
    const onlyAfter = leave(b, POST, 20);
    b.observe('POST', POST.path, 200, h({ resetAfterMs: 5000 }), 30);
    expect(onlyReset.countedAt).toBeUndefined();
    expect(onlyAfter.countedAt).toBeUndefined();
    expect(onlyAfter.answer).toStrictEqual({ status: 200, resetAfterMs: 5000 });
  });

  it('leaves a send in flight through a 429: discord.js retries it, and the retry’s answer is its answer', () => {
    const b = new RateBuckets();
    const send = leave(b, POST, 0);
    b.observe('POST', POST.path, 429, h({ retryAfterMs: 500 }), 50);
    expect(send.answeredAt).toBeUndefined();
    b.observe('POST', POST.path, 200, h({ limit: 5, remaining: 4 }), 600);
    expect(send.answeredAt).toBe(600);
    expect(send.answer?.status).toBe(200);
  });

  it('gives an answer no routed send claims to the oldest send that named no route', () => {
    const b = new RateBuckets();
    const routed = leave(b, PATCH, 0);
    const first = leave(b, PATCH, 10, { matched: false, lane: CH });
    const second = leave(b, PATCH, 20, { matched: false, lane: CH2 });
    // A routed send's answer goes to it, not to the unrouted ones.
    b.observe('PATCH', PATCH.path, 200, h(), 30);
    expect(routed.answeredAt).toBe(30);
    expect(first.answeredAt).toBeUndefined();
    const observed = b.observe('GET', '/gateway/bot', 200, h(), 40);
    expect(first.answeredAt).toBe(40);
    expect(second.answeredAt).toBeUndefined();
    expect(observed.lanes).toEqual(new Set([CH]));
    b.observe('GET', '/gateway/bot', 200, h(), 50);
    expect(second.answeredAt).toBe(50);
  });

  it('claims no answer for a send that named no route once it is 15 s old, nor with a 429', () => {
    const b = new RateBuckets();
    const old = leave(b, PATCH, 0, { matched: false });
    const young = leave(b, PATCH, 1, { matched: false });
    b.observe('GET', '/gateway/bot', 429, h({ retryAfterMs: 100 }), 50);
    expect(old.answeredAt).toBeUndefined();
    b.observe('GET', '/gateway/bot', 200, h(), IN_FLIGHT_MAX_MS);
    expect(old.answeredAt).toBeUndefined();
    expect(young.answeredAt).toBe(IN_FLIGHT_MAX_MS);
  });

  it('claims an answer for a send that named no route until it is 15 s old', () => {
    const b = new RateBuckets();
    const send = leave(b, PATCH, 20_000, { matched: false });
    b.observe('GET', '/gateway/bot', 200, h(), 20_000 + IN_FLIGHT_MAX_MS - 1);
    expect(send.answeredAt).toBe(20_000 + IN_FLIGHT_MAX_MS - 1);
  });

  it('lets a typing request claim an answer no one else claims, naming no channel to plan again', () => {
    const b = new RateBuckets(SMALL, SMALL_GLOBAL);
    b.dispatchGlobal(0);
    const observed = b.observe('POST', `/channels/${CH}/typing`, 204, h(), 30);
    expect([...observed.lanes]).toEqual(['']);
  });
});

describe('done and cancel', () => {
  it('counts a send whose answer was never seen from when its caller finished with it', () => {
    const b = new RateBuckets({ limit: 1, windowMs: 1000, marginMs: 100 });
    const send = leave(b, PATCH, 0);
    expect(next(b, PATCH, 100)).toBe(IN_FLIGHT_MAX_MS + 1000);
    b.done(send, 200);
    expect(send.answeredAt).toBe(200);
    expect(next(b, PATCH, 300)).toBe(1200);
    // Its answer can no longer be matched to it.
    const later = leave(b, PATCH, 400);
    b.observe('PATCH', PATCH.path, 200, h(), 450);
    expect(later.answeredAt).toBe(450);
  });

  it('keeps the time Discord’s answer was read when the caller finishes later', () => {
    const b = new RateBuckets({ limit: 1, windowMs: 1000, marginMs: 100 });
    const send = leave(b, PATCH, 0);
    b.observe('PATCH', PATCH.path, 200, h(), 0);
    b.done(send, 500);
    expect(send.answeredAt).toBe(0);
    expect(next(b, PATCH, 600)).toBe(1000);
  });

  it('counts nothing for a slot given back unused', () => {
    const b = new RateBuckets({ limit: 1, windowMs: 1000, marginMs: 100 });
    const send = b.grant(route(PATCH), CH, true, 0, true);
    expect(nextPaced(b, PATCH, 10)).toBe(IN_FLIGHT_MAX_MS + 1000);
    b.cancel(send);
    expect(send.cancelled).toBe(true);
    expect(nextPaced(b, PATCH, 10)).toBe(10);
  });

  it('forgets a send given back after it left: its answer and its place in the bot’s second are free', () => {
    const b = new RateBuckets(SMALL, SMALL_GLOBAL);
    const kept = [leave(b, PATCH, 0), leave(b, PATCH, 0)];
    const dropped = leave(b, POST, 0);
    // Three routed requests in flight and one typing: the bot's second (4 of 5) is full.
    b.dispatchGlobal(0);
    expect(b.globalNextAllowed(10)).toBe(1040);
    b.cancel(dropped);
    expect(dropped.cancelled).toBe(true);
    expect(b.globalNextAllowed(10)).toBe(10);
    b.observe('POST', POST.path, 200, h(), 20);
    expect(dropped.answeredAt).toBeUndefined();
    expect(kept.every((s) => s.answeredAt === undefined)).toBe(true);
  });

  it('gives back the right request’s place in the bot’s second', () => {
    const b = new RateBuckets(SMALL, { limit: 4, windowMs: 1000, marginMs: 40 });
    // Three typing requests and a routed one: room for 3, so the next waits for the second oldest to expire.
    b.dispatchGlobal(0);
    b.dispatchGlobal(500);
    b.dispatchGlobal(550);
    const routed = leave(b, PATCH, 600);
    expect(b.globalNextAllowed(700)).toBe(1540);
    b.cancel(routed);
    // Only the oldest typing request's expiry is waited for now.
    expect(b.globalNextAllowed(700)).toBe(1040);
  });

  it('gives back the first request’s place in the bot’s second', () => {
    const b = new RateBuckets(SMALL, { limit: 4, windowMs: 1000, marginMs: 40 });
    const routed = leave(b, PATCH, 0);
    b.dispatchGlobal(500);
    b.dispatchGlobal(600);
    expect(b.globalNextAllowed(700)).toBe(1540);
    b.cancel(routed);
    expect(b.globalNextAllowed(700)).toBe(700);
  });

  it('matches the next answer to the send still in flight when the first was given back', () => {
    const b = new RateBuckets();
    const first = leave(b, PATCH, 0);
    const second = leave(b, PATCH, 10);
    const third = leave(b, PATCH, 20);
    b.cancel(first);
    b.observe('PATCH', PATCH.path, 200, h(), 30);
    expect(second.answeredAt).toBe(30);
    b.cancel(third);
    b.observe('PATCH', PATCH.path, 200, h(), 40);
    expect(third.answeredAt).toBeUndefined();
  });

  it('gives an unclaimed answer to the next send that named no route when the first was given back or finished', () => {
    const b = new RateBuckets();
    const first = leave(b, PATCH, 0, { matched: false });
    const second = leave(b, PATCH, 10, { matched: false });
    const third = leave(b, PATCH, 20, { matched: false });
    b.cancel(first);
    b.observe('GET', '/gateway/bot', 200, h(), 30);
    expect(first.answeredAt).toBeUndefined();
    expect(second.answeredAt).toBe(30);
    const fourth = leave(b, PATCH, 40, { matched: false });
    b.done(third, 50);
    b.observe('GET', '/gateway/bot', 200, h(), 60);
    expect(third.answeredAt).toBe(50);
    expect(fourth.answeredAt).toBe(60);
  });

  it('changes nothing when a send is given back after Discord answered it: it was counted', () => {
    const b = new RateBuckets({ limit: 1, windowMs: 1000, marginMs: 100 }, SMALL_GLOBAL);
    const { send } = trip(b, PATCH, 0, 0);
    b.cancel(send);
    expect(send.cancelled).toBeUndefined();
    expect(next(b, PATCH, 10)).toBe(1000);
  });

  it('gives back a send that was finished before it left', () => {
    const b = new RateBuckets({ limit: 1, windowMs: 1000, marginMs: 100 });
    const send = b.grant(route(PATCH), CH, true, 0);
    b.done(send, 0);
    b.cancel(send);
    expect(send.cancelled).toBe(true);
    expect(next(b, PATCH, 10)).toBe(10);
  });
});

describe('the window', () => {
  it('lets a send go at once while its window has room', () => {
    const b = new RateBuckets(SMALL);
    trip(b, PATCH, 0, 0);
    expect(next(b, PATCH, 10)).toBe(10);
  });

  it('holds a send after a full window until the oldest send in it leaves the window', () => {
    const b = new RateBuckets(SMALL);
    trip(b, PATCH, 0, 0);
    trip(b, PATCH, 300, 300);
    expect(next(b, PATCH, 400)).toBe(1000);
    expect(next(b, PATCH, 999)).toBe(1000);
    expect(next(b, PATCH, 1000)).toBe(1000);
    trip(b, PATCH, 600, 600);
    // Three in the window, two allowed: the second oldest decides.
    expect(next(b, PATCH, 700)).toBe(1300);
    expect(next(b, PATCH, 1100)).toBe(1300);
    expect(next(b, PATCH, 1600)).toBe(1600);
  });

  it('counts the sends of every route of the channel that may share the budget, whatever order they were answered in', () => {
    const b = new RateBuckets(SMALL);
    const post = leave(b, POST, 0);
    const patch = leave(b, PATCH, 0);
    b.observe('PATCH', PATCH.path, 200, h(), 0);
    b.observe('POST', POST.path, 200, h(), 300);
    expect([post.answeredAt, patch.answeredAt]).toEqual([300, 0]);
    expect(next(b, DELETE, 400)).toBe(1000);
    expect(next(b, POST, 400)).toBe(1000);
  });

  it('counts only the sends of its own lane', () => {
    const b = new RateBuckets(SMALL);
    trip(b, POST2, 0, 0, h(), { lane: CH2 });
    trip(b, POST2, 0, 0, h(), { lane: CH2 });
    expect(next(b, POST, 10)).toBe(10);
  });

  it('counts a granted send that has not left yet for 15 s', () => {
    const b = new RateBuckets({ limit: 1, windowMs: 1000, marginMs: 100 });
    b.grant(route(PATCH), CH, true, 0);
    expect(next(b, PATCH, 10)).toBe(IN_FLIGHT_MAX_MS + 1000);
    b.grant(route(PATCH), CH, false, 0);
    expect(next(b, PATCH, 10)).toBe(IN_FLIGHT_MAX_MS + 1000);
  });

  it('counts a routed send in flight until its answer, 15 s at most', () => {
    const b = new RateBuckets({ limit: 1, windowMs: 1000, marginMs: 100 });
    leave(b, PATCH, 500);
    expect(next(b, PATCH, 600)).toBe(500 + IN_FLIGHT_MAX_MS + 1000);
  });

  it('counts a send that named no route from when it left plus the margin: its answer may be anyone’s', () => {
    const b = new RateBuckets({ limit: 1, windowMs: 1000, marginMs: 100 });
    const send = leave(b, PATCH, 0, { matched: false });
    expect(next(b, PATCH, 10)).toBe(1100);
    // Claimed by an answer read early, it still counts from the margin.
    b.observe('GET', '/gateway/bot', 200, h(), 50);
    expect(send.answeredAt).toBe(50);
    expect(next(b, PATCH, 60)).toBe(1100);
  });

  it('counts a send that named no route from its answer when that came after the margin', () => {
    const b = new RateBuckets({ limit: 1, windowMs: 1000, marginMs: 100 });
    leave(b, PATCH, 0, { matched: false });
    b.observe('GET', '/gateway/bot', 200, h(), 500);
    expect(next(b, PATCH, 600)).toBe(1500);
  });

  it('counts an answered send from when Discord says it counted it, converted to our clock by the quickest answer', () => {
    const b = new RateBuckets({ limit: 1, windowMs: 5000, marginMs: 100 });
    // Discord's clock runs 10 s ahead; the first answer took 100 ms to be read after Discord counted it.
    const D = 10_000;
    trip(b, PATCH, 0, 100, h({ limit: 1, remaining: 0, resetAfterMs: 5000, resetAtMs: D + 50 + 5000 }));
    // This one Discord counted at 1050 (our clock) but our event loop read it only at 1400.
    trip(b, PATCH, 1000, 1400, h({ limit: 1, remaining: 0, resetAfterMs: 5000, resetAtMs: D + 1050 + 5000 }));
    // Quickest return 100 - 50 = 50 ms, plus 2 ms of rounding: counted by 1102; less the transit credit (40 ms, capped).
    expect(next(b, PATCH, 1500)).toBe(1102 - 40 + 5000);
  });

  it('never counts a send from later than its answer was read', () => {
    const b = new RateBuckets({ limit: 1, windowMs: 5000, marginMs: 100 });
    const D = 10_000;
    trip(b, PATCH, 0, 20, h({ resetAfterMs: 5000, resetAtMs: D + 10 + 5000 }));
    // Discord's count time says 1300 + 10 + 2, but the answer was read at 1300.
    trip(b, PATCH, 1290, 1300, h({ resetAfterMs: 5000, resetAtMs: D + 1300 + 5000 }));
    // The quickest round trip was 10 ms: 5 ms of transit credit.
    expect(next(b, PATCH, 1400)).toBe(1300 - 5 + 5000);
  });

  it('credits half the quickest round trip to the transit of a request, at most 40 ms', () => {
    const short = new RateBuckets({ limit: 1, windowMs: 1000, marginMs: 100 });
    trip(short, PATCH, 1000, 1030);
    expect(next(short, PATCH, 1100)).toBe(1030 - 15 + 1000);
    trip(short, PATCH, 2100, 2110);
    expect(next(short, PATCH, 2200)).toBe(2110 - 5 + 1000);
    const long = new RateBuckets({ limit: 1, windowMs: 1000, marginMs: 100 });
    trip(long, PATCH, 1000, 1300);
    expect(next(long, PATCH, 1400)).toBe(1300 - 40 + 1000);
  });

  it('credits no transit for answers without a round trip: sends that never left', () => {
    const b = new RateBuckets({ limit: 1, windowMs: 1000, marginMs: 100 });
    const send = b.grant(route(PATCH), CH, true, 0);
    b.done(send, 300);
    expect(next(b, PATCH, 400)).toBe(1300);
  });

  it('holds a route until Discord says its empty bucket resets', () => {
    const b = new RateBuckets(SMALL);
    trip(b, PATCH, 100, 100, h({ limit: 2, remaining: 0, resetAfterMs: 2000 }));
    expect(next(b, PATCH, 200)).toBe(2100);
    // A later, shorter reset does not shorten the hold.
    trip(b, PATCH, 150, 150, h({ limit: 2, remaining: 0, resetAfterMs: 500 }));
    expect(next(b, PATCH, 200)).toBe(2100);
  });

  it('holds an empty bucket until its reset on our clock, from Discord’s reset time', () => {
    const b = new RateBuckets({ limit: 5, windowMs: 5000, marginMs: 100 });
    const D = 10_000;
    trip(b, PATCH, 0, 100, h({ limit: 5, remaining: 4, resetAfterMs: 5000, resetAtMs: D + 50 + 5000 }));
    // Read 300 ms late: the bucket resets at 4050 on Discord's clock, which the quickest return (50 ms) and
    // rounding (2 ms) put at 4102 on ours, not at 1350 + 3000; less the transit credit.
    trip(b, PATCH, 1000, 1350, h({ limit: 5, remaining: 0, resetAfterMs: 3000, resetAtMs: D + 1050 + 3000 }));
    expect(next(b, PATCH, 1400)).toBe(4102 - 40);
  });

  it('holds no route that has room left, or whose reset is unknown', () => {
    const b = new RateBuckets();
    trip(b, PATCH, 0, 0, h({ limit: 5, remaining: 1, resetAfterMs: 2000 }));
    trip(b, POST, 0, 0, h({ limit: 5, remaining: 0 }));
    expect(next(b, DELETE, 10)).toBe(10);
  });

  it('holds every route of the channel that may share an empty bucket, and no other channel', () => {
    const b = new RateBuckets(SMALL);
    trip(b, POST, 0, 0, h({ limit: 5, remaining: 0, resetAfterMs: 3000 }));
    expect(next(b, PATCH, 10)).toBe(3000);
    expect(b.nextAllowed(route(POST2), CH2, false, true, 10)).toBe(10);
  });
});

describe('turns: even spacing of paced sends', () => {
  it('spaces paced sends a window over the limit apart; unpaced ones go on the window alone', () => {
    const b = new RateBuckets();
    trip(b, PATCH, 0, 0, h({ limit: 5, remaining: 4 }));
    expect(nextPaced(b, PATCH, 10)).toBe(1000);
    expect(next(b, PATCH, 10)).toBe(10);
  });

  it('takes the turns in the order they were given, whatever route took them', () => {
    const b = new RateBuckets();
    // The create's key was made first but its turn came last.
    trip(b, POST, 5000, 5000, h({ limit: 5, remaining: 4 }));
    trip(b, PATCH, 0, 0, h({ limit: 5, remaining: 4 }));
    trip(b, PATCH, 100, 100, h({ limit: 5, remaining: 3 }));
    // Turns at 0, 100 and 5000: the next is 1000 after the last of them, 6000.
    expect(nextPaced(b, PATCH, 5100)).toBe(6000);
  });

  it('pushes later turns back when turns were taken close together', () => {
    const b = new RateBuckets();
    trip(b, PATCH, 0, 0, h({ limit: 5, remaining: 4 }));
    trip(b, PATCH, 100, 100, h({ limit: 5, remaining: 3 }));
    trip(b, PATCH, 200, 200, h({ limit: 5, remaining: 2 }));
    expect(nextPaced(b, PATCH, 300)).toBe(3000);
  });

  it('takes no turn for a slot given back', () => {
    const b = new RateBuckets();
    trip(b, PATCH, 0, 0, h({ limit: 5, remaining: 4 }));
    const send = b.grant(route(PATCH), CH, true, 100, true);
    expect(nextPaced(b, PATCH, 200)).toBe(2000);
    b.cancel(send);
    expect(nextPaced(b, PATCH, 200)).toBe(1000);
  });

  it('spaces a send that named no route like any paced send', () => {
    const b = new RateBuckets();
    trip(b, POST, 0, 0, h({ limit: 5, remaining: 4 }));
    expect(b.nextAllowed(route(PATCH), CH, true, false, 10)).toBe(1000);
  });
});

describe('probes: one send on an unanswered route goes without waiting its turn', () => {
  /** A channel where a new message went at 0 and Discord answered it: the edit route is still unknown. */
  const afterNewMessage = () => {
    const b = new RateBuckets();
    trip(b, POST, 0, 50, h({ limit: 5, remaining: 4, resetAfterMs: 5000 }));
    return b;
  };

  it('lets the first paced edit after a new message go at once, as a probe', () => {
    const b = afterNewMessage();
    expect(nextPaced(b, PATCH, 100)).toBe(100);
    expect(b.grant(route(PATCH), CH, true, 100, true).probe).toBe(true);
  });

  it('marks no unpaced send as a probe: it waits for no turn anyway', () => {
    const b = afterNewMessage();
    expect(b.grant(route(PATCH), CH, true, 100).probe).toBeUndefined();
    expect(b.grant(route(PATCH), CH, true, 100, false).probe).toBeUndefined();
  });

  it('probes no more once Discord answered the route with its limit or its remaining', () => {
    for (const numbers of [{ limit: 5 }, { remaining: 3 }]) {
      const b = afterNewMessage();
      trip(b, PATCH, 100, 150, h(numbers), { paced: true });
      expect(nextPaced(b, PATCH, 200)).toBe(1000);
    }
  });

  it('keeps probing after an answer without rate-limit numbers', () => {
    const b = afterNewMessage();
    trip(b, PATCH, 100, 150, h({ bucket: 'x', resetAfterMs: 5000 }), { paced: true });
    expect(nextPaced(b, PATCH, 200)).toBe(200);
  });

  it('sends one probe at a time: the next waits its turn while one is in flight', () => {
    const b = afterNewMessage();
    const probe = leave(b, PATCH, 100, { paced: true });
    expect(probe.probe).toBe(true);
    expect(nextPaced(b, PATCH, 200)).toBe(1000);
    expect(b.grant(route(PATCH), CH, true, 200, true).probe).toBeUndefined();
  });

  it('probes again once the probe in flight is given back', () => {
    const b = afterNewMessage();
    b.cancel(leave(b, PATCH, 100, { paced: true }));
    expect(nextPaced(b, PATCH, 200)).toBe(200);
  });

  it('is not held back from probing by a send of the route that named no route', () => {
    const b = afterNewMessage();
    leave(b, PATCH, 100, { matched: false });
    expect(nextPaced(b, PATCH, 200)).toBe(200);
  });

  it('never probes for a send that named no route: its answer could not be told apart', () => {
    const b = afterNewMessage();
    expect(b.nextAllowed(route(PATCH), CH, true, false, 100)).toBe(1000);
    expect(b.grant(route(PATCH), CH, false, 100, true).probe).toBeUndefined();
  });

  it('has nothing to learn alone in its channel', () => {
    const b = new RateBuckets();
    trip(b, PATCH, 0, 50, h(), { paced: true });
    expect(nextPaced(b, PATCH, 100)).toBe(1000);
  });

  it('has nothing to learn beside routes that sent nothing', () => {
    const b = new RateBuckets();
    expect(next(b, POST, 0)).toBe(0);
    trip(b, PATCH, 0, 50, h(), { paced: true });
    expect(nextPaced(b, PATCH, 100)).toBe(1000);
  });

  it('has nothing to learn once another channel showed how the routes count', () => {
    const b = new RateBuckets();
    // In the other channel an edit left fewer remaining than its own sends took: the creates' budget is the edits'.
    trip(b, POST2, 0, 50, h({ limit: 5, remaining: 4, resetAfterMs: 5000 }), { lane: CH2 });
    trip(b, { method: 'PATCH', path: `/channels/${CH2}/messages/${MSG}` }, 100, 150, h({ limit: 5, remaining: 3, resetAfterMs: 5000 }), { lane: CH2 });
    expect(b.relation(route(POST), route(PATCH))).toBe('shared');
    trip(b, POST, 1000, 1050);
    expect(nextPaced(b, PATCH, 1100)).toBe(2000);
  });

  it('takes no one’s turn when it went on the window’s room beside a new message', () => {
    const b = afterNewMessage();
    leave(b, PATCH, 100, { paced: true });
    // The next edit waits for the new message's turn only, not for the probe's too.
    expect(nextPaced(b, PATCH, 200)).toBe(1000);
  });

  it('takes a turn like any send when no new message went within the window before it', () => {
    const late = afterNewMessage();
    expect(leave(late, PATCH, 5000, { paced: true }).probe).toBe(true);
    expect(nextPaced(late, PATCH, 5100)).toBe(6000);
    const within = afterNewMessage();
    leave(within, PATCH, 4999, { paced: true });
    expect(nextPaced(within, PATCH, 5100)).toBe(5100);
  });

  it('is excused by a new message granted in the same moment, not by one after it', () => {
    const same = afterNewMessage();
    leave(same, PATCH, 6000, { paced: true });
    trip(same, POST, 6000, 6050);
    // Turns at 0 and 6000 (the new message): the probe's is not counted.
    expect(nextPaced(same, PATCH, 6100)).toBe(7000);
    const after = afterNewMessage();
    leave(after, PATCH, 6000, { paced: true });
    trip(after, POST, 6001, 6050);
    expect(nextPaced(after, PATCH, 6100)).toBe(8000);
  });

  it('is not excused by a new message given back unused', () => {
    const b = afterNewMessage();
    b.cancel(b.grant(route(POST), CH, true, 5900));
    leave(b, PATCH, 6000, { paced: true });
    expect(nextPaced(b, PATCH, 6100)).toBe(7000);
  });

  it('is not excused by the earlier sends of its own route', () => {
    const b = afterNewMessage();
    // An answer without numbers leaves the route unknown: this edit and the next are both probes.
    expect(trip(b, PATCH, 6000, 6050, h(), { paced: true }).send.probe).toBe(true);
    expect(leave(b, PATCH, 6500, { paced: true }).probe).toBe(true);
    expect(nextPaced(b, PATCH, 6600)).toBe(8000);
  });
});

describe('shared until Discord’s answers prove the routes separate', () => {
  const numbers = (remaining: number, more: Partial<RateHeaders> = {}) => h({ limit: 5, remaining, resetAfterMs: 5000, ...more });

  it('takes two routes of a channel to share a budget until proven otherwise; a route always shares its own', () => {
    const b = new RateBuckets();
    expect(b.relation(route(POST), route(PATCH))).toBe('assumed');
    expect(b.shares(route(POST), route(PATCH))).toBe(true);
    expect(b.relation(route(PATCH), route(PATCH))).toBe('shared');
    expect(b.shares(route(PATCH), route(PATCH))).toBe(true);
  });

  it('proves two routes separate when both leave the same number remaining with no reset possible between them', () => {
    const b = new RateBuckets();
    trip(b, POST, 0, 50, numbers(4));
    trip(b, PATCH, 100, 150, numbers(4));
    expect(b.relation(route(POST), route(PATCH))).toBe('separate');
    expect(b.relation(route(PATCH), route(POST))).toBe('separate');
    expect(b.shares(route(PATCH), route(POST))).toBe(false);
    // The sends of a route counted apart no longer fill the other's window or push back its turns.
    expect(nextPaced(b, PATCH, 200)).toBe(1100);
    // A third route still shares both (sending unrouted, so it does not probe): turns at 0 and 100.
    expect(b.nextAllowed(route(DELETE), CH, true, false, 200)).toBe(2000);
  });

  it('applies what one channel proved to the same routes of every channel, not to routes of two channels', () => {
    const b = new RateBuckets();
    trip(b, POST, 0, 50, numbers(4));
    trip(b, PATCH, 100, 150, numbers(4));
    const patch2 = routeOf('PATCH', `/channels/${CH2}/messages/${MSG}`);
    expect(b.relation(route(POST2), patch2)).toBe('separate');
    expect(b.relation(route(POST), patch2)).toBe('assumed');
  });

  it('proves interaction tokens apart, and so every pair of tokens', () => {
    const b = new RateBuckets();
    trip(b, hook('tokA'), 0, 50, numbers(4));
    trip(b, hook('tokB'), 10, 60, numbers(4));
    expect(b.relation(route(hook('tokA')), route(hook('tokB')))).toBe('separate');
    expect(b.relation(route(hook('tokC')), route(hook('tokD')))).toBe('separate');
    expect(b.relation(route(hook('tokA')), route(POST))).toBe('assumed');
  });

  it('proves nothing when the other answer came after this one’s reset', () => {
    const b = new RateBuckets();
    // The edit's bucket reset 1000 after it left, when the create's answer came back.
    const patch = leave(b, PATCH, 0);
    const post = leave(b, POST, 0);
    b.observe('PATCH', PATCH.path, 200, numbers(4, { resetAfterMs: 1000 }), 100);
    b.observe('POST', POST.path, 200, numbers(4), 1000);
    expect([patch.answeredAt, post.answeredAt]).toEqual([100, 1000]);
    expect(b.relation(route(POST), route(PATCH))).toBe('assumed');
  });

  it('proves them apart when the other answer came just before this one’s reset', () => {
    const b = new RateBuckets();
    leave(b, PATCH, 0);
    leave(b, POST, 0);
    b.observe('PATCH', PATCH.path, 200, numbers(4, { resetAfterMs: 1001 }), 100);
    b.observe('POST', POST.path, 200, numbers(4), 1000);
    expect(b.relation(route(POST), route(PATCH))).toBe('separate');
  });

  it('proves nothing when this answer’s bucket may have reset before the other answer', () => {
    const b = new RateBuckets();
    leave(b, PATCH, 0);
    leave(b, POST, 0);
    b.observe('PATCH', PATCH.path, 200, numbers(4), 500);
    b.observe('POST', POST.path, 200, numbers(4, { resetAfterMs: 500 }), 1000);
    expect(b.relation(route(POST), route(PATCH))).toBe('assumed');
    const c = new RateBuckets();
    leave(c, PATCH, 0);
    leave(c, POST, 0);
    c.observe('PATCH', PATCH.path, 200, numbers(4), 500);
    c.observe('POST', POST.path, 200, numbers(4, { resetAfterMs: 501 }), 1000);
    expect(c.relation(route(POST), route(PATCH))).toBe('separate');
  });

  it('proves nothing from different limits, or without a Reset-After', () => {
    const limits = new RateBuckets();
    trip(limits, POST, 0, 50, numbers(4, { limit: 6 }));
    trip(limits, PATCH, 100, 150, numbers(4));
    expect(limits.relation(route(POST), route(PATCH))).toBe('assumed');
    const noReset = new RateBuckets();
    trip(noReset, POST, 0, 50, numbers(4, { resetAfterMs: 0 }));
    trip(noReset, PATCH, 100, 150, numbers(4));
    expect(noReset.relation(route(POST), route(PATCH))).toBe('assumed');
    const noResetHere = new RateBuckets();
    trip(noResetHere, POST, 0, 50, numbers(4));
    trip(noResetHere, PATCH, 100, 150, numbers(4, { resetAfterMs: 0 }));
    expect(noResetHere.relation(route(POST), route(PATCH))).toBe('assumed');
  });

  it('learns nothing from an answer without a limit or without a remaining', () => {
    for (const partial of [h({ remaining: 4, resetAfterMs: 5000 }), h({ limit: 5, resetAfterMs: 5000 })]) {
      const b = new RateBuckets();
      trip(b, POST, 0, 50, numbers(4, { bucket: 'a' }));
      trip(b, PATCH, 100, 150, { ...partial, bucket: 'b' });
      expect(b.relation(route(POST), route(PATCH))).toBe('assumed');
    }
  });

  it('proves nothing from answers that were not successes', () => {
    const failedFirst = new RateBuckets();
    trip(failedFirst, POST, 0, 50, numbers(4), { status: 300 });
    trip(failedFirst, PATCH, 100, 150, numbers(4));
    expect(failedFirst.relation(route(POST), route(PATCH))).toBe('assumed');
    const failedSecond = new RateBuckets();
    trip(failedSecond, POST, 0, 50, numbers(4));
    trip(failedSecond, PATCH, 100, 150, numbers(4), { status: 300 });
    expect(failedSecond.relation(route(POST), route(PATCH))).toBe('assumed');
    const success = new RateBuckets();
    trip(success, POST, 0, 50, numbers(4), { status: 299 });
    trip(success, PATCH, 100, 150, numbers(4), { status: 299 });
    expect(success.relation(route(POST), route(PATCH))).toBe('separate');
  });

  it('takes different bucket hashes as proof the routes are apart', () => {
    const b = new RateBuckets();
    trip(b, POST, 0, 50, numbers(4, { bucket: 'a' }));
    trip(b, PATCH, 100, 150, numbers(3, { bucket: 'b' }));
    expect(b.relation(route(POST), route(PATCH))).toBe('separate');
  });

  it('takes no proof from one hash alone, or the same hash twice', () => {
    for (const [first, second] of [
      ['a', 'a'],
      [undefined, 'b'],
      ['a', undefined],
    ] as const) {
      const b = new RateBuckets();
      trip(b, POST, 0, 50, numbers(4, first ? { bucket: first } : {}));
      trip(b, PATCH, 100, 150, numbers(3, second ? { bucket: second } : {}));
      expect(b.relation(route(POST), route(PATCH))).toBe('shared');
    }
  });

  it('keeps the hash Discord reported last when an answer has none', () => {
    const b = new RateBuckets();
    trip(b, POST, 0, 50, numbers(4, { bucket: 'a' }));
    trip(b, POST, 60, 70, numbers(3));
    trip(b, PATCH, 100, 150, numbers(1, { bucket: 'b' }));
    expect(b.relation(route(POST), route(PATCH))).toBe('separate');
  });

  it('lets no hash undo what a 429 taught', () => {
    const b = new RateBuckets();
    trip(b, POST, 0, 50, numbers(4, { bucket: 'a' }));
    trip(b, PATCH, 100, 150, numbers(3, { bucket: 'a' }));
    expect(b.relation(route(POST), route(PATCH))).toBe('shared');
    trip(b, POST, 200, 250, numbers(2, { bucket: 'c' }));
    expect(b.relation(route(POST), route(PATCH))).toBe('shared');
  });

  it('finds the route that shares its budget: fewer remaining than its own sends took, and only one other route sent lately', () => {
    const b = new RateBuckets();
    trip(b, POST, 0, 50, numbers(4));
    trip(b, PATCH, 100, 150, numbers(3));
    expect(b.relation(route(POST), route(PATCH))).toBe('shared');
  });

  it('finds no sharing when its own sends explain what was taken', () => {
    const b = new RateBuckets();
    trip(b, POST, 0, 50, numbers(4));
    trip(b, PATCH, 100, 150, numbers(4, { resetAfterMs: 0 }));
    trip(b, PATCH, 160, 200, numbers(3));
    expect(b.relation(route(POST), route(PATCH))).toBe('assumed');
    trip(b, PATCH, 210, 250, numbers(1));
    expect(b.relation(route(POST), route(PATCH))).toBe('shared');
  });

  it('does not count its own slots given back as sends that took from the budget', () => {
    const b = new RateBuckets();
    trip(b, POST, 0, 50, numbers(4));
    b.cancel(b.grant(route(PATCH), CH, true, 60));
    trip(b, PATCH, 100, 150, numbers(3));
    expect(b.relation(route(POST), route(PATCH))).toBe('shared');
  });

  it('blames no route when two others sent lately', () => {
    const b = new RateBuckets();
    trip(b, POST, 0, 50, numbers(4));
    trip(b, DELETE, 10, 60, numbers(4, { resetAfterMs: 0 }));
    trip(b, PATCH, 100, 150, numbers(2));
    expect(b.relation(route(POST), route(PATCH))).toBe('assumed');
    expect(b.relation(route(DELETE), route(PATCH))).toBe('assumed');
  });

  it('blames only routes that sent within a window and a second before the answer', () => {
    const old = new RateBuckets();
    trip(old, POST, 0, 50, numbers(4, { resetAfterMs: 0 }));
    trip(old, PATCH, 6000, 6000, numbers(3));
    expect(old.relation(route(POST), route(PATCH))).toBe('assumed');
    const recent = new RateBuckets();
    trip(recent, POST, 1, 50, numbers(4, { resetAfterMs: 0 }));
    trip(recent, PATCH, 6000, 6000, numbers(3));
    expect(recent.relation(route(POST), route(PATCH))).toBe('shared');
  });

  it('blames a route granted in the moment the answer was read, but not one given back', () => {
    const b = new RateBuckets();
    const patch = leave(b, PATCH, 0);
    b.grant(route(POST), CH, true, 100);
    b.observe('PATCH', PATCH.path, 200, numbers(3), 100);
    expect(patch.answeredAt).toBe(100);
    expect(b.relation(route(POST), route(PATCH))).toBe('shared');
    const c = new RateBuckets();
    leave(c, PATCH, 0);
    c.cancel(c.grant(route(POST), CH, true, 50));
    c.observe('PATCH', PATCH.path, 200, numbers(3), 100);
    expect(c.relation(route(POST), route(PATCH))).toBe('assumed');
  });

  it('keeps a separation it proved when a later answer looks shared', () => {
    const b = new RateBuckets();
    trip(b, POST, 0, 50, numbers(4));
    trip(b, PATCH, 100, 150, numbers(4));
    trip(b, PATCH, 200, 250, numbers(1));
    expect(b.relation(route(POST), route(PATCH))).toBe('separate');
  });
});

describe('a 429', () => {
  it('holds the route for its Retry-After and reports what it did not foresee', () => {
    const b = new RateBuckets();
    leave(b, PATCH, 0);
    const observed = b.observe('PATCH', PATCH.path, 429, h({ retryAfterMs: 3000, resetAfterMs: 2000 }), 100);
    expect(observed).toEqual({ lanes: new Set([CH]), limited: { template: 'PATCH /channels/:id/messages/:id', retryAfterMs: 3000, scope: 'user' } });
    expect(next(b, PATCH, 200)).toBe(3100);
    expect(next(b, POST, 200)).toBe(3100);
  });

  it('holds for the Reset-After when there is no Retry-After, and not at all without either', () => {
    const b = new RateBuckets();
    leave(b, PATCH, 0);
    expect(b.observe('PATCH', PATCH.path, 429, h({ resetAfterMs: 2000 }), 100).limited?.retryAfterMs).toBe(2000);
    expect(next(b, PATCH, 200)).toBe(2100);
    const c = new RateBuckets();
    leave(c, PATCH, 0);
    expect(c.observe('PATCH', PATCH.path, 429, h(), 100).limited?.retryAfterMs).toBe(0);
    expect(next(c, PATCH, 200)).toBe(200);
  });

  it('keeps the longer hold when a shorter 429 follows', () => {
    const b = new RateBuckets();
    leave(b, PATCH, 0);
    b.observe('PATCH', PATCH.path, 429, h({ retryAfterMs: 3000 }), 100);
    b.observe('PATCH', PATCH.path, 429, h({ retryAfterMs: 500 }), 200);
    expect(next(b, PATCH, 300)).toBe(3100);
  });

  it('reports the scope Discord gave', () => {
    const b = new RateBuckets();
    leave(b, PATCH, 0);
    expect(b.observe('PATCH', PATCH.path, 429, h({ retryAfterMs: 1000, scope: 'shared' }), 100).limited).toEqual({
      template: 'PATCH /channels/:id/messages/:id',
      retryAfterMs: 1000,
      scope: 'shared',
    });
  });

  it('takes the limit a 429 reports', () => {
    const b = new RateBuckets();
    leave(b, PATCH, 0);
    b.observe('PATCH', PATCH.path, 429, h({ limit: 3, retryAfterMs: 1000 }), 100);
    expect(b.limitOf(route(PATCH))).toBe(3);
  });

  it('reports nothing unforeseen for a route it never paced', () => {
    const b = new RateBuckets();
    expect(b.observe('PATCH', PATCH.path, 429, h({ retryAfterMs: 1000 }), 100)).toEqual({ lanes: new Set() });
  });

  describe('that the model did not foresee', () => {
    const numbers = (remaining: number) => h({ limit: 5, remaining, resetAfterMs: 5000 });
    /** POST, PATCH and DELETE proved apart in CH (the same remaining on each). */
    const separated = () => {
      const b = new RateBuckets();
      trip(b, POST, 0, 50, numbers(4));
      trip(b, PATCH, 100, 150, numbers(4));
      trip(b, DELETE, 200, 250, numbers(4));
      expect(b.relation(route(POST), route(PATCH))).toBe('separate');
      expect(b.relation(route(DELETE), route(PATCH))).toBe('separate');
      expect(b.relation(route(POST), route(DELETE))).toBe('separate');
      return b;
    };

    it('shares every route it counted apart from this one again', () => {
      const b = separated();
      leave(b, PATCH, 300);
      b.observe('PATCH', PATCH.path, 429, h({ scope: 'user', limit: 5, remaining: 0, resetAfterMs: 5000, retryAfterMs: 1000 }), 350);
      expect(b.relation(route(POST), route(PATCH))).toBe('shared');
      expect(b.relation(route(DELETE), route(PATCH))).toBe('shared');
      expect(b.relation(route(POST), route(DELETE))).toBe('separate');
    });

    it('shares them again when Discord names no scope, or a route never told its limit', () => {
      const b = separated();
      leave(b, PATCH, 300);
      b.observe('PATCH', PATCH.path, 429, h({ retryAfterMs: 1000 }), 350);
      expect(b.relation(route(POST), route(PATCH))).toBe('shared');
      // Proved apart in another channel, then a 429 on this channel's first edit.
      const c = new RateBuckets();
      trip(c, POST2, 0, 50, numbers(4), { lane: CH2 });
      trip(c, { method: 'PATCH', path: `/channels/${CH2}/messages/${MSG}` }, 100, 150, numbers(4), { lane: CH2 });
      trip(c, POST, 200, 250);
      leave(c, PATCH, 300);
      c.observe('PATCH', PATCH.path, 429, h({ limit: 4, retryAfterMs: 1000 }), 350);
      expect(c.relation(route(POST), route(PATCH))).toBe('shared');
    });

    it('is explained by a limit that shrank, and shares nothing again', () => {
      const b = separated();
      leave(b, PATCH, 300);
      b.observe('PATCH', PATCH.path, 429, h({ limit: 4, remaining: 0, retryAfterMs: 1000 }), 350);
      expect(b.relation(route(POST), route(PATCH))).toBe('separate');
      expect(b.limitOf(route(PATCH))).toBe(4);
      const same = separated();
      leave(same, PATCH, 300);
      same.observe('PATCH', PATCH.path, 429, h({ limit: 5, remaining: 0, retryAfterMs: 1000 }), 350);
      expect(same.relation(route(POST), route(PATCH))).toBe('shared');
    });

    it('is explained by a window longer than the one counted', () => {
      const b = separated();
      leave(b, PATCH, 300);
      b.observe('PATCH', PATCH.path, 429, h({ resetAfterMs: 5001, retryAfterMs: 1000 }), 350);
      expect(b.relation(route(POST), route(PATCH))).toBe('separate');
      const same = separated();
      leave(same, PATCH, 300);
      same.observe('PATCH', PATCH.path, 429, h({ resetAfterMs: 5000, retryAfterMs: 1000 }), 350);
      expect(same.relation(route(POST), route(PATCH))).toBe('shared');
    });

    it('is explained by a resource shared with other apps', () => {
      const b = separated();
      leave(b, PATCH, 300);
      b.observe('PATCH', PATCH.path, 429, h({ scope: 'shared', retryAfterMs: 1000 }), 350);
      expect(b.relation(route(POST), route(PATCH))).toBe('separate');
    });
  });
});

describe('a global 429', () => {
  it('holds the whole bot for its Retry-After and asks every channel to plan again', () => {
    const b = new RateBuckets();
    leave(b, PATCH, 0);
    leave(b, POST2, 0, { lane: CH2 });
    const observed = b.observe('PATCH', PATCH.path, 429, h({ global: true, scope: 'global', retryAfterMs: 2000 }), 100);
    expect(observed).toEqual({ lanes: new Set([CH, CH2]), globalLimited: { retryAfterMs: 2000 } });
    expect(b.globalNextAllowed(200)).toBe(2100);
    expect(b.globalNextAllowed(2100)).toBe(2100);
    // The route itself is not held: the bot is.
    expect(next(b, PATCH, 200)).toBe(200);
  });

  it('is global when Discord says so by the flag or by the scope alone', () => {
    const flag = new RateBuckets();
    expect(flag.observe('PATCH', PATCH.path, 429, h({ global: true, retryAfterMs: 500 }), 0).globalLimited).toEqual({ retryAfterMs: 500 });
    const scope = new RateBuckets();
    expect(scope.observe('PATCH', PATCH.path, 429, h({ scope: 'global', retryAfterMs: 500 }), 0).globalLimited).toEqual({ retryAfterMs: 500 });
    expect(scope.globalNextAllowed(0)).toBe(500);
  });

  it('is no limit at all on a success that carries the global flag', () => {
    const b = new RateBuckets();
    const observed = b.observe('PATCH', PATCH.path, 200, h({ global: true, scope: 'global', retryAfterMs: 500 }), 0);
    expect(observed.globalLimited).toBeUndefined();
    expect(b.globalLimit).toBe(50);
    expect(b.globalNextAllowed(0)).toBe(0);
  });

  it('holds the bot a second when Discord gives no Retry-After, and never shortens a hold', () => {
    const b = new RateBuckets();
    b.observe('PATCH', PATCH.path, 429, h({ global: true }), 100);
    expect(b.globalNextAllowed(200)).toBe(1100);
    b.observe('PATCH', PATCH.path, 429, h({ global: true, retryAfterMs: 100 }), 200);
    expect(b.globalNextAllowed(300)).toBe(1100);
  });

  it('shrinks the bot’s budget by a tenth each time, to half of it at most', () => {
    const b = new RateBuckets();
    const limits: number[] = [];
    for (let i = 0; i < 8; i += 1) {
      b.observe('PATCH', PATCH.path, 429, h({ global: true, retryAfterMs: 10 }), i);
      limits.push(b.globalLimit);
    }
    expect(limits).toEqual([45, 40, 36, 32, 29, 26, 25, 25]);
  });

  it('shrinks a small budget by one request at least', () => {
    const b = new RateBuckets(SMALL, SMALL_GLOBAL);
    const limits: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      b.observe('PATCH', PATCH.path, 429, h({ global: true, retryAfterMs: 10 }), i);
      limits.push(b.globalLimit);
    }
    expect(limits).toEqual([4, 3, 3]);
  });

  it('grows the budget back one request for each minute without another, up to the limit', () => {
    const b = new RateBuckets(SMALL, SMALL_GLOBAL);
    b.observe('PATCH', PATCH.path, 429, h({ global: true, retryAfterMs: 10 }), 1000);
    b.observe('PATCH', PATCH.path, 429, h({ global: true, retryAfterMs: 10 }), 1000);
    expect(b.globalLimit).toBe(3);
    b.globalNextAllowed(60_999);
    expect(b.globalLimit).toBe(3);
    b.globalNextAllowed(61_000);
    expect(b.globalLimit).toBe(4);
    b.globalNextAllowed(120_999);
    expect(b.globalLimit).toBe(4);
    b.globalNextAllowed(121_000);
    expect(b.globalLimit).toBe(5);
    b.globalNextAllowed(500_000);
    expect(b.globalLimit).toBe(5);
  });
});

describe('the bot-wide budget', () => {
  it('lets one request fewer than the bot’s limit into a second', () => {
    const b = new RateBuckets(SMALL, SMALL_GLOBAL);
    for (const at of [0, 10, 20]) b.dispatchGlobal(at);
    expect(b.globalNextAllowed(30)).toBe(30);
    b.dispatchGlobal(30);
    // A typing request counts from when it left plus the margin (40 ms): the oldest leaves the second at 1040.
    expect(b.globalNextAllowed(40)).toBe(1040);
    expect(b.globalNextAllowed(1039)).toBe(1040);
    expect(b.globalNextAllowed(1040)).toBe(1040);
  });

  it('lets 49 requests a second through by default', () => {
    const b = new RateBuckets();
    for (let i = 0; i < 48; i += 1) b.dispatchGlobal(i);
    expect(b.globalNextAllowed(48)).toBe(48);
    b.dispatchGlobal(48);
    expect(b.globalNextAllowed(49)).toBe(1040);
  });

  it('counts an answered request from when it was counted, less the transit credit', () => {
    const b = new RateBuckets(SMALL, SMALL_GLOBAL);
    trip(b, PATCH, 0, 50);
    trip(b, POST, 0, 60);
    trip(b, DELETE, 0, 70);
    b.dispatchGlobal(80);
    // Round trips of 50 ms at least: 25 ms of transit credit.
    expect(b.globalNextAllowed(100)).toBe(50 - 25 + 1000);
  });

  it('counts a routed request in flight until Discord answers it', () => {
    const b = new RateBuckets(SMALL, SMALL_GLOBAL);
    for (const at of [0, 500, 600, 700]) leave(b, PATCH, at);
    // Four in flight and no answer: the first expires 15 s after it left.
    expect(b.globalNextAllowed(800)).toBe(IN_FLIGHT_MAX_MS);
    b.observe('PATCH', PATCH.path, 200, h(), 900);
    // Its answer dates it: counted by 900, less 40 ms of transit credit (the most credited), it leaves the second at 1860.
    expect(b.globalNextAllowed(950)).toBe(1860);
  });

  it('counts a request in flight for 15 s at most, then forgets it', () => {
    const b = new RateBuckets(SMALL, SMALL_GLOBAL);
    leave(b, PATCH, 0);
    for (const at of [14_100, 14_200, 14_300, 14_400]) b.dispatchGlobal(at);
    expect(b.globalNextAllowed(14_999)).toBe(14_140 + 1000 + 100);
    // At 15 s the routed one is forgotten: only the typing requests count.
    expect(b.globalNextAllowed(IN_FLIGHT_MAX_MS)).toBe(14_140 + 1000);
  });

  it('waits for the oldest of several requests in flight', () => {
    const b = new RateBuckets(SMALL, SMALL_GLOBAL);
    leave(b, PATCH, 0);
    leave(b, POST, 100);
    leave(b, PATCH, 200);
    leave(b, DELETE, 300);
    leave(b, POST, 400);
    // Five in flight and none answered: the earliest one is surely gone is when the oldest times out.
    expect(b.globalNextAllowed(500)).toBe(IN_FLIGHT_MAX_MS);
  });

  it('waits for the logged requests before the ones in flight', () => {
    const b = new RateBuckets(SMALL, SMALL_GLOBAL);
    leave(b, PATCH, 0);
    leave(b, PATCH, 10);
    b.dispatchGlobal(200);
    b.dispatchGlobal(100);
    b.dispatchGlobal(300);
    // Two in flight, three logged (140, 240, 340), room for three: the second logged to expire frees it.
    expect(b.globalNextAllowed(400)).toBe(1240);
  });

  it('keeps room for requests it does not pace, as many as answered within the second', () => {
    const b = new RateBuckets(SMALL, SMALL_GLOBAL);
    // An earlier routed request sets the transit credit to 20 ms.
    trip(b, PATCH, -5000, -4960);
    // An answer to a request no one paced (an interaction callback) at 0: it counts from -20 and reserves room until 1000.
    b.observe('POST', `/interactions/${APP}/tok/callback`, 204, h(), 0);
    for (const at of [100, 200]) b.dispatchGlobal(at);
    expect(b.globalNextAllowed(500)).toBe(980);
    b.dispatchGlobal(300);
    // At 990 the answer has left the window but its room is still kept: three typing requests fill the rest.
    expect(b.globalNextAllowed(990)).toBe(1140);
    expect(b.globalNextAllowed(999)).toBe(1140);
    expect(b.globalNextAllowed(1000)).toBe(1000);
  });

  it('waits for the last of them when requests it does not pace take the whole budget', () => {
    const b = new RateBuckets(SMALL, SMALL_GLOBAL);
    for (const at of [0, 1, 2, 3]) b.observe('POST', `/interactions/${APP}/tok/callback`, 204, h(), at);
    expect(b.globalNextAllowed(10)).toBe(1003);
  });

  it('counts an answer to a request no one paced from when Discord counted it', () => {
    const b = new RateBuckets(SMALL, { limit: 2, windowMs: 1000, marginMs: 40 });
    const D = 10_000;
    trip(b, PATCH, 0, 100, h({ resetAfterMs: 1000, resetAtMs: D + 50 + 1000 }));
    // Room for one less than the limit less the room kept: with this answer, none.
    b.observe('POST', `/interactions/${APP}/tok/callback`, 204, h({ resetAfterMs: 1000, resetAtMs: D + 500 + 1000 }), 900);
    // Counted at 500 on Discord's side: 552 on ours, less 40 ms of transit credit.
    expect(b.globalNextAllowed(950)).toBe(512 + 1000);
  });
});

describe('idle channels', () => {
  it('is idle in a channel it never heard of', () => {
    expect(new RateBuckets().laneIdle(CH, 0)).toBe(true);
  });

  it('is busy while a send counts in its window, reckoned without transit credit', () => {
    const b = new RateBuckets();
    trip(b, PATCH, 0, 100);
    expect(b.laneIdle(CH, 5080)).toBe(false);
    expect(b.laneIdle(CH, 5100)).toBe(false);
    expect(b.laneIdle(CH, 5101)).toBe(true);
    expect(b.laneIdle(CH2, 200)).toBe(true);
  });

  it('is busy while Discord holds one of its routes', () => {
    const b = new RateBuckets();
    const { send } = trip(b, PATCH, 0, 0, h({ retryAfterMs: 10_000 }), { status: 429 });
    expect(send.answeredAt).toBe(0);
    expect(b.laneIdle(CH, 9_999)).toBe(false);
    expect(b.laneIdle(CH, 10_000)).toBe(true);
  });

  it('is idle when its only send was given back', () => {
    const b = new RateBuckets();
    b.cancel(b.grant(route(PATCH), CH, true, 0));
    expect(b.laneIdle(CH, 10)).toBe(true);
  });
});

describe('sweeping', () => {
  /** CH's creates learned a limit of 3 at 0; CH2's then taught the template 7. */
  const learned = () => {
    const b = new RateBuckets();
    trip(b, POST, 0, 0, h({ limit: 3 }));
    trip(b, POST2, 0, 0, h({ limit: 7 }), { lane: CH2 });
    return b;
  };

  it('forgets a route no window can count any more (three windows and 15 s), keeping its template’s limit', () => {
    const b = learned();
    b.sweep(29_999);
    expect(b.limitOf(route(POST))).toBe(3);
    b.sweep(30_000);
    expect(b.limitOf(route(POST))).toBe(7);
  });

  it('reckons with the route’s learned window', () => {
    const b = learned();
    trip(b, POST, 1, 1, h({ limit: 3, resetAfterMs: 8000 }));
    trip(b, POST2, 1, 1, h({ limit: 7 }), { lane: CH2 });
    b.sweep(39_000);
    expect(b.limitOf(route(POST))).toBe(3);
    b.sweep(39_001);
    expect(b.limitOf(route(POST))).toBe(7);
  });

  it('keeps a route with a send granted that has not left', () => {
    const b = learned();
    b.grant(route(POST), CH, true, 1);
    b.sweep(100_000);
    expect(b.limitOf(route(POST))).toBe(3);
  });

  it('forgets old sends that left, answered or not', () => {
    const inFlight = learned();
    leave(inFlight, POST, 1);
    inFlight.sweep(100_000);
    expect(inFlight.limitOf(route(POST))).toBe(7);
    const finished = learned();
    finished.done(finished.grant(route(POST), CH, true, 1), 1);
    finished.sweep(100_000);
    expect(finished.limitOf(route(POST))).toBe(7);
  });

  it('forgets slots given back at once', () => {
    const b = learned();
    b.cancel(b.grant(route(POST), CH, true, 29_000));
    b.sweep(30_000);
    expect(b.limitOf(route(POST))).toBe(7);
  });

  it('remembers a route Discord holds until the hold ends', () => {
    const b = new RateBuckets();
    trip(b, POST, 0, 0, h({ limit: 3, retryAfterMs: 60_000 }), { status: 429 });
    trip(b, POST2, 0, 0, h({ limit: 7 }), { lane: CH2 });
    b.sweep(59_999);
    expect(next(b, POST, 59_999)).toBe(60_000);
    expect(b.limitOf(route(POST))).toBe(3);
    b.sweep(60_000);
    expect(b.limitOf(route(POST))).toBe(7);
  });

  it('keeps a send that named no route claimable until it is 15 s old', () => {
    const b = new RateBuckets();
    const old = leave(b, PATCH, 20_000, { matched: false });
    const young = leave(b, PATCH, 21_000, { matched: false });
    b.sweep(35_000);
    b.observe('GET', '/gateway/bot', 200, h(), 35_000);
    expect(old.answeredAt).toBeUndefined();
    expect(young.answeredAt).toBe(35_000);
  });

  it('forgets a channel with no routes left, and only then', () => {
    const b = new RateBuckets();
    trip(b, POST, 0, 0);
    trip(b, PATCH, 20_000, 20_000);
    trip(b, POST2, 0, 0, h(), { lane: CH2 });
    b.sweep(30_000);
    expect(b.observe('GET', '/gateway/bot', 429, h({ global: true, retryAfterMs: 10 }), 30_000).lanes).toEqual(new Set([CH]));
    b.sweep(50_000);
    expect(b.observe('GET', '/gateway/bot', 429, h({ global: true, retryAfterMs: 10 }), 50_000).lanes).toEqual(new Set());
  });
});

describe('proof of separation counts from when a request left, not when its slot was given', () => {
  const numbers = (remaining: number, resetAfterMs = 5000) => h({ limit: 5, remaining, resetAfterMs });

  it('reckons this send’s reset from when it left the bot-wide queue', () => {
    const b = new RateBuckets();
    const post = leave(b, POST, 0);
    // The edit's slot was given at 0, but it waited for the bot's budget until 900.
    const patch = b.grant(route(PATCH), CH, true, 0);
    b.dispatch(patch, 900);
    b.observe('PATCH', PATCH.path, 200, numbers(4, 1000), 950);
    b.observe('POST', POST.path, 200, numbers(4), 1000);
    // The create's answer (1000) came before the edit's bucket could reset (900 + 1000).
    expect(post.answeredAt).toBe(1000);
    expect(b.relation(route(POST), route(PATCH))).toBe('separate');
  });

  it('reckons the other send’s reset from when it left the bot-wide queue', () => {
    const b = new RateBuckets();
    const patch = b.grant(route(PATCH), CH, true, 0);
    b.dispatch(patch, 900);
    b.observe('PATCH', PATCH.path, 200, numbers(4, 1000), 950);
    trip(b, POST, 1000, 1850, numbers(4));
    // This answer (1850) came before the edit's bucket could reset (900 + 1000).
    expect(b.relation(route(POST), route(PATCH))).toBe('separate');
  });

  it('reckons from when the answer was read, not when the request left', () => {
    const b = new RateBuckets();
    trip(b, PATCH, 0, 50, numbers(4, 1000));
    // Left at 500, before the edit's bucket could reset, but answered at 1000, when it may have.
    trip(b, POST, 500, 1000, numbers(4));
    expect(b.relation(route(POST), route(PATCH))).toBe('assumed');
  });
});
