import { createBot } from './bot.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createAppLogger } from './logger.js';
import { loadDotEnv } from './dotenv.js';
import { StoreLockedError } from './store/fileLock.js';
import { isDisallowedIntents, MESSAGE_CONTENT_FIX } from './ops/checks.js';
import { combineHealth } from './ops/health.js';
import { startOpsServer, type OpsServer } from './ops/opsServer.js';
import { runShardManager } from './ops/shardManager.js';
import { serveManager, type ShardMetrics } from './ops/shardIpc.js';
import { shardPlanFrom, type ShardPlan } from './ops/shardPlan.js';
import { onShutdownSignals } from './ops/signals.js';

/**
 * The one entry point: the bot as one process; with SHARDS (or SHARD_IDS), the sharding
 * manager; and, started by that manager, each shard process (discord.js marks those with
 * SHARDING_MANAGER, SHARDS = the shard's id and SHARD_COUNT).
 */
loadDotEnv();
const shardId = process.env['SHARDING_MANAGER'] ? Number(process.env['SHARDS']) : undefined;
let config: Config;
let plan: ShardPlan;
try {
  // In a shard process SHARDS is discord.js's (the shard's own id), not the operator's setting.
  config = loadConfig(shardId === undefined ? process.env : { ...process.env, SHARDS: '' });
  plan = shardId === undefined ? shardPlanFrom(config) : { kind: 'single' };
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`${err.message}\nSee .env.example for every variable.`);
  process.exit(1);
}

// JSON lines (one per event, for log shippers); pretty only when a person watches a terminal.
const rootLogger = createAppLogger(config, { pretty: process.stdout.isTTY });
const logger = shardId === undefined ? rootLogger : rootLogger.child({ shard: shardId });
process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
process.on('uncaughtException', (err) => {
  // State may be broken past this point: log and exit so a supervisor restarts a clean process.
  logger.fatal({ err }, 'uncaught exception');
  process.exit(1);
});

if (plan.kind === 'manager') {
  try {
    await runShardManager(config, logger, plan);
  } catch (err) {
    if (err instanceof ConfigError) console.error(err.message);
    logger.fatal({ err }, 'could not start the shards');
    process.exit(1);
  }
} else {
  let bot: ReturnType<typeof createBot>;
  try {
    bot = createBot(config, logger);
  } catch (err) {
    if (!(err instanceof StoreLockedError)) throw err;
    // One writer per SQLite file: say which file and why, then stop before connecting anywhere.
    logger.fatal({ store: err.path, pid: err.pid }, err.message);
    console.error(err.message);
    process.exit(1);
  }
  const graceMs = config.SHUTDOWN_GRACE_SECONDS * 1000;
  let ops: OpsServer | undefined;
  const shutdown = onShutdownSignals(logger, async () => {
    await bot.stop({ graceMs });
    await ops?.close();
  });
  bot.metrics.collectProcessMetrics();
  if (shardId !== undefined) {
    // The manager serves /healthz and /metrics for every shard; this process answers its questions.
    bot.metrics.registry.setDefaultLabels({ shard: String(shardId) });
    serveManager({
      health: () => bot.health(),
      metrics: async () => (await bot.metrics.registry.getMetricsAsJSON()) as ShardMetrics,
      shutdown: () => shutdown('the shard manager is stopping'),
    });
    // The manager is gone (killed): finish up rather than run on unsupervised.
    process.on('disconnect', () => shutdown('the shard manager went away'));
  } else if (config.HEALTH_PORT !== undefined) {
    ops = await startOpsServer({
      host: config.HEALTH_HOST,
      port: config.HEALTH_PORT,
      health: async () => combineHealth([await bot.health()]),
      metrics: async () => ({ contentType: bot.metrics.contentType(), body: await bot.metrics.text() }),
      logger,
    });
  }

  try {
    await bot.start();
  } catch (err) {
    if (isDisallowedIntents(err)) logger.fatal({ fix: MESSAGE_CONTENT_FIX }, 'Discord refused the Message Content intent');
    else logger.fatal({ err }, 'could not start the bot');
    await bot.stop().catch(() => {});
    await ops?.close();
    process.exit(1);
  }
}
