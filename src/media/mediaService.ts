import { randomUUID } from 'node:crypto';
import type Keyv from 'keyv';
import { describeFailure } from '../core/describeFailure.js';
import { chatCost, chatEstimate, mediaCostFromOutput, mediaEstimate, roundSpark, toolKind, type PriceTable } from '../core/pricing.js';
import { describeRefusal, describeWarning } from '../core/spendMath.js';
import type { Logger } from '../logger.js';
import { extractMedia, type MediaItem } from '../sogni/extractMedia.js';
import type { Sogni } from '../sogni/sogniClient.js';
import { toFailure } from '../sogni/toFailure.js';
import type { SpendLedger } from '../spend/spendLedger.js';
import { KeyedMutex } from '../core/keyedMutex.js';

/** What to make. */
export interface MediaSpec {
  /** The user's words. */
  prompt: string;
  /** An image to edit or vary (HTTPS URL or data URI). */
  reference?: string;
  /** A tool the model already chose in chat, with its arguments. */
  tool?: string;
  args?: Record<string, unknown>;
  /** Asks for a different result than last time (Reroll). */
  reroll?: boolean;
}

export interface MediaContext {
  /** Guild id, or `dm:<userId>`. */
  scope: string;
  userId: string;
  dm: boolean;
  logger: Logger;
}

export type MediaOutcome =
  | { kind: 'ok'; media: MediaItem[]; text: string; notes: string[]; jobId: string }
  | { kind: 'refused'; line: string }
  | { kind: 'failed'; line: string }
  | { kind: 'empty'; text: string; line: string; notes: string[] };

/** What Reroll and Vary need, kept in the store so buttons work after a restart. */
export interface StoredJob {
  prompt: string;
  reference?: string;
  tool?: string;
  args?: Record<string, unknown>;
  media: MediaItem[];
  userId: string;
  scope: string;
  at: number;
}

/** Jobs are kept this long for their buttons. */
const JOB_TTL_MS = 30 * 24 * 3600_000;
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

const SYSTEM = [
  "You make media with Sogni's creative tools for a Discord user.",
  'Call exactly one tool that fits the request: generate_image unless they clearly ask for video, music or speech;',
  'edit_image when they give an image to change.',
  'Then answer with one short sentence about the result.',
].join(' ');

export interface MediaServiceDeps {
  sogni: Sogni;
  ledger: SpendLedger;
  prices: PriceTable;
  model: string;
  tokenType: string;
  jobs: Keyv<StoredJob>;
  offers: Keyv<MediaOffer>;
}

/**
 * The one spend-gated path to Sogni's media tools, used by /imagine, its buttons and media
 * asked for in chat: reserve an estimate (or refuse, sending nothing), run the tools on
 * Sogni's side, settle with the reported cost (else the price table), or release on failure.
 */
export class MediaService {
  readonly #deps: MediaServiceDeps;
  /** Two presses of one offer's button at once must make it once. */
  readonly #claims = new KeyedMutex();

  constructor(deps: MediaServiceDeps) {
    this.#deps = deps;
  }

  estimate(spec: MediaSpec): number {
    const tool = toolFor(spec);
    return roundSpark(mediaEstimate(this.#deps.prices, tool, spec.args) + chatEstimate(this.#deps.prices, SYSTEM.length + spec.prompt.length));
  }

  async create(spec: MediaSpec, context: MediaContext, signal: AbortSignal = new AbortController().signal): Promise<MediaOutcome> {
    const { sogni, ledger, prices, model, tokenType } = this.#deps;
    const { logger } = context;
    const tool = toolFor(spec);
    let reserved: Awaited<ReturnType<SpendLedger['reserve']>>;
    try {
      reserved = await ledger.reserve({
        scope: context.scope,
        userId: context.userId,
        kind: toolKind(tool),
        model,
        estimate: this.estimate(spec),
      });
    } catch (err) {
      logger.error({ err }, 'could not record the spend hold; not asking Sogni');
      return { kind: 'failed', line: "⚠️ I can't record spending right now, so I won't make media. Try again in a moment." };
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
        messages: [
          { role: 'system', content: SYSTEM },
          { role: 'user', content: userMessage(spec) },
        ],
        tokenType,
        signal,
        ...(spec.reference ? { reference: spec.reference } : {}),
        ...(spec.tool ? { tool: spec.tool } : {}),
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
    const job: StoredJob = {
      prompt: spec.prompt,
      media: extracted.media,
      userId: context.userId,
      scope: context.scope,
      at: Date.now(),
      ...(spec.reference && !spec.reference.startsWith('data:') ? { reference: spec.reference } : {}),
      ...(spec.tool ? { tool: spec.tool } : {}),
      ...(spec.args ? { args: spec.args } : {}),
    };
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

/** The tool a request is for: the one the model chose, else an edit when there is an image, else a new image. */
function toolFor(spec: MediaSpec): string {
  return spec.tool ?? (spec.reference ? 'edit_image' : 'generate_image');
}

function userMessage(spec: MediaSpec): string {
  const parts = [spec.prompt];
  if (spec.tool) parts.push(`Use ${spec.tool} with these arguments: ${JSON.stringify(spec.args ?? {})}`);
  if (spec.reference) parts.push('The attached image is the one to work from.');
  // A new seed gives a different result for the same prompt.
  if (spec.reroll) parts.push(`Make a new variation (seed ${Math.floor(Math.random() * 2 ** 31)}).`);
  return parts.join('\n\n');
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 160 ? `${line.slice(0, 157)}…` : line;
}
