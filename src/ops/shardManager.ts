import { fileURLToPath } from 'node:url';
import { ShardingManager, type Shard } from 'discord.js';
import { AggregatorRegistry, collectDefaultMetrics, Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { combineHealth, type HealthReport, type ProcessHealth } from './health.js';
import { startOpsServer, type OpsServer } from './opsServer.js';
import { askShard, tellShardToStop, type ShardMetrics } from './shardIpc.js';
import { checkStore, fetchGatewayInfo, identifyWaves, type ShardPlan } from './shardPlan.js';
import { onShutdownSignals } from './signals.js';

/** The entry point every shard process runs: the same file as without sharding. */
const ENTRY = fileURLToPath(new URL('../main.ts', import.meta.url));
/** Discord allows one identify per rate-limit key every 5 s; a little more for clock skew. */
const IDENTIFY_INTERVAL_MS = 5500;
/** How long a shard process may take to log in and receive its guilds. */
const SPAWN_TIMEOUT_MS = 60_000;
/** A shard's answer to a health or metrics question. */
const ASK_TIMEOUT_MS = 3000;
/** Shards that crash again soon after a restart wait longer each time, up to this. */
const MAX_RESPAWN_DELAY_MS = 60_000;
/** A shard up this long has recovered: its next crash restarts it at once again. */
const HEALTHY_AFTER_MS = 5 * 60_000;
/** Beyond SHUTDOWN_GRACE_SECONDS, what shard processes get to close their store and exit. */
const EXIT_MARGIN_MS = 15_000;

export interface RunningManager {
  manager: ShardingManager;
  ids: number[];
  count: number;
  ops?: OpsServer;
}

/**
 * Runs discord.js's ShardingManager: one process per shard, spawned in identify waves,
 * restarted with backoff when one dies (the others keep answering), asked for health and
 * metrics through IPC, and told to shut down gracefully on SIGTERM.
 */
export async function runShardManager(config: Config, rootLogger: Logger, plan: Extract<ShardPlan, { kind: 'manager' }>): Promise<RunningManager> {
  const logger = rootLogger.child({ role: 'manager' });
  const gateway = await fetchGatewayInfo(config);
  const count = plan.count === 'auto' ? gateway.shards : plan.count;
  checkStore(config, count);
  const ids = plan.ids === 'all' ? Array.from({ length: count }, (_, i) => i) : plan.ids;
  const manager = new ShardingManager(ENTRY, {
    totalShards: count,
    shardList: ids,
    mode: 'process',
    // Restarts are ours (with backoff), so a shard that crashes at once cannot hammer Discord's identify.
    respawn: false,
    token: config.DISCORD_TOKEN,
    execArgv: process.execArgv,
  });
  logger.info({ shards: ids, count, maxConcurrency: gateway.maxConcurrency }, 'starting shards');

  let stopping = false;
  const crashes = new Map<number, { streak: number; since: number }>();
  const watch = (shard: Shard) => {
    shard.on('spawn', (child) => logger.info({ shard: shard.id, childPid: 'pid' in child ? child.pid : undefined }, 'shard process started'));
    shard.on('ready', () => logger.info({ shard: shard.id }, 'shard ready'));
    shard.on('error', (err) => logger.error({ err, shard: shard.id }, 'shard error'));
    shard.on('death', (died) => {
      const child = 'pid' in died ? { pid: died.pid, exitCode: died.exitCode } : { pid: undefined, exitCode: undefined };
      if (stopping) {
        logger.info({ shard: shard.id, code: child.exitCode }, 'shard process stopped');
        return;
      }
      const now = Date.now();
      const last = crashes.get(shard.id);
      const streak = last && now - last.since < HEALTHY_AFTER_MS ? last.streak + 1 : 1;
      crashes.set(shard.id, { streak, since: now });
      const delay = Math.min(1000 * 2 ** (streak - 1), MAX_RESPAWN_DELAY_MS);
      logger.error({ shard: shard.id, childPid: child.pid, code: child.exitCode, restartInMs: delay }, 'shard process died; restarting it');
      setTimeout(() => {
        if (!stopping) spawn(shard);
      }, delay).unref();
    });
  };
  const spawn = (shard: Shard) =>
    shard.spawn(SPAWN_TIMEOUT_MS).catch((err: unknown) => logger.error({ err, shard: shard.id }, 'shard did not become ready'));

  const ownMetrics = new Registry();
  ownMetrics.setDefaultLabels({ shard: 'manager' });
  collectDefaultMetrics({ register: ownMetrics });
  const running = () => ids.map((id) => manager.shards.get(id)).filter((s): s is Shard => s?.process != null);
  const health = async (): Promise<HealthReport> => {
    const missing: string[] = [];
    const parts: ProcessHealth[] = [];
    await Promise.all(
      ids.map(async (id) => {
        const shard = manager.shards.get(id);
        if (!shard?.process) {
          missing.push(`shard ${id}: process not running`);
          return;
        }
        try {
          parts.push(await askShard(shard, 'health', ASK_TIMEOUT_MS));
        } catch {
          missing.push(`shard ${id}: not answering`);
        }
      }),
    );
    const report = combineHealth(parts, missing.sort());
    return stopping ? { ...report, status: 'stopping', reasons: [...report.reasons, 'shutting down'] } : report;
  };
  const metrics = async () => {
    const answers = await Promise.allSettled(running().map((shard) => askShard(shard, 'metrics', ASK_TIMEOUT_MS)));
    const perShard = answers.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
    const all: ShardMetrics[] = [...perShard, (await ownMetrics.getMetricsAsJSON()) as ShardMetrics];
    // Series carry their shard as a label, so the aggregate keeps them apart where that matters (per-shard gauges).
    const registry = AggregatorRegistry.aggregate(all);
    return { contentType: registry.contentType, body: await registry.metrics() };
  };
  const result: RunningManager = { manager, ids, count };
  if (config.HEALTH_PORT !== undefined) {
    result.ops = await startOpsServer({ host: config.HEALTH_HOST, port: config.HEALTH_PORT, health, metrics, logger });
  }

  onShutdownSignals(
    logger,
    async () => {
      stopping = true;
      const shards = running();
      const exited = Promise.all(shards.map((shard) => new Promise<void>((resolve) => (shard.process ? shard.once('death', () => resolve()) : resolve()))));
      // Each shard finishes its answers (SHUTDOWN_GRACE_SECONDS), closes its store and exits 0.
      await Promise.allSettled(shards.map((shard) => tellShardToStop(shard)));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), config.SHUTDOWN_GRACE_SECONDS * 1000 + EXIT_MARGIN_MS)));
      if ((await Promise.race([exited, late])) === 'late') {
        logger.warn('shards did not exit in time; killing them');
        for (const shard of running()) shard.kill();
      }
      clearTimeout(timer);
      await result.ops?.close();
    },
    () => {
      for (const shard of running()) shard.process?.kill('SIGKILL');
    },
  );

  for (const shard of ids.map((id) => manager.createShard(id))) watch(shard);
  const waves = identifyWaves(ids, gateway.maxConcurrency);
  for (const [i, wave] of waves.entries()) {
    if (stopping) break;
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, IDENTIFY_INTERVAL_MS));
    await Promise.all(wave.map((id) => spawn(manager.shards.get(id) as Shard)));
  }
  // The server count needs every shard: the manager asks them.
  if (!stopping) void health().then((report) => logger.info({ status: report.status, guilds: report.guilds, shards: report.shards.length }, 'all shards started'));
  return result;
}
