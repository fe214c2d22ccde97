/**
 * Discord's rate limits as Discord reports them, learned from the headers of every REST
 * response instead of assumed. Discord documents that limits are discovered, not promised
 * (`X-RateLimit-Limit`, `-Remaining`, `-Reset-After`, `-Bucket`, `-Scope`, `X-RateLimit-Global`),
 * and developers measured that routes reporting one bucket hash may still be exhausted
 * independently (creating and editing messages in a channel). So a send is counted against
 * its own route key (route template plus major parameter: the channel, or the interaction
 * webhook's token), and two route keys of one channel are taken to share a budget until
 * Discord's answers prove they cannot.
 *
 * Pure: no discord.js import, no timers; the caller passes the time.
 */

import { routeOf, type RateHeaders, type Route } from './rateHeaders.js';

/** A budget of `limit` sends per `windowMs`. */
export interface BucketRule {
  limit: number;
  windowMs: number;
  /**
   * Added to a send's time when Discord's answer to it cannot be seen (a caller that names no
   * route): our clock starts when we send, Discord's when the request lands.
   */
  marginMs: number;
}

/**
 * Today's conservative rule, used for a route until Discord has answered it: every create and
 * edit in a channel (interaction webhooks included) shares 5 per 5 s.
 */
export const DISCORD_CHANNEL_RULE: BucketRule = { limit: 5, windowMs: 5000, marginMs: 250 };
/** Discord allows 50 requests a second for the whole bot. */
export const DISCORD_GLOBAL_RULE: BucketRule = { limit: 50, windowMs: 1000, marginMs: 40 };

/**
 * A send Discord has not answered after this long is assumed to have never gone out (a caller
 * that took a slot and did not use it); discord.js gives up on a request after 15 s.
 */
export const IN_FLIGHT_MAX_MS = 15_000;
/**
 * A global 429 shrinks the bot-wide budget by a tenth; it grows back one request a minute
 * without another, up to the configured limit.
 */
const GLOBAL_RECOVERY_MS = 60_000;
/**
 * At most this much is taken off a window for the time a request spends on the way to Discord
 * (half the fastest round trip seen), however slow the connection.
 */
const MAX_TRANSIT_CREDIT_MS = 40;
/** Rounding of Discord's times (milliseconds in the headers) and of ours. */
const CLOCK_EPSILON_MS = 2;

/** One send the model knows of. */
export interface Send {
  readonly route: Route;
  readonly lane: string;
  /** False when the caller named no route: the key is a guess and Discord's answer cannot be matched to it. */
  readonly matched: boolean;
  readonly grantedAt: number;
  /** When the request left (passed the bot-wide budget too). */
  dispatchedAt?: number;
  /** When Discord's answer came back: the request reached Discord at or before this. */
  answeredAt?: number;
  /** When Discord counted it, on Discord's clock (`X-RateLimit-Reset` less `-Reset-After`). */
  countedAt?: number;
  answer?: { status: number; limit?: number; remaining?: number; resetAfterMs?: number };
  cancelled?: boolean;
  /** Sent ahead of its turn to learn the route's budget: no one's turn, so it adds no spacing. */
  probe?: boolean;
}

interface KeyState {
  route: Route;
  lane: string;
  limit?: number;
  hash?: string;
  /** Discord said the bucket is empty (or sent a 429) until this time. */
  heldUntil: number;
  sends: Send[];
  /** True once Discord has answered a send of this key with rate-limit headers. */
  observed: boolean;
}

/** A request counted against the bot-wide limit: a paced send, or an answer to one no one paced. */
interface GlobalEntry {
  send?: Send;
  at: number;
  countedAt?: number;
}

interface TemplateState {
  limit?: number;
  /** The longest `Reset-After` seen on a success: the window is at least this long. */
  windowMs: number;
}

/**
 * `separate`: Discord's answers proved two route templates (with the same or different major
 * parameters) are counted apart. `shared`: its answers (or a 429) showed one draws on the
 * other's budget, whatever the bucket hashes say. No entry: assumed shared within a channel,
 * today's rule.
 */
type Relation = 'separate' | 'shared';

export interface Observed {
  /** Lanes whose sends may now go sooner or later: plan them again. */
  lanes: Set<string>;
  /** A bucket-level 429 (not global): something the bot did not foresee. */
  limited?: { template: string; retryAfterMs: number; scope: string };
  globalLimited?: { retryAfterMs: number };
}

