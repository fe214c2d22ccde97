import { DISCORD_CHANNEL_RULE, DISCORD_GLOBAL_RULE, RateBuckets, type BucketRule, type Observed, type Send } from './rateBuckets.js';
import { routeOf, type RateHeaders, type Route, type SendRoute } from './rateHeaders.js';

export type { SendRoute } from './rateHeaders.js';

/**
 * A channel's budget before Discord has said otherwise (Discord: 5 per 5 s, every create and
 * edit in the channel together), and the margin for sends whose answer cannot be seen.
 */
export type PacerOptions = BucketRule;

export const DISCORD_CHANNEL_LIMITS: PacerOptions = DISCORD_CHANNEL_RULE;

/**
 * Discord allows 50 requests a second for the whole bot. The bot-wide pacer counts each
 * request's second from when Discord says it counted it (its rate-limit headers), not from a
 * fixed margin, and leaves room for requests it does not pace (one, and as many as came in the
 * last second). With many answers at once, this is what keeps each edit reading the newest
 * text when its turn comes, instead of discord.js's global queue holding edits whose text
 * went stale while waiting.
 */
export const DISCORD_GLOBAL_EDIT_LIMITS: PacerOptions = DISCORD_GLOBAL_RULE;

/**
 * `new` (a new message) and `urgent` (a send that must land, like a media result) go first and
 * skip the even spacing, never the window: the first text matters more than one more progress
 * edit. `final` (an answer's final edit) keeps its place in line, then skips the spacing: jumping
 * ahead would show a few last words sooner while other answers' older text waits longer, and
 * the lag of all of it is what readers see. `paced` is a progress edit: in line, evenly spaced.
 */
export type Urgency = 'new' | 'urgent' | 'final' | 'paced';

/** Sends that go ahead of the line. */
const jumps = (urgency: Urgency) => urgency === 'new' || urgency === 'urgent';

/** A slot handed out for one send. */
export interface Slot {
  /** The send is over (answered, or failed): counted from Discord's answer, or from now if none was seen. */
  done(): void;
  /** The slot was not used: nothing was sent. */
  cancel(): void;
}

/** Something that hands out send slots. */
export interface Pacer {
  /** Resolves when the caller may send; `route` names the REST call, so it is counted where Discord counts it. */
  acquire(urgency: Urgency, route?: SendRoute): Promise<Slot>;
  /** Takes a slot only if one is free right now (for sends that may be skipped, like typing). */
  tryAcquire(): boolean;
}

interface Waiter {
  urgency: Urgency;
  route: Route;
  /** True when the caller named the route: Discord's answer can be matched to the send. */
  matched: boolean;
  resolve: (send: Send) => void;
}

/**
 * Hands out one channel's send slots, against the buckets Discord reports for each route
 * (creates, edits, each interaction's webhook), shared or not as Discord's answers show.
 * Progress edits are spread evenly over the budget they draw on (one per window/limit ms,
 * about a second) so concurrent answers take turns; new messages and final edits skip the
 * spacing but never the window. Waiters on routes that may share a budget keep their order.
 */
export class ChannelPacer implements Pacer {
  readonly #lane: string;
  readonly #model: RateBuckets;
  readonly #onSettled: () => void;
  readonly #waiters: Waiter[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pausedUntil = 0;

  constructor(options: PacerOptions = DISCORD_CHANNEL_LIMITS, shared?: { lane: string; model: RateBuckets; onSettled: () => void }) {
    // Stryker disable next-line StringLiteral: a pacer without a shared model has a model of its own, where any one lane name will do
    this.#lane = shared?.lane ?? 'channel';
    this.#model = shared?.model ?? new RateBuckets(options);
    this.#onSettled = shared?.onSettled ?? (() => {});
  }

  /** The even spacing of this channel's edits, as known now. */
  get spacingMs(): number {
    return this.#model.spacingOf(this.#model.laneRoute(this.#lane));
  }

