import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createBot, type Bot, type BotOverrides } from '../../src/bot.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createAppLogger } from '../../src/logger.js';
import { FakeDiscord, type FakeDiscordOptions } from './fakeDiscord.js';
import { FakeSogni } from './fakeSogni.js';

export interface Harness {
  discord: FakeDiscord;
  sogni: FakeSogni;
  bot: Bot;
  config: Config;
  /** Every log line the bot wrote, parsed. */
  logs: Record<string, unknown>[];
  /** The raw log text, for "never logs a secret" checks. */
  logText(): string;
  storeDir: string;
  /** Stops the bot only (keeps the fakes and the store), e.g. to restart it. */
  stopBot(): Promise<void>;
  /** Starts another bot on the same fakes and store. */
  restartBot(): Promise<Bot>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  discord?: FakeDiscordOptions;
  env?: Record<string, string>;
  overrides?: BotOverrides;
  /** Reuse a store folder (a restart across harnesses). */
  storeDir?: string;
}

/** The real bot (discord.js client, openai SDK, SQLite file) wired to the fakes on loopback. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const discord = await new FakeDiscord(options.discord).start();
  const sogni = await new FakeSogni().start();
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'sogni-bot-'));
  const config = loadConfig({
    DISCORD_TOKEN: discord.token,
    SOGNI_API_KEY: sogni.apiKey,
    SOGNI_BASE_URL: sogni.baseUrl,
    DISCORD_API_URL: discord.apiUrl,
    STORE_URL: `sqlite://${join(storeDir, 'bot.sqlite')}`,
    LOG_LEVEL: 'debug',
    ...options.env,
  });
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  // The logger main.ts builds, so every end-to-end test also checks what reaches the logs.
  const logger = createAppLogger(config, { destination });
  let bot = createBot(config, logger, options.overrides);
  await bot.start();
  let stopped = false;
  const harness: Harness = {
    discord,
    sogni,
    get bot() {
      return bot;
    },
    config,
    get logs() {
      return lines.flatMap((l) => l.split('\n').filter(Boolean)).map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    logText: () => lines.join(''),
    storeDir,
    async stopBot() {
      if (stopped) return;
      stopped = true;
      await bot.stop();
    },
    async restartBot() {
      await harness.stopBot();
      bot = createBot(config, logger, options.overrides);
      await bot.start();
      stopped = false;
      return bot;
    },
    async close() {
      await harness.stopBot();
      await discord.stop();
      await sogni.stop();
      if (!options.storeDir) rmSync(storeDir, { recursive: true, force: true });
    },
  };
  return harness;
}