export class RateBuckets {
  readonly #rule: BucketRule;
  readonly #globalRule: BucketRule;
  readonly #keys = new Map<string, KeyState>();
  /** The keys of each lane (channel), by their state. */
  readonly #lanes = new Map<string, Set<KeyState>>();
  readonly #templates = new Map<string, TemplateState>();
  readonly #relations = new Map<string, Relation>();
  /** Sends that left and are waiting for Discord's answer, per route key, oldest first. */
  readonly #inFlight = new Map<string, Send[]>();
  /** Sends that left without a route: an answer no one else claims is taken to be theirs. */
  readonly #unmatched: Send[] = [];
  /** Every request counted against the bot-wide limit: paced sends, and requests no one paced. */
  readonly #globalLog: GlobalEntry[] = [];
  /** Answers to requests the pacer never saw (interaction callbacks, fetches). */
  readonly #unpaced: number[] = [];
  /**
   * The shortest time seen from Discord counting a request (its clock) to our reading the
   * answer (ours): every such time is at least the offset between the clocks, so the shortest
   * converts Discord's times to ours without ever running early. And the fastest round trip.
   */
  #minReturn: number | undefined;
  #minRtt: number | undefined;
  #globalLimit: number;
  #globalHeldUntil = 0;
  #globalShrunkAt = 0;

  constructor(rule: BucketRule = DISCORD_CHANNEL_RULE, globalRule: BucketRule = DISCORD_GLOBAL_RULE) {
    this.#rule = rule;
    this.#globalRule = globalRule;
    this.#globalLimit = globalRule.limit;
  }

  /** The default route of a lane, for callers that name none: an edit in that channel. */
  laneRoute(lane: string): Route {
    const template = 'PATCH /channels/:id/messages/:id';
    return { template, major: lane, key: `${template} ${lane}` };
  }

  /** The bot-wide limit in force (a global 429 shrinks it). */
  get globalLimit(): number {
    return this.#globalLimit;
  }

  limitOf(route: Route): number {
    return this.#keys.get(route.key)?.limit ?? this.#templates.get(route.template)?.limit ?? this.#rule.limit;
  }

