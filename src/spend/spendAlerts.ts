import type Keyv from 'keyv';
import {
  describeCrossing,
  describeRefusalAlert,
  dueCrossings,
  emptyMarks,
  refusalAlertDue,
  type AlertMarks,
} from '../core/spendAlerts.js';
import type { Logger } from '../logger.js';
import type { LedgerEvent, LedgerLock } from './spendLedger.js';

/** A server's alert channel, what was announced there, and the last post that failed. */
export interface AlertSettings {
  channelId: string;
  marks: AlertMarks;
  /** Kept until a post succeeds, so /spend status can say the bot cannot post there. */
  failure?: { at: number; reason: string };
}

/** Posts one alert in a channel (the Discord side); throws when it cannot. */
export type AlertPoster = (channelId: string, content: string) => Promise<void>;

/**
 * Tells a server's alert channel (`/spend alerts`) when its spend crosses 80% and 100% of the
 * daily or monthly limit, and when a request is refused by one of them (at most once an hour
 * per limit). Fed by the ledger's events, so every paid path is covered. Each announcement is
 * recorded under the store's lock before it is posted: two processes, or two requests settling
 * together, announce a crossing once.
 */
export class SpendAlerts {
  readonly #keyv: Keyv<AlertSettings>;
  readonly #lock: LedgerLock;
  readonly #logger: Logger;
  readonly #now: () => number;
  #post: AlertPoster | undefined;
  readonly #pending = new Set<Promise<void>>();

  constructor(keyv: Keyv<AlertSettings>, lock: LedgerLock, logger: Logger, now: () => number = Date.now) {
    this.#keyv = keyv;
    this.#lock = lock;
    this.#logger = logger;
    this.#now = now;
  }

  /** The Discord side, known once the client exists. */
  postWith(post: AlertPoster): void {
    this.#post = post;
  }

  settings(guildId: string): Promise<AlertSettings | undefined> {
    return this.#keyv.get(guildId);
  }

  /** Sends alerts to `channelId` from now on (a new channel starts with nothing announced), or stops them (null). */
  async configure(guildId: string, channelId: string | null): Promise<void> {
    await this.#lock(`alerts:${guildId}`, async () => {
      if (channelId === null) {
        await this.#keyv.delete(guildId);
        return;
      }
      const current = await this.#keyv.get(guildId);
      // Same channel: keep what was announced, so re-running the command does not repeat an alert.
      const marks = current?.channelId === channelId ? current.marks : emptyMarks();
      await this.#keyv.set(guildId, { channelId, marks });
    });
  }

  /** Takes a ledger event; the alert (if any) is posted in the background. Never throws. */
  handle(event: LedgerEvent): void {
    if (event.scope.startsWith('dm:')) return;
    const task = this.#handle(event).catch((err: unknown) => this.#logger.warn({ err, guildId: event.scope }, 'spend alert failed'));
    this.#pending.add(task);
    void task.finally(() => this.#pending.delete(task));
  }

  /** Resolves once every alert in progress has been posted or given up (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  async #handle(event: LedgerEvent): Promise<void> {
    const guildId = event.scope;
    const now = this.#now();
    const due = await this.#lock(`alerts:${guildId}`, async () => {
      const settings = await this.#keyv.get(guildId);
      if (!settings) return undefined;
      let contents: string[] = [];
      let marks = settings.marks;
      if (event.type === 'settled') {
        const crossed = dueCrossings(event.state, event.limits, marks);
        contents = crossed.due.map((c) => describeCrossing(c, event.entry, now));
        marks = crossed.marks;
      } else {
        const refused = refusalAlertDue(event.refusal.limit, event.refusal.limitSpark, marks, now);
        if (refused.due) contents = [describeRefusalAlert(event.refusal, event.request, now)];
        marks = refused.marks;
      }
      if (contents.length === 0) return undefined;
      await this.#keyv.set(guildId, { ...settings, marks });
      return { channelId: settings.channelId, contents };
    });
    if (!due) return;
    for (const content of due.contents) await this.#send(guildId, due.channelId, content);
  }

  async #send(guildId: string, channelId: string, content: string): Promise<void> {
    let failure: AlertSettings['failure'];
    try {
      if (!this.#post) throw new Error('not connected to Discord');
      await this.#post(channelId, content);
      this.#logger.info({ guildId, channelId }, 'spend alert posted');
    } catch (err) {
      failure = { at: this.#now(), reason: reasonOf(err) };
      this.#logger.warn({ err, guildId, channelId }, 'could not post a spend alert');
    }
    // Remember the outcome for /spend status, unless the channel was changed meanwhile.
    await this.#lock(`alerts:${guildId}`, async () => {
      const settings = await this.#keyv.get(guildId);
      if (!settings || settings.channelId !== channelId) return;
      if (failure) await this.#keyv.set(guildId, { ...settings, failure });
      else if (settings.failure) {
        const { failure: _old, ...rest } = settings;
        await this.#keyv.set(guildId, rest);
      }
    });
  }
}

function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.length > 120 ? `${message.slice(0, 119)}…` : message;
}
