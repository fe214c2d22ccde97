import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiscord, shardOf } from '../fakes/fakeDiscord.js';
import { FakeSogni } from '../fakes/fakeSogni.js';
import { snowflake } from '../fakes/snowflake.js';
import { backendsToTest, freePort, startServer, type TestServer } from '../store/servers.js';
import { getJson, startBotProcess, waitForAsync, type BotProcess } from './botProcess.js';
import { isAlive, parseMetrics, sampleValue } from './promText.js';

/**
 * The sharded entry point, as an operator runs it: `SHARDS=2 npm start` against the fake
 * Discord (which recommends 2 shards and routes each guild's events to its shard only), on a
 * shared Redis. Two shard processes, one manager, health and metrics through the manager.
 */

const DISCORD_EPOCH = 1420070400000;
/** A guild id Discord routes to `shard` of `count`: the shard is the id's timestamp modulo the count. */
function guildOnShard(shard: number, count: number): string {
  let at = Date.now() - 60_000;
  while ((at - DISCORD_EPOCH) % count !== shard) at -= 1;
  return snowflake(at);
}

const redisAvailable = backendsToTest().available.includes('redis');
if (!redisAvailable) console.warn('[sharding tests] skipping: shard processes need a shared store and redis-server is not installed');

describe.skipIf(!redisAvailable)('SHARDS=2: one process per shard behind a sharding manager', () => {
  let redis: TestServer;
  let discord: FakeDiscord;
  let sogni: FakeSogni;
  let bot: BotProcess;
  let healthUrl: string;
  let metricsUrl: string;
  const onShard0 = guildOnShard(0, 2);
  const onShard1 = guildOnShard(1, 2);

  beforeAll(async () => {
    redis = await startServer('redis');
    // max_concurrency 2: both shards may identify at once, so the test does not wait 5 s between them.
    discord = await new FakeDiscord({ shards: 2, maxConcurrency: 2, extraGuildIds: [onShard0, onShard1] }).start();
    sogni = await new FakeSogni().start();
    const port = await freePort();
    healthUrl = `http://127.0.0.1:${port}/healthz`;
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    bot = startBotProcess({
      DISCORD_TOKEN: discord.token,
      SOGNI_API_KEY: sogni.apiKey,
      SOGNI_BASE_URL: sogni.baseUrl,
      DISCORD_API_URL: discord.apiUrl,
      STORE_URL: redis.url,
      SHARDS: '2',
      HEALTH_PORT: String(port),
      SHUTDOWN_GRACE_SECONDS: '5',
      ALLOW_DMS: 'true',
      LOG_LEVEL: 'info',
    });
    await waitForAsync(async () => (await getJson(healthUrl))?.status === 200, 90_000, 'healthy with both shards');
  }, 120_000);

  afterAll(async () => {
    bot?.kill('SIGKILL');
    for (const line of bot?.logs ?? []) if (typeof line['childPid'] === 'number' && isAlive(line['childPid'])) process.kill(line['childPid'], 'SIGKILL');
    await discord?.stop();
    await sogni?.stop();
    await redis?.stop();
  });

  it('starts one process per shard, each identifying with its own [shard_id, 2], and reports both healthy', async () => {
    expect(discord.identifies.map((i) => i.shard).sort()).toEqual([
      [0, 2],
      [1, 2],
    ]);
    const health = await getJson(healthUrl);
    expect(health?.body).toMatchObject({ status: 'ok', reasons: [], store: 'ok', shards: [{ shard: 0, status: 'ready' }, { shard: 1, status: 'ready' }] });
    // Every guild is served by exactly one shard.
    expect(health?.body['guilds']).toBe(3);
  });

  /** The text channel of a test guild. */
  const channelIn = (guildId: string): string => {
    const channel = discord.extraGuilds.get(guildId)?.[0];
    if (!channel) throw new Error(`no channel in ${guildId}`);
    return channel;
  };

  it('answers a mention in a guild on shard 1 once, from shard 1, and one on shard 0 from shard 0', async () => {
    expect(shardOf(onShard1, 2)).toBe(1);
    const channel1 = channelIn(onShard1);
    const channel0 = channelIn(onShard0);
    discord.postUserMessage({ content: 'which shard are you?', channelId: channel1 });
    await discord.waitFor(() => discord.botMessages(channel1).some((m) => m.content === 'Hello from the fake Sogni.'), 20_000);
    discord.postUserMessage({ content: 'and you?', channelId: channel0 });
    await discord.waitFor(() => discord.botMessages(channel0).some((m) => m.content === 'Hello from the fake Sogni.'), 20_000);
    await bot.waitForLog((l) => l['msg'] === 'answer finished' && l['channelId'] === channel0, 10_000, 'shard 0 answer logged');
    const answered = (channel: string) => bot.logs.filter((l) => l['msg'] === 'answer finished' && l['channelId'] === channel).map((l) => l['shard']);
    expect(answered(channel1)).toEqual([1]);
    expect(answered(channel0)).toEqual([0]);
    expect(discord.botMessages(channel1)).toHaveLength(1);
    expect(sogni.chatCalls()).toHaveLength(2);
  });

  it('answers DMs from shard 0, where Discord sends them', async () => {
    discord.postDirectMessage({ content: 'a private question' });
    await discord.waitFor(() => discord.botMessages(discord.dmChannelId).some((m) => m.content === 'Hello from the fake Sogni.'), 20_000);
    await bot.waitForLog((l) => l['msg'] === 'answer finished' && l['channelId'] === discord.dmChannelId, 10_000, 'DM answer logged');
    expect(bot.logs.filter((l) => l['msg'] === 'answer finished' && l['channelId'] === discord.dmChannelId).map((l) => l['shard'])).toEqual([0]);
  });

  it('aggregates every shard’s metrics in the manager’s /metrics', async () => {
    const samples = await waitForAsync(
      async () => {
        const text = await fetch(metricsUrl).then((r) => r.text());
        const parsed = parseMetrics(text);
        const counted = sampleValue(parsed, 'sogni_bot_answers_total', { outcome: 'ok', shard: '1' }) === 1 && sampleValue(parsed, 'sogni_bot_answers_total', { outcome: 'ok', shard: '0' }) === 2;
        return counted ? parsed : undefined;
      },
      10_000,
      'answer counted',
    );
    // Shard 0 answered its guild's mention and the DM; shard 1 its guild's mention.
    expect(sampleValue(samples, 'sogni_bot_answers_total', { outcome: 'ok', shard: '0' })).toBe(2);
    expect(sampleValue(samples, 'sogni_bot_gateway_up', { gateway_shard: '1', shard: '1' })).toBe(1);
    expect(sampleValue(samples, 'process_resident_memory_bytes', { shard: 'manager' })).toBeGreaterThan(0);
  });

  it('restarts a killed shard while the other keeps answering', async () => {
    const started = (shard: number) => bot.logs.filter((l) => l['msg'] === 'shard process started' && l['shard'] === shard);
    const pid = started(1).at(-1)?.['childPid'];
    if (typeof pid !== 'number') throw new Error('no pid for shard 1');
    const identifiesBefore = discord.identifies.length;
    process.kill(pid, 'SIGKILL');
    // The manager notices at once; /healthz says which shard is down until it is back.
    const down = await waitForAsync(async () => {
      const health = await getJson(healthUrl);
      return health?.status === 503 ? health : undefined;
    }, 10_000, 'unhealthy while shard 1 is down');
    expect(JSON.stringify(down.body['reasons'])).toMatch(/shard 1/);
    const channel0 = channelIn(onShard0);
    discord.postUserMessage({ content: 'still there?', channelId: channel0 });
    await discord.waitFor(() => (discord.botMessages(channel0).filter((m) => m.content === 'Hello from the fake Sogni.').length === 2), 20_000);

    await bot.waitForLog((l) => l['msg'] === 'shard process started' && l['shard'] === 1 && l['childPid'] !== pid, 30_000, 'shard 1 restarted');
    await discord.waitFor(() => discord.identifies.slice(identifiesBefore).some((i) => i.shard[0] === 1), 60_000);
    await waitForAsync(async () => (await getJson(healthUrl))?.status === 200, 60_000, 'healthy again');
    const channel1 = channelIn(onShard1);
    discord.postUserMessage({ content: 'back?', channelId: channel1 });
    await discord.waitFor(() => discord.botMessages(channel1).filter((m) => m.content === 'Hello from the fake Sogni.').length === 2, 20_000);
  }, 120_000);

  it('stops every shard on SIGTERM and exits 0', async () => {
    const pids = bot.logs.filter((l) => l['msg'] === 'shard process started').map((l) => l['childPid'] as number);
    bot.kill('SIGTERM');
    expect(await bot.exited).toBe(0);
    expect(pids.filter((pid) => isAlive(pid))).toEqual([]);
    expect(bot.logs.filter((l) => l['msg'] === 'shard process stopped').map((l) => l['code'])).toEqual([0, 0]);
  }, 60_000);
});
