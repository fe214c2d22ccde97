import { Client, Events, GatewayIntentBits, Options, Partials, RESTEvents } from 'discord.js';
import { definitionsFor, registry } from '../commands/index.js';
import { ChatService } from './chat/chatService.js';
import type { Config } from './config.js';
import { PacerRegistry, type PacerOptions } from './core/editPacer.js';
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
  /** Logs in, waits for the gateway to be ready and registers the slash commands. */
  start(): Promise<void>;
  /** Finishes answers in progress with a notice, then disconnects and closes the store. */
  stop(): Promise<void>;
}

/** Builds the whole bot from a validated config: one client, one store, one Sogni client, passed down. */
export function createBot(config: Config, logger: Logger, overrides: BotOverrides = {}): Bot {
  const store = openStore(config.STORE_URL);
  const history = new HistoryStore(store.namespace<Turn[]>('history'), { maxImages: config.MAX_HISTORY_IMAGES });
  const meta = store.namespace<string>('meta');
  const sogni = new Sogni({
    apiKey: config.SOGNI_API_KEY,
    baseURL: config.SOGNI_BASE_URL,
    timeoutSeconds: config.SOGNI_TIMEOUT_SECONDS,
    mediaTimeoutSeconds: config.MEDIA_TIMEOUT_SECONDS,
    // One line for the whole bot: Sogni's limit is per key, shared by everyone.
    queue: new FairQueue({
      limit: config.SOGNI_RATE_LIMIT,
      windowMs: overrides.sogniRateWindowMs ?? SOGNI_RATE_WINDOW_MS,
      marginMs: 250,
      maxActivePerUser: config.USER_MAX_ACTIVE,
    }),
    maxRateLimitWaitMs: overrides.sogniMaxRateLimitWaitMs ?? MAX_RATE_LIMIT_WAIT_MS,
    tokenType: config.TOKEN_TYPE,
  });
  const pacers = new PacerRegistry(overrides.pacing);
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
  const ledger = new SpendLedger(store.namespace('spend'), (scope) => defaultLimits(config, scope));
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
  const deps: Deps = { config, logger, chat, history, models, media, ledger, settings, readAttachments: readWithLimits, net };

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
    rest: config.DISCORD_API_URL ? { api: config.DISCORD_API_URL } : {},
    // The bot needs a message only while it answers it: bound the cache for servers with many channels.
    makeCache: Options.cacheWithLimits({ ...Options.DefaultMakeCacheSettings, MessageManager: 50 }),
    sweepers: { ...Options.DefaultSweeperSettings, messages: { interval: 900, lifetime: 1800 } },
  });

  media.runs.present(createRunPresenter({ client, pacers, net, logger }));
  const onMessage = createMessageHandler(deps);
  const onInteraction = createInteractionHandler(deps, registry);
  client.on(Events.MessageCreate, (message) => void onMessage(message));
  client.on(Events.InteractionCreate, (interaction) => void onInteraction(interaction));
  client.on(Events.Error, (err) => logger.error({ err }, 'discord client error'));
  client.on(Events.Warn, (warning) => logger.warn({ warning }, 'discord client warning'));
  client.on(Events.ShardDisconnect, (event, shardId) => logger.warn({ shardId, code: event.code }, 'gateway disconnected'));
  client.on(Events.ShardResume, (shardId, replayed) => logger.info({ shardId, replayed }, 'gateway resumed'));
  // If Discord still says "slow down" for a channel, every answer there backs off together.
  client.rest.on(RESTEvents.RateLimited, (info) => {
    logger.warn({ route: info.route, retryAfter: info.retryAfter, global: info.global }, 'discord rate limit');
    if (info.route.startsWith('/channels/:id/messages')) pacers.channel(info.majorParameter).pauseUntil(Date.now() + info.retryAfter);
  });

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
    async start() {
      void prune();
      pruneTimer = setInterval(() => void prune(), PRUNE_EVERY_MS).unref();
      const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
      await client.login(config.DISCORD_TOKEN);
      await ready;
      logger.info({ user: client.user?.tag, guilds: client.guilds.cache.size }, 'connected to Discord');
      // Media runs a previous process left unfinished are finished (shown once, charged once).
      void media.runs.resumeAll();
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
    async stop() {
      clearInterval(pruneTimer);
      await chat.shutdown();
      await media.runs.detach();
      await client.destroy();
      await net.fetcher.close();
      await store.close();
    },
  };
}
