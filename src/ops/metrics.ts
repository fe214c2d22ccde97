import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The bot's Prometheus metrics, one registry per bot (no module-wide state). Labels are
 * closed sets (outcomes, bucket kinds) plus the top servers by spend: never message text,
 * user ids, tokens or anything else a scrape could leak.
 */

export type AnswerOutcome = 'ok' | 'failed' | 'refused' | 'gone';
export type MediaJobOutcome = 'ok' | 'refused' | 'failed' | 'empty';
export type SogniRequestKind = 'chat' | 'media' | 'models';
/** Discord's rate-limit buckets as the bot meets them, by kind (never by id). */
export type BucketKind = 'message' | 'interaction' | 'typing' | 'commands' | 'other';

/** What an answer came to, as the chat service reports it. */
export interface AnsweredLike {
  refused?: boolean;
  failure?: { kind: string };
  delivered: boolean;
}

/** Live values read at scrape time. */
export interface MetricsSources {
  streamsInFlight(): number;
  /** Requests waiting, by queue (`sogni`, `downloads`). */
  queues(): Record<string, number>;
  /** Each gateway shard this process runs: connected or not. */
  gateways(): { shard: number; up: boolean }[];
  guilds(): number;
}

/** Servers shown by name (id) in the spend metric; the rest are summed as `other`. */
export const TOP_SPEND_SCOPES = 10;

const LATENCY_BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300];
const FIRST_TOKEN_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30];

export class BotMetrics {
  readonly registry = new Registry();
  #sources: MetricsSources = { streamsInFlight: () => 0, queues: () => ({}), gateways: () => [], guilds: () => 0 };
  readonly #spent = new Map<string, number>();
  #processMetrics = false;
  readonly #answers: Counter<'outcome'>;
  readonly #mediaJobs: Counter<'outcome'>;
  readonly #discordRequests: Counter<'bucket'>;
  readonly #discord429s: Counter<'bucket'>;
  readonly #sogniSeconds: Histogram<'kind' | 'outcome'>;
  readonly #firstToken: Histogram;