  windowOf(route: Route): number {
    return Math.max(this.#rule.windowMs, this.#templates.get(route.template)?.windowMs ?? 0);
  }

  /** Even spacing of a key's sends: one window over its limit (about a second for 5 per 5 s). */
  spacingOf(route: Route): number {
    return this.windowOf(route) / Math.max(1, this.limitOf(route));
  }

  /** True unless Discord's answers proved the two routes are counted apart. */
  shares(a: Route, b: Route): boolean {
    return this.relation(a, b) !== 'separate';
  }

  relation(a: Route, b: Route): 'separate' | 'shared' | 'assumed' {
    if (a.key === b.key) return 'shared';
    return this.#relations.get(pairKey(a, b)) ?? 'assumed';
  }

  // ——— sends ———

  /** A slot was given to a send of `route` in `lane` (a channel); `paced` as asked, so a probe can be told apart. */
  grant(route: Route, lane: string, matched: boolean, at: number, paced = false): Send {
    const state = this.#state(route, lane);
    const send: Send = { route, lane, matched, grantedAt: at, ...(paced && this.#probing(state, matched) ? { probe: true } : {}) };
    state.sends.push(send);
    return send;
  }

  /** The send leaves now (the bot-wide budget let it through). */
  dispatch(send: Send, at: number): void {
    send.dispatchedAt = at;
    this.#globalLog.push({ send, at });
    if (send.matched) {
      const list = this.#inFlight.get(send.route.key) ?? [];
      list.push(send);
      this.#inFlight.set(send.route.key, list);
    } else {
      this.#unmatched.push(send);
    }
  }

  /** A request that draws on the bot-wide budget only (typing). */
  dispatchGlobal(at: number): void {
    const send: Send = { route: { template: 'global', major: 'global', key: 'global' }, lane: '', matched: false, grantedAt: at };
    this.dispatch(send, at);
  }

  /** The caller is done with the send: if Discord's answer was not seen (it failed before leaving), it is over now. */
  done(send: Send, at: number): void {
    if (send.answeredAt !== undefined) return;
    send.answeredAt = at;
    this.#dropInFlight(send);
  }

  /** The slot was not used: nothing was sent. */
  cancel(send: Send): void {
    if (send.dispatchedAt !== undefined && send.answeredAt !== undefined) return;
    send.cancelled = true;
    this.#dropInFlight(send);
    const i = this.#globalLog.findIndex((e) => e.send === send);
    if (i >= 0) this.#globalLog.splice(i, 1);
  }

  // ——— when a send may go ———

  /**
   * The earliest time a send of `route` fits its budget: the window (every key that may share
   * its counter included), Discord's own "empty until", and, for a paced send, the even
   * spacing that lets the answers sharing a budget take turns. `now` if it fits now.
   */
  nextAllowed(route: Route, lane: string, paced: boolean, matched: boolean, now: number): number {
    const state = this.#state(route, lane);
    const limit = this.limitOf(route);
    const windowMs = this.windowOf(route);
    const credit = this.#transitCredit();
    const shared = this.#sharedStates(state);
    let at = now;
    const bounds: number[] = [];
    const grants: number[] = [];
    for (const other of shared) {
      at = Math.max(at, other.heldUntil);
      for (const send of other.sends) {
        if (send.cancelled) continue;
        const bound = this.#laneBound(send, credit);
        if (bound + windowMs > now) bounds.push(bound);
        if (!send.probe || !excused(send, other, shared, windowMs)) grants.push(send.grantedAt);
      }
    }
    if (bounds.length >= limit) {
      bounds.sort((a, b) => a - b);
      at = Math.max(at, (bounds[bounds.length - limit] as number) + windowMs);
    }
    if (paced && !this.#probing(state, matched)) {
      grants.sort((a, b) => a - b);
      const spacing = this.spacingOf(route);
      let paid = 0;
      for (const g of grants) paid = Math.max(paid, g) + spacing;
      at = Math.max(at, paid);
    }
    return at;
  }

  /** The earliest time one more request fits the bot-wide budget. */
  globalNextAllowed(now: number): number {
    this.#recoverGlobal(now);
    const windowMs = this.#globalRule.windowMs;
    const credit = this.#transitCredit();
    while (this.#unpaced.length > 0 && (this.#unpaced[0] as number) + windowMs <= now) this.#unpaced.shift();
    // Room for requests the pacer never sees (interaction callbacks), as many as came lately.
    const allowed = this.#globalLimit - 1 - this.#unpaced.length;
    const bounds: number[] = [];
    let inFlight = 0;
    let oldestInFlight = Infinity;
    for (let i = 0; i < this.#globalLog.length; ) {
      const entry = this.#globalLog[i] as GlobalEntry;
      const bound = this.#globalBound(entry, credit);
      if (bound === undefined) {
        const since = entry.at;
        if (since + IN_FLIGHT_MAX_MS <= now) {
          this.#globalLog.splice(i, 1);
          continue;
        }
        inFlight += 1;
        oldestInFlight = Math.min(oldestInFlight, since + IN_FLIGHT_MAX_MS);
      } else if (bound + windowMs <= now) {
        this.#globalLog.splice(i, 1);
        continue;
      } else {
        bounds.push(bound);
      }
      i += 1;
    }
    let at = Math.max(now, this.#globalHeldUntil);
    const excess = inFlight + bounds.length - Math.max(0, allowed - 1);
    if (excess > 0) {
      // In-flight requests are counted until Discord answers them; past that, the oldest logged ones expire first.
      bounds.sort((a, b) => a - b);
      const expiring = bounds[excess - 1];
      at = Math.max(at, expiring === undefined ? oldestInFlight : expiring + windowMs);
    }
    return at;
  }

  // ——— what Discord said ———

  /** Feeds one REST response (every request discord.js made, paced or not). */
  observe(method: string, path: string, status: number, headers: RateHeaders, at: number): Observed {
    const route = routeOf(method, path);
    const result: Observed = { lanes: new Set() };
    const limited = status === 429;
    // A 429 is retried by discord.js: the send stays in flight until its retry is answered.
    const send = limited ? undefined : this.#takeInFlight(route.key);
    const countedAt = headers.resetAtMs !== undefined && headers.resetAfterMs !== undefined ? headers.resetAtMs - headers.resetAfterMs : undefined;
    if (countedAt !== undefined) this.#minReturn = Math.min(this.#minReturn ?? Infinity, at - countedAt);
    if (send) {
      send.answeredAt = at;
      if (countedAt !== undefined) send.countedAt = countedAt;
      if (send.dispatchedAt !== undefined) this.#sampleRtt(at - send.dispatchedAt);
      send.answer = { status, ...pick(headers) };
      result.lanes.add(send.lane);
    } else {
      const claimed = limited ? undefined : this.#claimUnmatched(at);
      if (claimed) {
        claimed.answeredAt = at;
        result.lanes.add(claimed.lane);
      } else {
        this.#globalLog.push({ at, ...(countedAt !== undefined ? { countedAt } : {}) });
        this.#unpaced.push(at);
      }
    }

    if (limited && (headers.global || headers.scope === 'global')) {
      const retry = headers.retryAfterMs ?? 1000;
      this.#globalHeldUntil = Math.max(this.#globalHeldUntil, at + retry);
      this.#globalLimit = Math.max(Math.ceil(this.#globalRule.limit / 2), this.#globalLimit - Math.max(1, Math.round(this.#globalLimit / 10)));
      this.#globalShrunkAt = at;
      result.globalLimited = { retryAfterMs: retry };
      for (const lane of this.#lanes.keys()) result.lanes.add(lane);
      return result;
    }

    const state = this.#keys.get(route.key);
    this.#learnTemplate(route, status, headers);
    if (!state) return result;
    result.lanes.add(state.lane);
    if (headers.bucket) state.hash = headers.bucket;
    if (headers.limit !== undefined || headers.remaining !== undefined) state.observed = true;

    if (limited) {
      const retry = headers.retryAfterMs ?? headers.resetAfterMs ?? 0;
      state.heldUntil = Math.max(state.heldUntil, at + retry);
      const scope = headers.scope ?? 'user';
      // A limit that shrank, a longer window, or a resource shared with other apps explains it;
      // otherwise a route we counted apart was drawing on this budget after all.
      const shrank = headers.limit !== undefined && state.limit !== undefined && headers.limit < state.limit;
      const longer = headers.resetAfterMs !== undefined && headers.resetAfterMs > this.windowOf(route);
      if (!shrank && !longer && scope !== 'shared') this.#unlearnSeparation(state);
      if (headers.limit !== undefined) state.limit = headers.limit;
      result.limited = { template: route.template, retryAfterMs: retry, scope };
      return result;
    }

    if (headers.limit !== undefined) state.limit = headers.limit;
    if (headers.remaining === 0 && headers.resetAfterMs !== undefined) {
      const reset = this.#toLocal(at + headers.resetAfterMs, headers.resetAtMs, this.#transitCredit());
      state.heldUntil = Math.max(state.heldUntil, reset);
    }
    if (send?.answer && status < 300) this.#learnSeparation(state, send);
    return result;
  }

  // ——— housekeeping ———

  /** Forgets sends no window can count any more, and keys with none. Learned limits and relations stay. */
  sweep(now: number): void {
    for (const [key, state] of this.#keys) {
      const horizon = now - 3 * this.windowOf(state.route) - IN_FLIGHT_MAX_MS;
      state.sends = state.sends.filter((s) => !s.cancelled && (s.grantedAt > horizon || (s.answeredAt === undefined && s.dispatchedAt === undefined)));
      if (state.sends.length === 0 && state.heldUntil <= now) {
        this.#keys.delete(key);
        const lane = this.#laneStates(state.lane);
        lane.delete(state);
        if (lane.size === 0) this.#lanes.delete(state.lane);
      }
    }
    while (this.#unmatched.length > 0 && ((this.#unmatched[0] as Send).dispatchedAt ?? 0) + IN_FLIGHT_MAX_MS <= now) this.#unmatched.shift();
  }

  /** True when nothing in the lane is in flight or counted in a window. */
  laneIdle(lane: string, now: number): boolean {
    for (const state of this.#laneStates(lane)) {
      if (state.heldUntil > now) return false;
      const windowMs = this.windowOf(state.route);
      if (state.sends.some((s) => !s.cancelled && this.#laneBound(s, 0) + windowMs >= now)) return false;
    }
    return true;
  }

  // ——— internals ———

  #state(route: Route, lane: string): KeyState {
    let state = this.#keys.get(route.key);
    if (!state) {
      state = { route, lane, heldUntil: 0, sends: [], observed: false };
      this.#keys.set(route.key, state);
      this.#lanes.set(lane, this.#laneStates(lane).add(state));
    }
    return state;
  }

  /**
   * One send on a route Discord has not answered yet goes without waiting its turn: its answer
   * tells whether it shares the others' budget (until then an edit waits behind every new
   * message as if it did), and the window still holds it. Where the budget turns out to be its
   * own, the edits start their turns seconds sooner; where it is shared, the answers' first
   * messages left together and the window had the room, so it costs one later turn a second.
   */
  #probing(state: KeyState, matched: boolean): boolean {
    if (!matched || state.observed || state.sends.some((s) => s.matched && !s.cancelled && s.answeredAt === undefined)) return false;
    // Only while it is unknown: once another channel showed how these routes count, there is nothing to learn.
    return this.#others(state).some((other) => other.sends.length > 0 && this.relation(state.route, other.route) === 'assumed');
  }

  /** The keys of a lane (none for a lane never seen or forgotten). */
  #laneStates(lane: string): Set<KeyState> {
    return this.#lanes.get(lane) ?? new Set();
  }

  /** The other keys of `state`'s lane. */
  #others(state: KeyState): KeyState[] {
    return [...this.#laneStates(state.lane)].filter((other) => other !== state);
  }

  /** The keys of the lane whose sends may count against `state`'s budget, itself included. */
  #sharedStates(state: KeyState): KeyState[] {
    return [...this.#laneStates(state.lane)].filter((other) => this.shares(state.route, other.route));
  }

  /**
   * The latest a request can have been counted, on our clock, as a window start (or a reset, as
   * its end). Discord says when it counted it (`X-RateLimit-Reset` less `-Reset-After`, on its
   * clock), which the shortest answer time converts to ours, however late our event loop read
   * this answer. Without those headers: `seenAt`, when the answer was read. Either way a new
   * request is counted some way after it leaves, so half the fastest round trip is credited:
   * safe unless a request's way there is shorter than that, which latency flipping direction
   * between requests would take.
   */
  #toLocal(seenAt: number, discordAt: number | undefined, credit: number): number {
    if (discordAt === undefined || this.#minReturn === undefined) return seenAt - credit;
    return Math.min(seenAt, discordAt + this.#minReturn + CLOCK_EPSILON_MS) - credit;
  }

  #laneBound(send: Send, credit: number): number {
    if (send.answeredAt !== undefined) {
      const bound = this.#toLocal(send.answeredAt, send.countedAt, credit);
      return send.matched ? bound : Math.max(bound, send.grantedAt + this.#rule.marginMs);
    }
    if (send.dispatchedAt === undefined) return send.grantedAt + IN_FLIGHT_MAX_MS;
    return send.matched ? send.dispatchedAt + IN_FLIGHT_MAX_MS : send.dispatchedAt + this.#rule.marginMs;
  }

  /** As #laneBound for the bot-wide window; undefined while a routed send waits for its answer. */
  #globalBound(entry: GlobalEntry, credit: number): number | undefined {
    const { send } = entry;
    if (!send) return this.#toLocal(entry.at, entry.countedAt, credit);
    if (send.answeredAt !== undefined) return this.#toLocal(send.answeredAt, send.countedAt, credit);
    if (!send.matched) return entry.at + this.#globalRule.marginMs;
    return undefined;
  }

  #transitCredit(): number {
    return this.#minRtt === undefined ? 0 : Math.min(MAX_TRANSIT_CREDIT_MS, this.#minRtt / 2);
  }

  #sampleRtt(ms: number): void {
    this.#minRtt = Math.min(this.#minRtt ?? Infinity, Math.max(0, ms));
  }

  #takeInFlight(key: string): Send | undefined {
    const list = this.#inFlight.get(key);
    const send = list?.shift();
    if (list?.length === 0) this.#inFlight.delete(key);
    return send;
  }

  #claimUnmatched(at: number): Send | undefined {
    while (this.#unmatched.length > 0) {
      const send = this.#unmatched.shift() as Send;
      // Sends given back or finished have left this list already (#dropInFlight).
      if ((send.dispatchedAt ?? 0) + IN_FLIGHT_MAX_MS > at) return send;
    }
    return undefined;
  }

  #dropInFlight(send: Send): void {
    const list = this.#inFlight.get(send.route.key);
    const i = list?.indexOf(send) ?? -1;
    if (list && i >= 0) list.splice(i, 1);
    if (list?.length === 0) this.#inFlight.delete(send.route.key);
    const j = this.#unmatched.indexOf(send);
    if (j >= 0) this.#unmatched.splice(j, 1);
  }

  #learnTemplate(route: Route, status: number, headers: RateHeaders): void {
    const template = this.#templates.get(route.template) ?? { windowMs: 0 };
    if (headers.limit !== undefined) template.limit = headers.limit;
    // Reset-After never exceeds the window (sliding or fixed), so the longest seen is a floor for it.
    if (status < 300 && headers.resetAfterMs !== undefined) template.windowMs = Math.max(template.windowMs, headers.resetAfterMs);
    this.#templates.set(route.template, template);
  }

