import { randomUUID } from 'node:crypto';
import type Keyv from 'keyv';
import { describeFailure } from '../core/describeFailure.js';
import { KeyedMutex } from '../core/keyedMutex.js';
import { chatCost, mediaCostFromOutput, roundSpark, toolKind, type PriceTable } from '../core/pricing.js';
import { describeRefusal, describeWarning } from '../core/spendMath.js';
import { extractMedia } from '../sogni/extractMedia.js';
import type { Sogni } from '../sogni/sogniClient.js';
import { toFailure } from '../sogni/toFailure.js';
import type { SpendLedger } from '../spend/spendLedger.js';
import { JOB_TTL_MS, jobOf, type StoredJob } from './jobs.js';
import { mediaMessages, toolFor, worstCase, type MediaSpec } from './mediaRequest.js';
import { LEDGER_DOWN_LINE, type MediaContext, type MediaOutcome } from './outcome.js';
import type { RunService } from './runService.js';

export type { MediaSpec } from './mediaRequest.js';
export type { MediaContext, MediaOutcome } from './outcome.js';
export type { StoredJob } from './jobs.js';

/** How long an offer to make paid media from a chat answer can be accepted. */
export const OFFER_TTL_MS = 10 * 60_000;

/** Media a chat answer asked for that costs more than runs unasked: waits for the asker's button. */
export interface MediaOffer {
  spec: MediaSpec;
  userId: string;
  scope: string;
  estimate: number;
  /** The answer was private, so the result must be too. */
  private: boolean;
  at: number;
}

export interface MediaServiceDeps {
  sogni: Sogni;
  ledger: SpendLedger;
  prices: PriceTable;
  model: string;
  tokenType: string;
  jobs: Keyv<StoredJob>;
  offers: Keyv<MediaOffer>;
  /** Longest video or audio a request may ask for (MAX_VIDEO_SECONDS). */
  maxSeconds: number;
  /** 'runs': new media goes through durable runs; 'completions': one synchronous request. */
  mode: 'runs' | 'completions';
  /** Durable runs; also finishes runs a previous process left, whatever the mode. */
  runs: RunService;
}

/**
 * The one spend-gated path to Sogni's media tools, used by /imagine, its buttons and media
 * asked for in chat. In runs mode (the default) every paid job's price is previewed by Sogni
 * and held against the limits before it is confirmed (RunService). In completions mode the
 * tool is forced and its price drivers bounded in what is sent, the worst case for that is
 * held (or the request refused, sending nothing), and the hold is settled with the reported
 * cost (else the price table), or released on failure.
 */
export class MediaService {
  readonly #deps: MediaServiceDeps;
  /** Two presses of one offer's button at once must make it once. */
  readonly #claims = new KeyedMutex();

  constructor(deps: MediaServiceDeps) {
    this.#deps = deps;
  }

  get mode(): 'runs' | 'completions' {
    return this.#deps.mode;
  }

  /** Durable runs: /imagine starts them with a status target; its Cancel button asks them to stop. */
  get runs(): RunService {
    return this.#deps.runs;
  }

