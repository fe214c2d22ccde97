import { ApplicationCommandOptionType } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { combineHealth } from '../../src/ops/health.js';
import { startOpsServer, type OpsServer } from '../../src/ops/opsServer.js';
import { startHarness, type Harness } from '../fakes/harness.js';
import { getJson, waitForAsync } from './botProcess.js';
import { parseMetrics, sampleValue } from './promText.js';

/** /healthz and /metrics as main.ts serves them without sharding, on the real bot against the fakes. */

let h: Harness | undefined;
let ops: OpsServer | undefined;
afterEach(async () => {
  await ops?.close();
  ops = undefined;
  await h?.close();
  h = undefined;
});

async function serve(harness: Harness): Promise<string> {
  const { bot } = harness;
  bot.metrics.collectProcessMetrics();
  ops = await startOpsServer({
    host: '127.0.0.1',
    port: 0,
    health: async () => combineHealth([await bot.health()]),
    metrics: async () => ({ contentType: bot.metrics.contentType(), body: await bot.metrics.text() }),
    logger: harness.bot.deps.logger,
  });
  return `http://127.0.0.1:${ops.port}`;
}

describe('/healthz', () => {
  it('answers 200 {"status":"ok"} when the gateway is connected and the store answers', async () => {
    h = await startHarness();
    const base = await serve(h);
    const health = await getJson(`${base}/healthz`);
    expect(health?.status).toBe(200);
    expect(health?.body).toEqual({ status: 'ok', reasons: [], shards: [{ shard: 0, status: 'ready' }], store: 'ok', guilds: 1 });
  });

  it('answers 503 naming the store when the store stops answering', async () => {
    h = await startHarness();
    const base = await serve(h);
    await h.bot.store.adapter.disconnect?.();
    const health = await getJson(`${base}/healthz`);
    expect(health?.status).toBe(503);
    expect(health?.body['status']).toBe('unhealthy');
    expect(health?.body['reasons']).toEqual([expect.stringMatching(/^store: not answering/)]);
  });

  it('answers 503 naming the gateway while Discord cannot be reached, and 200 again once it can', async () => {
    h = await startHarness();
    const base = await serve(h);
    const discord = h.discord;
    discord.gatewayRefused = true;
    discord.dropGateway(4000);
    const down = await waitForAsync(async () => {
      const health = await getJson(`${base}/healthz`);
      return health?.status === 503 ? health : undefined;
    }, 10_000, 'unhealthy');
    expect(String((down.body['reasons'] as string[])[0])).toMatch(/^gateway shard 0: /);
    discord.gatewayRefused = false;
    await waitForAsync(async () => (await getJson(`${base}/healthz`))?.status === 200, 30_000, 'healthy again');
  });

  it('says "stopping" (503) once a shutdown has begun', async () => {
    h = await startHarness();
    const base = await serve(h);
    void h.bot.lifecycle.drain(0);
    const health = await getJson(`${base}/healthz`);
    expect(health?.status).toBe(503);
    expect(health?.body).toMatchObject({ status: 'stopping', reasons: ['shutting down'] });
  });
});

describe('/metrics', () => {
  it('is Prometheus text with the named series, counting answers, media jobs, Discord requests and 429s, Sogni latency and spend', async () => {
    // Four requests a second for the whole bot: its start and one answer meet Discord 429s.
    h = await startHarness({ discord: { rateLimit: { globalPerSecond: 4 } } });
    const base = await serve(h);
    const discord = h.discord;
    const secretPrompt = 'the secret plan is pineapples';
    discord.postUserMessage({ content: secretPrompt });
    await discord.waitFor(() => discord.botMessages().some((m) => m.content === 'Hello from the fake Sogni.'), 20_000);
    const imagine = discord.runCommand({ name: 'imagine', options: [{ name: 'prompt', type: ApplicationCommandOptionType.String, value: 'a fox in the snow' }] });
    await discord.waitFor(() => discord.original(imagine)?.attachments.length, 30_000);

    const parsed = await waitForAsync(
      async () => {
        const response = await fetch(`${base}/metrics`);
        expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
        const metrics = parseMetrics(await response.text());
        const counted = sampleValue(metrics, 'sogni_bot_answers_total', { outcome: 'ok' }) === 1 && sampleValue(metrics, 'sogni_bot_media_jobs_total', { outcome: 'ok' }) === 1;
        return counted ? metrics : undefined;
      },
      10_000,
      'answer and media job counted',
    );
    const families: Record<string, string> = {
      sogni_bot_answers_total: 'counter',
      sogni_bot_media_jobs_total: 'counter',
      sogni_bot_streams_in_flight: 'gauge',
      sogni_bot_discord_requests_total: 'counter',
      sogni_bot_discord_rate_limited_total: 'counter',
      sogni_bot_sogni_request_seconds: 'histogram',
      sogni_bot_sogni_first_token_seconds: 'histogram',
      sogni_bot_spark_spent: 'gauge',
      sogni_bot_queue_waiting: 'gauge',
      sogni_bot_gateway_up: 'gauge',
      process_cpu_user_seconds_total: 'counter',
      process_resident_memory_bytes: 'gauge',
      nodejs_eventloop_lag_seconds: 'gauge',
    };
    for (const [name, type] of Object.entries(families)) expect(parsed.types.get(name), name).toBe(type);
    expect(sampleValue(parsed, 'sogni_bot_streams_in_flight')).toBe(0);
    expect(sampleValue(parsed, 'sogni_bot_sogni_request_seconds_count', { kind: 'chat', outcome: 'ok' })).toBe(1);
    expect(sampleValue(parsed, 'sogni_bot_sogni_first_token_seconds_count')).toBe(1);
    expect(sampleValue(parsed, 'sogni_bot_spark_spent', { scope: discord.guildId })).toBeGreaterThan(0);
    expect(sampleValue(parsed, 'sogni_bot_queue_waiting', { queue: 'sogni' })).toBe(0);
    expect(sampleValue(parsed, 'sogni_bot_gateway_up', { gateway_shard: '0' })).toBe(1);
    expect(sampleValue(parsed, 'sogni_bot_discord_requests_total', { bucket: 'message' })).toBeGreaterThan(0);
    // Every 429 the fake Discord sent was counted, by bucket kind.
    expect(discord.rateLimited).toBeGreaterThan(0);
    const counted429s = parsed.samples.filter((s) => s.name === 'sogni_bot_discord_rate_limited_total').reduce((n, s) => n + s.value, 0);
    expect(counted429s).toBe(discord.rateLimited);
    // Nothing a scrape could leak: no token, no key, no message text, no user ids.
    const text = await fetch(`${base}/metrics`).then((r) => r.text());
    for (const secret of [discord.token, h.sogni.apiKey, secretPrompt, 'pineapples', 'fox in the snow']) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/userId|user_id/);
  });
});