  /** Number of callers waiting for a slot. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** The channel stage alone: resolves with the send once its budget allows it. */
  reserve(urgency: Urgency, route?: SendRoute): Promise<Send> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        urgency,
        route: route ? routeOf(route.method, route.path) : this.#model.laneRoute(this.#lane),
        matched: route !== undefined,
        resolve,
      };
      if (jumps(urgency)) {
        const firstInLine = this.#waiters.findIndex((w) => !jumps(w.urgency));
        this.#waiters.splice(firstInLine < 0 ? this.#waiters.length : firstInLine, 0, waiter);
      } else {
        this.#waiters.push(waiter);
      }
      this.replan();
    });
  }

  /** A slot of this channel's budgets alone: the send leaves at once (the registry's `for` adds the bot's budget). */
  async acquire(urgency: Urgency, route?: SendRoute): Promise<Slot> {
    const send = await this.reserve(urgency, route);
    this.#model.dispatch(send, Date.now());
    return this.slot(send);
  }

  /** The handle a caller finishes or gives back its send with. */
  slot(send: Send): Slot {
    return {
      done: () => {
        this.#model.done(send, Date.now());
        this.#settled();
      },
      cancel: () => {
        this.#model.cancel(send);
        this.#settled();
      },
    };
  }

  /** A paced slot of this channel if one is free now (the registry's `for` asks the bot's budget instead, for typing). */
  tryAcquire(): boolean {
    const now = Date.now();
    const route = this.#model.laneRoute(this.#lane);
    if (this.#waiters.length > 0 || this.#pausedUntil > now || this.#model.nextAllowed(route, this.#lane, true, false, now) > now) return false;
    this.#model.dispatch(this.#model.grant(route, this.#lane, false, now), now);
    return true;
  }

  /** Holds every slot until `until` (ms since epoch). */
  pauseUntil(until: number): void {
    // Stryker disable next-line EqualityOperator: pausing again until the same time plans the same slots
    if (until <= this.#pausedUntil) return;
    this.#pausedUntil = until;
    this.replan();
  }

  /** True when nothing is waiting and no recent send limits the next one (safe to forget). */
  idle(now = Date.now()): boolean {
    return this.#waiters.length === 0 && now >= this.#pausedUntil && this.#model.laneIdle(this.#lane, now);
  }

  /** Something changed (a waiter, an answer from Discord, a pause): plan again from now. */
  replan(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pump();
  }

  #settled(): void {
    this.replan();
    this.#onSettled();
  }

  #pump(): void {
    const now = Date.now();
    if (this.#waiters.length === 0) return;
    if (this.#pausedUntil > now) {
      this.#wakeAt(this.#pausedUntil, now);
      return;
    }
    // A waiter that cannot go yet holds back later ones on any route that may share its budget (fair turns);
    // routes Discord counts apart go on.
    const blocked: Route[] = [];
    let wake = Infinity;
    for (let i = 0; i < this.#waiters.length; ) {
      const waiter = this.#waiters[i] as Waiter;
      if (blocked.some((b) => this.#model.shares(b, waiter.route))) {
        i += 1;
        continue;
      }
      const at = this.#model.nextAllowed(waiter.route, this.#lane, waiter.urgency === 'paced', waiter.matched, now);
      if (at <= now) {
        this.#waiters.splice(i, 1);
        waiter.resolve(this.#model.grant(waiter.route, this.#lane, waiter.matched, now, waiter.urgency === 'paced'));
        continue;
      }
      blocked.push(waiter.route);
      wake = Math.min(wake, at);
      i += 1;
    }
    if (wake < Infinity) this.#wakeAt(wake, now);
  }

  #wakeAt(at: number, now: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#pump();
    }, at - now);
  }
}

/**
 * The bot-wide stage: every send (after its channel's) and typing draws on the bot's requests
 * per second. New messages (and urgent sends) go first; the rest in the order they came.
 */