  constructor() {
    const registers = [this.registry];
    this.#answers = new Counter({ name: 'sogni_bot_answers_total', help: 'Chat answers (mentions and /ask), by outcome.', labelNames: ['outcome'], registers });
    this.#mediaJobs = new Counter({ name: 'sogni_bot_media_jobs_total', help: 'Media requests (/imagine, buttons, media in chat), by outcome.', labelNames: ['outcome'], registers });
    this.#discordRequests = new Counter({ name: 'sogni_bot_discord_requests_total', help: 'Discord REST responses, by rate-limit bucket kind.', labelNames: ['bucket'], registers });
    this.#discord429s = new Counter({ name: 'sogni_bot_discord_rate_limited_total', help: 'Discord REST 429 responses, by rate-limit bucket kind.', labelNames: ['bucket'], registers });
    this.#sogniSeconds = new Histogram({
      name: 'sogni_bot_sogni_request_seconds',
      help: 'Sogni request latency, from sending to the last byte, by kind and outcome.',
      labelNames: ['kind', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#firstToken = new Histogram({ name: 'sogni_bot_sogni_first_token_seconds', help: 'Time from sending a chat request to its first streamed token.', buckets: FIRST_TOKEN_BUCKETS, registers });
    for (const outcome of ['ok', 'failed', 'refused', 'gone'] satisfies AnswerOutcome[]) this.#answers.inc({ outcome }, 0);
    for (const outcome of ['ok', 'refused', 'failed', 'empty'] satisfies MediaJobOutcome[]) this.#mediaJobs.inc({ outcome }, 0);

    const sources = () => this.#sources;
    new Gauge({
      name: 'sogni_bot_streams_in_flight',
      help: 'Chat answers streaming now.',
      registers,
      collect() {
        this.set(sources().streamsInFlight());
      },
    });
    new Gauge({
      name: 'sogni_bot_queue_waiting',
      help: 'Requests waiting for their turn, by queue (sogni: the shared API quota; downloads: attachment fetches).',
      labelNames: ['queue'],
      registers,
      collect() {
        this.reset();
        for (const [queue, n] of Object.entries(sources().queues())) this.set({ queue }, n);
      },
    });
    new Gauge({
      name: 'sogni_bot_gateway_up',
      help: '1 when the shard is connected to Discord’s gateway.',
      labelNames: ['gateway_shard'],
      registers,
      collect() {
        this.reset();
        for (const { shard, up } of sources().gateways()) this.set({ gateway_shard: String(shard) }, up ? 1 : 0);
      },
    });
    new Gauge({
      name: 'sogni_bot_guilds',
      help: 'Servers this process serves.',
      registers,
      collect() {
        this.set(sources().guilds());
      },
    });
    const spent = this.#spent;
    new Gauge({
      name: 'sogni_bot_spark_spent',
      help: `Spark settled since this process started, by scope: the top ${TOP_SPEND_SCOPES} servers by id, every DM as dm, the rest as other.`,
      labelNames: ['scope'],
      registers,
      collect() {
        this.reset();
        for (const [scope, spark] of topScopes(spent, TOP_SPEND_SCOPES)) this.set({ scope }, spark);
      },
    });
  }

  /** Where the live gauges read from, once the bot's parts exist. */
  observe(sources: MetricsSources): void {
    this.#sources = sources;
  }

  /** CPU, memory, event-loop lag and the rest of prom-client's process metrics (once per process). */
  collectProcessMetrics(): void {
    if (this.#processMetrics) return;
    this.#processMetrics = true;
    collectDefaultMetrics({ register: this.registry });
  }

  answered(outcome: AnsweredLike): void {
    this.#answers.inc({ outcome: answerOutcome(outcome) });
  }

  mediaJob(outcome: MediaJobOutcome): void {
    this.#mediaJobs.inc({ outcome });
  }

  /** One Discord REST response (`path` below /api/v10). */
  discordResponse(path: string, status: number): void {
    const bucket = bucketKind(path);
    this.#discordRequests.inc({ bucket });
    if (status === 429) this.#discord429s.inc({ bucket });
  }

  sogniRequest(kind: SogniRequestKind, seconds: number, ok: boolean): void {
    this.#sogniSeconds.observe({ kind, outcome: ok ? 'ok' : 'error' }, seconds);
  }

  sogniFirstToken(seconds: number): void {
    this.#firstToken.observe(seconds);
  }

  /** Spark a request really cost (settled), for the spend-by-server gauge. */
  spent(scope: string, spark: number): void {
    const key = scope.startsWith('dm:') ? 'dm' : scope;
    this.#spent.set(key, (this.#spent.get(key) ?? 0) + spark);
  }

  contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

function answerOutcome(outcome: AnsweredLike): AnswerOutcome {
  if (outcome.refused) return 'refused';
  if (outcome.failure) return 'failed';
  return outcome.delivered ? 'ok' : 'gone';
}

/** The kind of Discord rate-limit bucket a REST path draws from. */
export function bucketKind(path: string): BucketKind {
  if (/^\/channels\/\d+\/messages/.test(path)) return 'message';
  if (/^\/channels\/\d+\/typing/.test(path)) return 'typing';
  if (/^\/(interactions|webhooks)\//.test(path)) return 'interaction';
  if (/^\/applications\/[^/]+(\/guilds\/\d+)?\/commands/.test(path)) return 'commands';
  return 'other';
}

/** The biggest spenders by name, the rest summed as `other` (DMs already folded into `dm`). */
export function topScopes(spent: ReadonlyMap<string, number>, top: number): [string, number][] {
  const ranked = [...spent].filter(([scope]) => scope !== 'dm').sort((a, b) => b[1] - a[1]);
  const shown: [string, number][] = ranked.slice(0, top);
  const rest = ranked.slice(top).reduce((sum, [, spark]) => sum + spark, 0);
  if (rest > 0) shown.push(['other', rest]);
  const dm = spent.get('dm');
  if (dm !== undefined) shown.push(['dm', dm]);
  return shown;
}
