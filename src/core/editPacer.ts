/**
 * Discord allows about 5 message creates/edits per 5 seconds in one channel. Every answer
 * streaming in a channel draws from that one budget, so the pacing lives per channel, not
 * per message and not per bot.
 */
export interface PacerOptions {
  /** Operations allowed per window (Discord: 5). */
  limit: number;
  /** The window, in ms (Discord: 5000). */
  windowMs: number;
  /**
   * Added to the window: our clock starts when we send, Discord's when the request lands,
   * and REST latency varies, so an exact 5-in-5000 ms schedule would brush the limit.
   */
  marginMs: number;
}

export const DISCORD_CHANNEL_LIMITS: PacerOptions = { limit: 5, windowMs: 5000, marginMs: 250 };

/**
 * Discord allows 50 requests a second for the whole bot. Streaming sends and typing take at
 * most 47 per 1.04 s, leaving room for interaction replies and media posts. With many
 * answers at once, this is what keeps each edit reading the newest text when its turn comes,
 * instead of discord.js's global queue holding edits whose text went stale while waiting.
 */
export const DISCORD_GLOBAL_EDIT_LIMITS: PacerOptions = { limit: 47, windowMs: 1000, marginMs: 40 };

/** Something that hands out send slots. */
export interface Pacer {
  acquire(urgency: Urgency): Promise<void>;
  /** Takes a slot only if one is free right now (for sends that may be skipped, like typing). */
  tryAcquire(): boolean;
}

/**
 * `urgent` (a new message, a final edit) goes first and skips the even spacing, never the
 * window: the first text and the finished answer matter more than one more progress edit.
 */
export type Urgency = 'urgent' | 'paced';

interface Waiter {
  urgency: Urgency;
  resolve: () => void;
}

/**
 * Hands out a channel's send slots. Progress edits are spread evenly (one per window/limit
 * ms, about one a second) so concurrent answers in a channel take turns; urgent sends skip
 * the spacing but never the window. Over any window plus margin, at most `limit` slots are granted.
 */
export class ChannelPacer implements Pacer {
  readonly #options: PacerOptions;
  /** Grant times of the most recent slots, oldest first, at most `limit` long. */
  readonly #grants: number[] = [];
  readonly #waiters: Waiter[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pausedUntil = 0;
  /**
   * When the channel's budget is paid up: every grant, urgent ones too, adds one spacing.
   * After a burst of new messages, progress edits wait their turn instead of spending the
   * rest of the window at once and then stalling every answer until it slides.
   */
  #paidUntil = 0;

  constructor(options: PacerOptions = DISCORD_CHANNEL_LIMITS) {
    this.#options = options;
  }

  get spacingMs(): number {
    return this.#options.windowMs / this.#options.limit;
  }

  /** Number of callers waiting for a slot. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Resolves when the caller may send one create or edit in this channel. */
  acquire(urgency: Urgency): Promise<void> {
    return new Promise((resolve) => {
      const waiter = { urgency, resolve };
      if (urgency === 'urgent') {
        const firstPaced = this.#waiters.findIndex((w) => w.urgency === 'paced');
        this.#waiters.splice(firstPaced < 0 ? this.#waiters.length : firstPaced, 0, waiter);
      } else {
        this.#waiters.push(waiter);
      }
      this.#reschedule();
    });
  }

  /** Holds every slot until `until` (ms since epoch): Discord told us to back off. */
  pauseUntil(until: number): void {
    if (until <= this.#pausedUntil) return;
    this.#pausedUntil = until;
    this.#reschedule();
  }

  /** A new waiter or a pause may change who goes next and when: plan again from now. */
  #reschedule(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#pump();
  }

  /** True when nothing is waiting and no recent grant limits the next one (safe to forget). */
  idle(now = Date.now()): boolean {
    const last = this.#grants[this.#grants.length - 1];
    return (
      this.#waiters.length === 0 &&
      now >= this.#pausedUntil &&
      (last === undefined || now - last > this.#options.windowMs + this.#options.marginMs)
    );
  }

  #nextAllowed(urgency: Urgency): number {
    const { limit, windowMs, marginMs } = this.#options;
    let at = this.#pausedUntil;
    if (this.#grants.length >= limit) at = Math.max(at, (this.#grants[0] as number) + windowMs + marginMs);
    if (urgency === 'paced') at = Math.max(at, this.#paidUntil);
    return at;
  }

  tryAcquire(): boolean {
    const now = Date.now();
    if (this.#waiters.length > 0 || this.#nextAllowed('paced') > now) return false;
    this.#grant(now);
    return true;
  }

  #grant(now: number): void {
    this.#grants.push(now);
    if (this.#grants.length > this.#options.limit) this.#grants.shift();
    this.#paidUntil = Math.max(this.#paidUntil, now) + this.spacingMs;
  }

  #pump(): void {
    if (this.#timer) return;
    for (;;) {
      const head = this.#waiters[0];
      if (!head) return;
      const now = Date.now();
      const at = this.#nextAllowed(head.urgency);
      if (at > now) {
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.#pump();
        }, at - now);
        return;
      }
      this.#waiters.shift();
      this.#grant(now);
      head.resolve();
    }
  }
}

/**
 * One pacer per channel, created on first use and dropped once idle, in front of one pacer
 * for the whole bot: a send needs a slot from both.
 */
export class PacerRegistry {
  readonly #pacers = new Map<string, ChannelPacer>();
  readonly #options: PacerOptions;
  readonly #global: ChannelPacer;

  constructor(options: PacerOptions = DISCORD_CHANNEL_LIMITS, globalOptions: PacerOptions = DISCORD_GLOBAL_EDIT_LIMITS) {
    this.#options = options;
    this.#global = new ChannelPacer(globalOptions);
  }

  /** The channel's own pacer (to pause it when Discord says so). */
  channel(channelId: string): ChannelPacer {
    let pacer = this.#pacers.get(channelId);
    if (!pacer) {
      this.#sweep();
      pacer = new ChannelPacer(this.#options);
      this.#pacers.set(channelId, pacer);
    }
    return pacer;
  }

  /**
   * Slots for sends in a channel: the channel's budget first, then the bot's. `tryAcquire`
   * asks the bot's budget only: typing indicators have their own per-channel bucket.
   */
  for(channelId: string): Pacer {
    const channel = this.channel(channelId);
    return {
      acquire: async (urgency) => {
        await channel.acquire(urgency);
        await this.#global.acquire(urgency);
      },
      tryAcquire: () => this.#global.tryAcquire(),
    };
  }

  get size(): number {
    return this.#pacers.size;
  }

  /** Bounded memory: forget pacers whose history no longer constrains anything. */
  #sweep(): void {
    if (this.#pacers.size < 256) return;
    const now = Date.now();
    for (const [id, pacer] of this.#pacers) if (pacer.idle(now)) this.#pacers.delete(id);
  }
}
