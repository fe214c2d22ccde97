import { Client, Events, GatewayIntentBits, Options, Partials, RESTEvents, Status } from 'discord.js';
import { definitionsFor, registry } from '../commands/index.js';
import { ChatService } from './chat/chatService.js';
import type { Config } from './config.js';
import { DISCORD_GLOBAL_EDIT_LIMITS, PacerRegistry, type PacerOptions } from './core/editPacer.js';
import { readRateHeaders } from './core/rateHeaders.js';
import type { Deps } from './deps.js';
import { classifySendError } from './discord/discordErrors.js';
import { createInteractionHandler } from './discord/onInteractionCreate.js';
import { createMessageHandler } from './discord/onMessageCreate.js';
import { registerCommands } from './discord/registerCommands.js';
import { SAFE_MENTIONS } from './discord/safeMentions.js';
import type { Logger } from './logger.js';
import { ModelCatalog } from './sogni/modelCatalog.js';
import { MAX_RATE_LIMIT_WAIT_MS, Sogni, SOGNI_RATE_WINDOW_MS } from './sogni/sogniClient.js';
import { FairQueue } from './core/fairQueue.js';
import { HistoryStore } from './store/historyStore.js';
import { openStore, type Store } from './store/openStore.js';
import type { Turn } from './core/history.js';
import { ATTACHMENT_TIMEOUT_MS, readAttachments, type AttachmentRef } from './vision/readAttachments.js';
import { createNetDeps } from './net/netDeps.js';
import type { Resolver } from './net/safeFetch.js';
import { createMedia } from './media/createMedia.js';
import { createRunPresenter } from './discord/runPresenter.js';
import { SpendLedger } from './spend/spendLedger.js';
import { SettingsStore } from './settings/settingsStore.js';
import type { ScopeSettings } from './core/settings.js';
import { defaultLimits, pricesFrom } from './spend/limits.js';
import { Lifecycle } from './ops/lifecycle.js';
import { BotMetrics } from './ops/metrics.js';
import { MeteredLedger } from './ops/meteredLedger.js';
import { processHealth, type ProcessHealth } from './ops/health.js';
import { warnAboutSetup } from './ops/startupChecks.js';
import { SpendAlerts, type AlertSettings } from './spend/spendAlerts.js';
import { AnswerRecords, type AnswerRecord } from './discord/cleanup.js';
import { channelAlertPoster } from './discord/alertPoster.js';

const PRUNE_EVERY_MS = 6 * 3600_000;

export interface BotOverrides {
  /** Channel budget (tests and the benchmark may shrink the window). */
  pacing?: PacerOptions;
  /** How long one attachment download may take (tests shorten it). */
  attachmentTimeoutMs?: number;
  /** Resolves host names for downloads (tests map names to private addresses). */
  lookup?: Resolver;
  /** Sogni's rate window and how long a 429 is retried (tests shrink both). */
  sogniRateWindowMs?: number;
  sogniMaxRateLimitWaitMs?: number;
}

export interface Bot {
  client: Client;
  deps: Deps;
  /** The storage behind history, the ledger and media jobs. */
  store: Store;
  /** Counters and gauges for /metrics. */
  metrics: BotMetrics;
  /** Work in flight, and whether the bot is shutting down. */
  lifecycle: Lifecycle;
  /** This process's gateway shards and store, for /healthz. */
  health(): Promise<ProcessHealth>;
  /** Logs in, waits for the gateway to be ready and registers the slash commands. */
  start(): Promise<void>;
  /**
   * Refuses new work, lets answers in progress finish for up to `graceMs` (0: none), ends the
   * rest with a notice, then disconnects and closes the store.
   */
  stop(options?: { graceMs?: number }): Promise<void>;
}

/** How long work cut short at the end of the grace period may take to write its notes and release its holds. */
const WIND_DOWN_MS = 10_000;

