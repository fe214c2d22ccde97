import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { fetchGatewayInfo, identifyWaves, parseShardIds, shardPlanFrom, type ShardConfig } from '../../src/ops/shardPlan.js';
import { FakeDiscord } from '../fakes/fakeDiscord.js';

const redis = 'redis://127.0.0.1:6379';
const plan = (config: Partial<ShardConfig>) => shardPlanFrom({ STORE_URL: redis, ...config } as ShardConfig);
const problems = (config: Partial<ShardConfig>): string[] => {
  try {
    plan(config);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
};

describe('shardPlanFrom', () => {
  it('runs one process as today without SHARDS or SHARD_IDS', () => {
    expect(plan({})).toEqual({ kind: 'single' });
  });

  it('runs every shard for SHARDS=N and Discord’s count for SHARDS=auto', () => {
    expect(plan({ SHARDS: 4 })).toEqual({ kind: 'manager', ids: 'all', count: 4 });
    expect(plan({ SHARDS: 'auto' })).toEqual({ kind: 'manager', ids: 'all', count: 'auto' });
  });

  it('runs this machine’s slice for SHARD_IDS of SHARD_COUNT', () => {
    expect(plan({ SHARD_IDS: '0-2,5', SHARD_COUNT: 8 })).toEqual({ kind: 'manager', ids: [0, 1, 2, 5], count: 8 });
  });

  it('names the variables of every inconsistent combination', () => {
    expect(problems({ SHARD_COUNT: 2 })).toEqual([expect.stringContaining('SHARD_COUNT needs SHARD_IDS')]);
    expect(problems({ SHARD_IDS: '0' })).toEqual([expect.stringContaining('SHARD_IDS needs SHARD_COUNT')]);
    expect(problems({ SHARD_IDS: '1,4', SHARD_COUNT: 4 })).toEqual([expect.stringContaining('SHARD_IDS 4 must be below SHARD_COUNT (4)')]);
    expect(problems({ SHARDS: 'auto', SHARD_COUNT: 2 })).toEqual([expect.stringContaining('SHARD_COUNT must be unset with SHARDS=auto')]);
    expect(problems({ SHARDS: 3, SHARD_COUNT: 2 })).toEqual([expect.stringContaining('SHARD_COUNT must be unset or equal SHARDS')]);
  });

  it('refuses several shards on one SQLite file, and allows one', () => {
    expect(problems({ SHARDS: 2, STORE_URL: 'sqlite://data/bot.sqlite' })).toEqual([expect.stringMatching(/^STORE_URL must be a redis:\/\/ or postgres:\/\/ URL to run 2 shards/)]);
    expect(plan({ SHARDS: 1, STORE_URL: 'sqlite://data/bot.sqlite' })).toEqual({ kind: 'manager', ids: 'all', count: 1 });
    expect(plan({ SHARDS: 2, STORE_URL: 'postgres://u@db/bot' })).toMatchObject({ kind: 'manager', count: 2 });
  });
});

describe('parseShardIds', () => {
  it('reads lists and ranges, once each, in order', () => {
    expect(parseShardIds('3,0-2,2')).toEqual([0, 1, 2, 3]);
    expect(() => parseShardIds('5-3')).toThrow(ConfigError);
  });
});

describe('identifyWaves', () => {
  it('lets one shard per rate-limit key (id % max_concurrency) identify in each wave', () => {
    expect(identifyWaves([0, 1, 2, 3, 4], 1)).toEqual([[0], [1], [2], [3], [4]]);
    expect(identifyWaves([0, 1, 2, 3, 4], 2)).toEqual([[0, 1], [2, 3], [4]]);
    expect(identifyWaves([1, 3, 5], 2)).toEqual([[1], [3], [5]]);
    expect(identifyWaves([0, 1], 16)).toEqual([[0, 1]]);
  });
});

describe('fetchGatewayInfo', () => {
  let discord: FakeDiscord | undefined;
  afterEach(async () => {
    await discord?.stop();
  });

  it('reads the recommended shard count and the identify concurrency through DISCORD_API_URL', async () => {
    discord = await new FakeDiscord({ shards: 3, maxConcurrency: 2 }).start();
    expect(await fetchGatewayInfo({ DISCORD_TOKEN: discord.token, DISCORD_API_URL: discord.apiUrl })).toEqual({ shards: 3, maxConcurrency: 2 });
  });
});