class BotPacer {
  readonly #model: RateBuckets;
  readonly #news: { send: Send; resolve: () => void }[] = [];
  readonly #others: { send: Send; resolve: () => void }[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(model: RateBuckets) {
    this.#model = model;
  }

  acquire(urgency: Urgency, send: Send): Promise<void> {
    return new Promise((resolve) => {
      (jumps(urgency) ? this.#news : this.#others).push({ send, resolve });
      this.replan();
    });
  }

  tryAcquire(): boolean {
    const now = Date.now();
    if (this.#news.length > 0 || this.#others.length > 0 || this.#model.globalNextAllowed(now) > now) return false;
    this.#model.dispatchGlobal(now);
    return true;
  }

  replan(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pump();
  }

  #pump(): void {
    for (;;) {
      const queue = this.#news.length > 0 ? this.#news : this.#others;
      const head = queue[0];
      if (!head) return;
      const now = Date.now();
      const at = this.#model.globalNextAllowed(now);
      if (at > now) {
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.#pump();
        }, at - now);
        return;
      }
      queue.shift();
      this.#model.dispatch(head.send, now);
      head.resolve();
    }
  }
}

/** How often idle channels and forgotten sends are swept. */
const SWEEP_EVERY_MS = 60_000;

/**
 * One pacer per channel, created on first use and dropped once idle, in front of one pacer for
 * the whole bot: a send needs a slot from both. Both plan from one model of Discord's buckets,
 * fed with every REST response (`observe`).
 */
export class PacerRegistry {
  readonly #pacers = new Map<string, ChannelPacer>();
  readonly #options: PacerOptions;
  readonly #model: RateBuckets;
  readonly #bot: BotPacer;
  #sweptAt = 0;

  constructor(options: PacerOptions = DISCORD_CHANNEL_LIMITS, globalOptions: PacerOptions = DISCORD_GLOBAL_EDIT_LIMITS) {
    this.#options = options;
    this.#model = new RateBuckets(options, globalOptions);
    this.#bot = new BotPacer(this.#model);
  }

  /** What the pacers have learned (for tests and diagnostics). */
  get buckets(): RateBuckets {
    return this.#model;
  }

  /** The channel's own pacer. */
  channel(channelId: string): ChannelPacer {
    let pacer = this.#pacers.get(channelId);
    if (!pacer) {
      this.#sweep();
      pacer = new ChannelPacer(this.#options, { lane: channelId, model: this.#model, onSettled: () => this.#bot.replan() });
      this.#pacers.set(channelId, pacer);
    }
    return pacer;
  }

  /**
   * Slots for sends in a channel: the channel's budgets first, then the bot's. `tryAcquire`
   * asks the bot's budget only: typing indicators have their own per-channel bucket.
   */
  for(channelId: string): Pacer {
    const channel = this.channel(channelId);
    return {
      acquire: async (urgency, route) => {
        const send = await channel.reserve(urgency, route);
        await this.#bot.acquire(urgency, send);
        return channel.slot(send);
      },
      tryAcquire: () => this.#bot.tryAcquire(),
    };
  }

  /** One REST response, whatever made it: what Discord said about its buckets. */
  observe(method: string, path: string, status: number, headers: RateHeaders): Observed {
    const observed = this.#model.observe(method, path, status, headers, Date.now());
    for (const lane of observed.lanes) this.#pacers.get(lane)?.replan();
    this.#bot.replan();
    this.#sweep();
    return observed;
  }

  get size(): number {
    return this.#pacers.size;
  }

  /** Bounded memory: forget pacers whose history no longer constrains anything (at most once a second when many). */
  #sweep(): void {
    const now = Date.now();
    const due = this.#pacers.size >= 256 ? 1000 : SWEEP_EVERY_MS;
    if (now - this.#sweptAt < due) return;
    this.#sweptAt = now;
    for (const [id, pacer] of this.#pacers) if (pacer.idle(now)) this.#pacers.delete(id);
    this.#model.sweep(now);
  }
}
