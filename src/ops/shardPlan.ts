import { REST, Routes, type RESTGetAPIGatewayBotResult } from 'discord.js';
import { ConfigError, type Config } from '../config.js';
import { storeKind } from '../store/openStore.js';

/**
 * How this machine runs the bot: one process as always, or discord.js's ShardingManager with
 * one process per shard (all of them, or the slice SHARD_IDS of SHARD_COUNT).
 */
export type ShardPlan =
  | { kind: 'single' }
  | { kind: 'manager'; ids: number[] | 'all'; count: number | 'auto' };

/** Where the gateway says to connect, and how many shards may identify at once. */
export interface GatewayInfo {
  shards: number;
  maxConcurrency: number;
}

export type ShardConfig = Pick<Config, 'SHARDS' | 'SHARD_IDS' | 'SHARD_COUNT' | 'STORE_URL'>;

/** The plan the environment asks for; every inconsistency is a ConfigError naming the variables. */
export function shardPlanFrom(config: ShardConfig): ShardPlan {
  const { SHARDS, SHARD_IDS, SHARD_COUNT } = config;
  if (SHARDS === undefined && SHARD_IDS === undefined) {
    if (SHARD_COUNT !== undefined) throw new ConfigError(['SHARD_COUNT needs SHARD_IDS (the shards this machine runs) or SHARDS']);
    return { kind: 'single' };
  }
  if (SHARD_IDS !== undefined) {
    if (SHARD_COUNT === undefined) throw new ConfigError(['SHARD_IDS needs SHARD_COUNT (the total number of shards on every machine)']);
    if (SHARDS !== undefined && SHARDS !== SHARD_COUNT) throw new ConfigError(['SHARDS must be unset or equal SHARD_COUNT when SHARD_IDS is set']);
    const ids = parseShardIds(SHARD_IDS);
    const outside = ids.filter((id) => id >= SHARD_COUNT);
    if (outside.length > 0) throw new ConfigError([`SHARD_IDS ${outside.join(', ')} must be below SHARD_COUNT (${SHARD_COUNT}): shard ids run from 0`]);
    checkStore(config, SHARD_COUNT);
    return { kind: 'manager', ids, count: SHARD_COUNT };
  }
  if (SHARDS === 'auto') {
    if (SHARD_COUNT !== undefined) throw new ConfigError(["SHARD_COUNT must be unset with SHARDS=auto (Discord's recommended count is used)"]);
    return { kind: 'manager', ids: 'all', count: 'auto' };
  }
  if (SHARD_COUNT !== undefined && SHARD_COUNT !== SHARDS) throw new ConfigError(['SHARD_COUNT must be unset or equal SHARDS']);
  checkStore(config, SHARDS ?? 1);
  return { kind: 'manager', ids: 'all', count: SHARDS ?? 1 };
}

/**
 * Several shard processes need one store they can all write: a SQLite file has one writer
 * (and another machine's file is another state), so history, limits and spend would split.
 */
export function checkStore(config: Pick<Config, 'STORE_URL'>, count: number): void {
  if (count > 1 && storeKind(config.STORE_URL) === 'sqlite') {
    throw new ConfigError([
      `STORE_URL must be a redis:// or postgres:// URL to run ${count} shards: a SQLite file has one writer, so shard processes could not share history, limits and spend`,
    ]);
  }
}

/** `0,2,5-7` → [0, 2, 5, 6, 7]. */
export function parseShardIds(text: string): number[] {
  const ids = new Set<number>();
  for (const part of text.split(',')) {
    const [from, to = from] = part.split('-').map(Number) as [number, number?];
    if (to < from) throw new ConfigError([`SHARD_IDS range ${part} runs backwards`]);
    for (let id = from; id <= to; id++) ids.add(id);
  }
  return [...ids].sort((a, b) => a - b);
}

/** GET /gateway/bot (through DISCORD_API_URL when set): the recommended shard count and the identify concurrency. */
export async function fetchGatewayInfo(config: Pick<Config, 'DISCORD_TOKEN' | 'DISCORD_API_URL'>): Promise<GatewayInfo> {
  const rest = new REST(config.DISCORD_API_URL ? { api: config.DISCORD_API_URL } : {}).setToken(config.DISCORD_TOKEN);
  const info = (await rest.get(Routes.gatewayBot())) as RESTGetAPIGatewayBotResult;
  return { shards: info.shards, maxConcurrency: Math.max(1, info.session_start_limit.max_concurrency) };
}

/**
 * Shards that may identify together: Discord lets `maxConcurrency` shards (one per rate-limit
 * key, `id % maxConcurrency`) identify every 5 seconds.
 */
export function identifyWaves(ids: readonly number[], maxConcurrency: number): number[][] {
  const waves: number[][] = [];
  const next = new Map<number, number>();
  for (const id of ids) {
    const key = id % maxConcurrency;
    const wave = next.get(key) ?? 0;
    next.set(key, wave + 1);
    (waves[wave] ??= []).push(id);
  }
  return waves;
}