  /** The most the request can cost as it is sent (the tool forced, its price drivers bounded). */
  estimate(spec: MediaSpec): number {
    return worstCase(this.#deps.prices, spec, this.#deps.maxSeconds);
  }

  /** Makes media for a caller that shows the result itself (a chat answer). */
  async create(spec: MediaSpec, context: MediaContext, signal: AbortSignal = new AbortController().signal): Promise<MediaOutcome> {
    if (this.#deps.mode === 'runs') {
      return this.#deps.runs.start(spec, context, {
        header: `-# for <@${context.userId}>`,
        surface: 'caller',
        private: context.private ?? false,
        ...(context.channelId ? { channelId: context.channelId } : {}),
      }, signal);
    }
    return this.createNow(spec, context, signal);
  }

  /** The synchronous path: one non-streaming request with the tool run on Sogni's side. */
  async createNow(spec: MediaSpec, context: MediaContext, signal: AbortSignal = new AbortController().signal): Promise<MediaOutcome> {
    const { sogni, ledger, prices, model, tokenType, maxSeconds } = this.#deps;
    const { logger } = context;
    const tool = toolFor(spec);
    let reserved: Awaited<ReturnType<SpendLedger['reserve']>>;
    try {
      reserved = await ledger.reserve({
        scope: context.scope,
        userId: context.userId,
        ...(context.roleIds ? { roleIds: context.roleIds } : {}),
        kind: toolKind(tool),
        model,
        estimate: this.estimate(spec),
      });
    } catch (err) {
      logger.error({ err }, 'could not record the spend hold; not asking Sogni');
      return { kind: 'failed', line: LEDGER_DOWN_LINE };
    }
    if (!reserved.ok) {
      logger.info({ limit: reserved.refusal.limit, needed: reserved.refusal.needed }, 'media refused by spend limit');
      return { kind: 'refused', line: describeRefusal(reserved.refusal, Date.now(), context.dm) };
    }
    const { hold } = reserved;
    let response: unknown;
    try {
      response = await sogni.createMedia({
        userId: context.userId,
        model,
        messages: mediaMessages(spec, maxSeconds),
        tokenType,
        signal,
        ...(spec.reference ? { reference: spec.reference } : {}),
        // Forced: the model may not pick a dearer tool than the one held for.
        tool,
      });
    } catch (err) {
      await ledger.release(hold).catch((e: unknown) => logger.error({ err: e }, 'could not release a spend hold'));
      const failure = toFailure(err, this.#deps.sogni.mediaTimeoutSeconds);
      logger.warn({ err, failure: failure.kind }, 'media request failed');
      return { kind: 'failed', line: describeFailure(failure) };
    }
    const extracted = extractMedia(response);
    const actual = roundSpark(
      (extracted.reportedSpark ?? mediaCostFromOutput(prices, extracted.media)) + (extracted.usage ? chatCost(prices, extracted.usage) : 0),
    );
    let notes: string[] = [];
    try {
      const settled = await ledger.settle(hold, actual, extracted.media[0] ? toolKind(extracted.media[0].kind) : undefined);
      notes = settled.warnings.map((w) => describeWarning(w, settled.state, settled.limits, context.userId));
    } catch (err) {
      // The hold stays and expires; the media is made and shown regardless.
      logger.error({ err, actual }, 'could not settle the media spend');
    }
    logger.info(
      { media: extracted.media.length, tools: extracted.tools, estimate: hold.reservation.amount, actual, reported: extracted.reportedSpark !== undefined },
      'media request finished',
    );
    if (extracted.media.length === 0) {
      const why = extracted.failures[0];
      return {
        kind: 'empty',
        text: extracted.text,
        line: why ? `⚠️ Sogni couldn't make it: ${oneLine(why)}` : '⚠️ Sogni finished without producing any media.',
        notes,
      };
    }
    const jobId = randomUUID();
    const job = jobOf(spec, extracted.media, context);
    try {
      await this.#deps.jobs.set(jobId, job, JOB_TTL_MS);
    } catch (err) {
      // The media is made and paid for: show it; only its buttons will not work.
      logger.error({ err }, 'could not save the media job for its buttons');
    }
    return { kind: 'ok', media: extracted.media, text: extracted.text, notes, jobId };
  }

  job(id: string): Promise<StoredJob | undefined> {
    return this.#deps.jobs.get(id);
  }

  /** Keeps an offer for OFFER_TTL_MS and returns its id, for the button that accepts it. */
  async offer(offer: Omit<MediaOffer, 'at'>): Promise<string> {
    const id = randomUUID();
    await this.#deps.offers.set(id, { ...offer, at: Date.now() }, OFFER_TTL_MS);
    return id;
  }

  /** An offer still open, without taking it (to check who may accept it). */
  async peekOffer(id: string): Promise<MediaOffer | undefined> {
    const offer = await this.#deps.offers.get(id);
    return offer && Date.now() - offer.at <= OFFER_TTL_MS ? offer : undefined;
  }

  /** Takes an open offer, once: a second press (or one after expiry) gets undefined. */
  claimOffer(id: string): Promise<MediaOffer | undefined> {
    return this.#claims.run(id, async () => {
      const offer = await this.peekOffer(id);
      if (offer) await this.#deps.offers.delete(id);
      return offer;
    });
  }
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 160 ? `${line.slice(0, 157)}…` : line;
}