  /**
   * Two sends counted by one budget can never both leave the same number remaining: each takes
   * one more, unless a slot freed between them, which cannot happen before the earlier one's
   * Reset-After. So the same remaining on two routes, with no reset possible between them,
   * proves the routes are counted apart, whatever hash they report. Different hashes prove it
   * too (Discord's documented meaning of the hash), unless a 429 taught otherwise.
   */
  #learnSeparation(state: KeyState, send: Send): void {
    const answer = send.answer;
    if (!answer || answer.remaining === undefined || answer.limit === undefined || !answer.resetAfterMs) return;
    const sentAt = send.dispatchedAt ?? send.grantedAt;
    const answeredAt = send.answeredAt ?? sentAt;
    for (const other of this.#others(state)) {
      const pair = pairKey(state.route, other.route);
      if (state.hash && other.hash && state.hash !== other.hash && this.#relations.get(pair) !== 'shared') {
        this.#relations.set(pair, 'separate');
        continue;
      }
      const proof = other.sends.some((y) => {
        const a = y.answer;
        if (!a || a.status >= 300 || y.answeredAt === undefined || !a.resetAfterMs) return false;
        const ySent = y.dispatchedAt ?? y.grantedAt;
        return (
          a.limit === answer.limit &&
          a.remaining === answer.remaining &&
          y.answeredAt < sentAt + (answer.resetAfterMs as number) &&
          answeredAt < ySent + a.resetAfterMs
        );
      });
      if (proof) this.#relations.set(pair, 'separate');
    }
    this.#learnSharing(state, send);
  }

  /**
   * Fewer remaining than this route's own recent sends could have taken means another route
   * draws on its budget; when only one other route of the channel sent lately, that is the one.
   */
  #learnSharing(state: KeyState, send: Send): void {
    const answer = send.answer;
    const answeredAt = send.answeredAt;
    if (!answer || answer.remaining === undefined || answer.limit === undefined || answeredAt === undefined) return;
    const since = answeredAt - this.windowOf(state.route) - 1000;
    const lately = (s: Send) => !s.cancelled && s.grantedAt > since && s.grantedAt <= answeredAt;
    if (answer.limit - answer.remaining <= state.sends.filter(lately).length) return;
    const others = this.#others(state).filter((other) => other.sends.some(lately));
    const [only] = others;
    if (others.length === 1 && only && this.relation(state.route, only.route) === 'assumed') this.#relations.set(pairKey(state.route, only.route), 'shared');
  }

  /** A 429 the model did not foresee: every route it counted apart from this one is shared again. */
  #unlearnSeparation(state: KeyState): void {
    for (const other of this.#others(state)) this.#relations.set(pairKey(state.route, other.route), 'shared');
  }

  #recoverGlobal(now: number): void {
    if (this.#globalLimit >= this.#globalRule.limit || now - this.#globalShrunkAt < GLOBAL_RECOVERY_MS) return;
    this.#globalLimit += 1;
    this.#globalShrunkAt = now;
  }
}

/**
 * In a budget shared with new messages that left just before it, a probe went on room the
 * window had, not on anyone's turn, so it pushes no turn back. Where its route has a budget
 * of its own, it is that budget's first turn like any other.
 */
function excused(probe: Send, own: KeyState, shared: KeyState[], windowMs: number): boolean {
  return shared.some(
    (other) => other !== own && other.sends.some((s) => !s.cancelled && s.grantedAt <= probe.grantedAt && s.grantedAt > probe.grantedAt - windowMs),
  );
}

function pairKey(a: Route, b: Route): string {
  // Stryker disable next-line EqualityOperator: any fixed order of the two templates names the pair the same both ways
  const [x, y] = a.template <= b.template ? [a.template, b.template] : [b.template, a.template];
  return `${x}|${y}|${a.major === b.major ? 'same' : 'other'}`;
}

function pick(headers: RateHeaders): { limit?: number; remaining?: number; resetAfterMs?: number } {
  return {
    ...(headers.limit !== undefined ? { limit: headers.limit } : {}),
    ...(headers.remaining !== undefined ? { remaining: headers.remaining } : {}),
    ...(headers.resetAfterMs !== undefined ? { resetAfterMs: headers.resetAfterMs } : {}),
  };
}
