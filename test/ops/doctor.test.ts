import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PermissionFlagsBits, REST, Routes } from 'discord.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { definitionsFor } from '../../commands/index.js';
import { inviteUrl } from '../../src/ops/checks.js';
import { FakeDiscord } from '../fakes/fakeDiscord.js';
import { FakeSogni } from '../fakes/fakeSogni.js';
import { startHarness, type Harness } from '../fakes/harness.js';
import { snowflake } from '../fakes/snowflake.js';
import { ROOT, startBotProcess } from './botProcess.js';

/** `npm run doctor` against the fakes: one line per check, each failure with its fix; exit 0 only when all pass. */

let discord: FakeDiscord;
let sogni: FakeSogni;
let dir: string;
beforeEach(async () => {
  discord = await new FakeDiscord().start();
  sogni = await new FakeSogni().start();
  dir = mkdtempSync(join(tmpdir(), 'doctor-'));
});
afterEach(async () => {
  await discord.stop();
  await sogni.stop();
  rmSync(dir, { recursive: true, force: true });
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    DISCORD_TOKEN: discord.token,
    SOGNI_API_KEY: sogni.apiKey,
    SOGNI_BASE_URL: sogni.baseUrl,
    DISCORD_API_URL: discord.apiUrl,
    STORE_URL: `sqlite://${join(dir, 'bot.sqlite')}`,
    ...extra,
  };
}

function doctor(vars: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'doctor'], { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/root', ...vars } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += String(d)));
    child.stderr.on('data', (d: Buffer) => (output += String(d)));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

/** What `npm run deploy-commands` (or the bot's start) leaves registered. */
async function registerCommands(): Promise<void> {
  const rest = new REST({ api: discord.apiUrl }).setToken(discord.token);
  await rest.put(Routes.applicationCommands(discord.applicationId), { body: definitionsFor({ ALLOW_DMS: false }) });
}

describe('npm run doctor', () => {
  it('passes every check, one line each, and exits 0 when everything is set up', async () => {
    await registerCommands();
    const { code, output } = await doctor(env());
    const lines = output.trim().split('\n').filter((l) => /^[✓✗] /.test(l));
    expect(lines.every((l) => l.startsWith('✓')), output).toBe(true);
    for (const check of ['config', 'store', 'Sogni API key', 'default model', 'Discord token', 'Discord application', 'Message Content intent', 'servers', 'slash commands']) {
      expect(lines.some((l) => l.startsWith(`✓ ${check}:`)), `${check}\n${output}`).toBe(true);
    }
    expect(output).toContain('All 9 checks passed.');
    expect(code).toBe(0);
    expect(output).not.toContain(discord.token);
    expect(output).not.toContain(sogni.apiKey);
  }, 60_000);

  it('reports a missing Message Content intent, a bad Sogni key, missing permissions and unregistered commands, each with its fix', async () => {
    discord.applicationFlags = 0;
    discord.setBotPermissions(discord.guildId, PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages | PermissionFlagsBits.ReadMessageHistory);
    const { code, output } = await doctor(env({ SOGNI_API_KEY: 'sk-wrong-key-for-the-doctor' }));
    expect(code).toBe(1);
    const line = (start: string) => output.split('\n').find((l) => l.startsWith(start)) ?? '';
    expect(line('✗ Message Content intent:')).toContain('fix: turn on Message Content Intent in the Developer Portal (your application → Bot → Privileged Gateway Intents)');
    expect(line('✗ Sogni API key:')).toContain('Sogni refused SOGNI_API_KEY (401 invalid_api_key) — fix: create a new API key in your Sogni account and set SOGNI_API_KEY');
    const server = line(`✗ server Test Server (${discord.guildId}):`);
    expect(server).toContain('the bot lacks Send Messages in Threads, Embed Links, Attach Files, Use Application Commands');
    expect(server).toContain(`fix: give the bot's role these permissions in Server Settings → Roles`);
    expect(server).toContain(inviteUrl(discord.applicationId));
    expect(line('✗ slash commands:')).toContain('not registered globally: /ask, /imagine');
    expect(line('✗ slash commands:')).toContain('fix: run npm run deploy-commands');
    expect(output).toMatch(/\n4 of \d+ checks failed\.\n?$/);
    expect(output).not.toContain('sk-wrong-key-for-the-doctor');
  }, 60_000);

  it('reports every configuration problem with its fix, and exits 1', async () => {
    const { code, output } = await doctor({ SOGNI_API_KEY: 'k', STORE_URL: 'mysql://db', SHARDS: '2', DISCORD_API_URL: discord.apiUrl });
    expect(code).toBe(1);
    expect(output).toContain('✗ config: DISCORD_TOKEN is required — fix: set it in .env or the environment (see .env.example)');
    expect(output).toContain('✗ config: STORE_URL must be a sqlite://, redis:// or postgres:// URL');
  }, 60_000);
});

describe('at start', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('logs each server where the bot lacks a permission, with the fix', async () => {
    const limited = snowflake();
    h = await startHarness({
      discord: { extraGuildIds: [limited], botPermissions: { [limited]: PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages } },
    });
    const warning = await h.discord.waitFor(() => h?.logs.find((l) => String(l['msg']).startsWith('missing permissions in a server')));
    expect(warning).toMatchObject({
      level: 40,
      guildId: limited,
      msg: 'missing permissions in a server: Send Messages in Threads, Embed Links, Attach Files, Read Message History, Use Application Commands',
      fix: expect.stringContaining(inviteUrl(h.discord.applicationId)),
    });
    // The fully permitted server raises nothing.
    expect(h.logs.filter((l) => String(l['msg']).startsWith('missing permissions'))).toHaveLength(1);
  });

  it('stops with the intent and its fix when Discord refuses the Message Content intent', async () => {
    discord.applicationFlags = 0;
    const bot = startBotProcess(env({ LOG_LEVEL: 'info' }));
    expect(await bot.exited).toBe(1);
    expect(bot.logs.find((l) => l['msg'] === 'Discord refused the Message Content intent')).toMatchObject({
      level: 60,
      fix: expect.stringContaining('turn on Message Content Intent'),
    });
  }, 60_000);
});