/** Builds the whole bot from a validated config: one client, one store, one Sogni client, passed down. */
export function createBot(config: Config, logger: Logger, overrides: BotOverrides = {}): Bot {
  const store = openStore(config.STORE_URL);
  const metrics = new BotMetrics();
  const lifecycle = new Lifecycle();
  // Sogni's limit is per key and Discord's 50 requests a second per bot: every shard process takes its share.
  const shards = config.SHARD_COUNT ?? 1;
  const history = new HistoryStore(store.namespace<Turn[]>('history'), { maxImages: config.MAX_HISTORY_IMAGES });
  const meta = store.namespace<string>('meta');
  const sogni = new Sogni({
    apiKey: config.SOGNI_API_KEY,
    baseURL: config.SOGNI_BASE_URL,
    timeoutSeconds: config.SOGNI_TIMEOUT_SECONDS,
    mediaTimeoutSeconds: config.MEDIA_TIMEOUT_SECONDS,
    // One line for the whole bot: Sogni's limit is per key, shared by everyone.
    queue: new FairQueue({
      limit: Math.max(1, Math.floor(config.SOGNI_RATE_LIMIT / shards)),
      windowMs: overrides.sogniRateWindowMs ?? SOGNI_RATE_WINDOW_MS,
      marginMs: 250,
      maxActivePerUser: config.USER_MAX_ACTIVE,
    }),
    maxRateLimitWaitMs: overrides.sogniMaxRateLimitWaitMs ?? MAX_RATE_LIMIT_WAIT_MS,
    metrics,
    tokenType: config.TOKEN_TYPE,
  });
  // Per-channel pacing, per-channel history writes, per-guild settings and /forget's wait are
  // in-process: Discord routes a guild, with all its channels, to exactly one shard (DMs to shard 0).
  const pacers = new PacerRegistry(overrides.pacing, shardOf(DISCORD_GLOBAL_EDIT_LIMITS, shards));
  const prices = pricesFrom(config);
  const net = createNetDeps(config, {
    ...(overrides.lookup ? { lookup: overrides.lookup } : {}),
    onRefused: (detail) => logger.warn({ detail }, 'refused a download from a private address'),
  });
  const readWithLimits = (refs: readonly AttachmentRef[]) =>
    readAttachments(
      refs,
      {
        maxBytes: config.MAX_ATTACHMENT_MB * 1024 * 1024,
        maxImages: config.MAX_IMAGES,
        timeoutMs: overrides.attachmentTimeoutMs ?? ATTACHMENT_TIMEOUT_MS,
      },
      net,
    );
  // The store's lock: atomic across every process sharing a Redis or PostgreSQL store.
  const ledger: SpendLedger = new MeteredLedger(metrics, store.namespace('spend'), (scope) => defaultLimits(config, scope), Date.now, {
    lock: (key, task) => store.lock(`spend:${key}`, task),
  });
  const alerts = new SpendAlerts(store.namespace<AlertSettings>('alerts'), (key, task) => store.lock(key, task), logger.child({ component: 'alerts' }));
  ledger.observe((event) => alerts.handle(event));
  const answers = new AnswerRecords(store.namespace<AnswerRecord>('answers'), logger);
  const media = createMedia(config, { sogni, ledger, prices, store, logger });
  const chat = new ChatService({
    sogni,
    history,
    pacers,
    ledger,
    prices,
    ...(config.MEDIA_IN_CHAT ? { media } : {}),
    mediaAutoSpark: config.CHAT_MEDIA_AUTO_SPARK,
    systemPrompt: config.SYSTEM_PROMPT,
    timeoutSeconds: config.SOGNI_TIMEOUT_SECONDS,
    classifySendError,
    readAttachments: readWithLimits,
    maxAnswerMessages: config.MAX_ANSWER_MESSAGES,
    reasoning: config.REASONING,
    metrics,
  });
  const models = new ModelCatalog((signal) => sogni.listModels(signal), config.SOGNI_MODEL);
  const settings = new SettingsStore(store.namespace<ScopeSettings>('settings'), {
    model: config.SOGNI_MODEL,
    persona: config.SYSTEM_PROMPT,
    threads: config.THREADS === 'on',
    media: config.MEDIA_IN_CHAT,
    roles: [],
    enabled: true,
  });
  const deps: Deps = { config, logger, lifecycle, chat, history, models, media, ledger, settings, readAttachments: readWithLimits, net, alerts, answers };

  const client = new Client({
    intents: [
      GatewayIntentBits.Guilds,
      GatewayIntentBits.GuildMessages,
      GatewayIntentBits.MessageContent,
      ...(config.ALLOW_DMS ? [GatewayIntentBits.DirectMessages] : []),
    ],
    // DM channels are not cached before their first message; without this partial, DMs are dropped.
    partials: config.ALLOW_DMS ? [Partials.Channel] : [],
    allowedMentions: SAFE_MENTIONS,
    // offset 0: discord.js then waits exactly Discord's Reset-After; the pacer plans for it, and 50 ms more per edit would cost a tenth of a channel's turns.
    rest: { offset: 0, ...(config.DISCORD_API_URL ? { api: config.DISCORD_API_URL } : {}) },
    // The bot needs a message only while it answers it: bound the cache for servers with many channels.
    makeCache: Options.cacheWithLimits({ ...Options.DefaultMakeCacheSettings, MessageManager: 50 }),
    sweepers: { ...Options.DefaultSweeperSettings, messages: { interval: 900, lifetime: 1800 } },
  });

  media.runs.present(createRunPresenter({ client, pacers, net, logger }));
  alerts.postWith(channelAlertPoster(client));
  const onMessage = createMessageHandler(deps);
  const onInteraction = createInteractionHandler(deps, registry);
  client.on(Events.MessageCreate, (message) => void lifecycle.track(onMessage(message)));
  client.on(Events.InteractionCreate, (interaction) => void lifecycle.track(onInteraction(interaction)));
  client.on(Events.Error, (err) => logger.error({ err }, 'discord client error'));
  client.on(Events.Warn, (warning) => logger.warn({ warning }, 'discord client warning'));
  client.on(Events.ShardDisconnect, (event, shardId) => logger.warn({ shardId, code: event.code }, 'gateway disconnected'));
  client.on(Events.ShardResume, (shardId, replayed) => logger.info({ shardId, replayed }, 'gateway resumed'));
  // Every response's rate-limit headers teach the pacers Discord's buckets; a 429 holds its bucket (or the bot) for its Retry-After.
  client.rest.on(RESTEvents.Response, (request, response) => {
    const headers = readRateHeaders((name) => response.headers.get(name));
    pacers.observe(request.method, request.path, response.status, headers);
    metrics.discordResponse(request.path, response.status);
    // `route` has the interaction token replaced; the path does not, so it is never logged.
    if (response.status === 429) logger.warn({ route: request.route, retryAfterMs: headers.retryAfterMs, global: headers.global, scope: headers.scope }, 'discord rate limit');
  });
  // discord.js also waits on its own when a bucket it tracks is empty: routine, since the pacer sends right at Discord's reset.
  client.rest.on(RESTEvents.RateLimited, (info) => logger.debug({ route: info.route, timeToReset: info.timeToReset, global: info.global }, 'discord.js waited for a bucket'));

  metrics.observe({
    streamsInFlight: () => chat.activeCount,
    queues: () => ({ sogni: sogni.queue.waiting }),
    gateways: () => [...client.ws.shards.values()].map((shard) => ({ shard: shard.id, up: shard.status === Status.Ready })),
    guilds: () => client.guilds.cache.size,
  });
  // With shards, one of them does what needs doing once for the whole bot (discord.js sets client.shard in shard processes).
  const leader = () => !client.shard || client.shard.ids.includes(0);

  // Ledger entries (400 days), media jobs (30 days) and offers (10 minutes) expire; keyv drops them only when read.
  let pruneTimer: ReturnType<typeof setInterval> | undefined;
  const prune = () =>
    store.prune().then(
      (n) => n > 0 && logger.info({ pruned: n }, 'expired store entries pruned'),
      (err: unknown) => logger.warn({ err }, 'could not prune expired store entries'),
    );

  return {
    client,
    deps,
    store,
    metrics,
    lifecycle,
    health: () => processHealth(client, store, lifecycle.draining),
    async start() {
      if (leader()) {
        void prune();
        pruneTimer = setInterval(() => void prune(), PRUNE_EVERY_MS).unref();
      }
      const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
      await client.login(config.DISCORD_TOKEN);
      await ready;
      logger.info({ user: client.user?.tag, guilds: client.guilds.cache.size }, 'connected to Discord');
      if (client.isReady()) void warnAboutSetup(client, logger);
      // Media runs a previous process left unfinished are finished (shown once, charged once), each
      // by the shard that serves its guild (DMs by shard 0), so two live shards never follow one run.
      void media.runs.resumeAll((run) => !client.shard || (run.scope.startsWith('dm:') ? leader() : client.guilds.cache.has(run.scope)));
      // One shard registers (Discord allows 200 command updates a day); the others would only repeat it.
      if (!leader()) return;
      try {
        await registerCommands({
          rest: client.rest,
          applicationId: client.application?.id ?? client.user?.id ?? '',
          guildId: config.DEV_GUILD_ID,
          definitions: definitionsFor(config),
          meta,
          logger,
        });
      } catch (err) {
        // The bot still answers mentions; commands can be registered with npm run deploy-commands.
        logger.error({ err }, 'could not register slash commands');
      }
    },
    async stop({ graceMs = 0 } = {}) {
      clearInterval(pruneTimer);
      const finished = await lifecycle.drain(graceMs);
      if (!finished) logger.info({ inFlight: lifecycle.inFlight, graceMs }, 'grace period over; ending the answers still running');
      await chat.shutdown();
      await media.runs.detach();
      await Promise.race([lifecycle.abortRest(), new Promise((resolve) => setTimeout(resolve, WIND_DOWN_MS).unref())]);
      // Alerts already decided are posted before the client goes.
      await alerts.idle();
      await client.destroy();
      await net.fetcher.close();
      await store.close();
    },
  };
}

/** One shard process's part of a budget the whole bot shares. */
function shardOf(rule: PacerOptions, shards: number): PacerOptions {
  return shards > 1 ? { ...rule, limit: Math.max(1, Math.floor(rule.limit / shards)) } : rule;
}
