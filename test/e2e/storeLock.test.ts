import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../fakes/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Runs `npm start`'s command with the given environment; resolves with its exit code and output. */
function runBotProcess(env: Record<string, string>, entry = 'src/main.ts'): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry], {
      cwd: join(import.meta.dirname, '../..'),
      env: { PATH: process.env['PATH'] ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += String(d)));
    child.stderr.on('data', (d: Buffer) => (output += String(d)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('a second bot process on the same SQLite store', () => {
  it('refuses to start with a line naming the file, and leaves the running bot alone', async () => {
    h = await startHarness();
    const storeFile = join(h.storeDir, 'bot.sqlite');
    const { code, output } = await runBotProcess({
      DISCORD_TOKEN: h.config.DISCORD_TOKEN,
      SOGNI_API_KEY: h.config.SOGNI_API_KEY,
      SOGNI_BASE_URL: h.config.SOGNI_BASE_URL,
      DISCORD_API_URL: h.discord.apiUrl,
      STORE_URL: `sqlite://${storeFile}`,
      LOG_LEVEL: 'info',
    });
    expect(code).toBe(1);
    expect(output).toContain(`already using the store ${storeFile}`);
    // It never got as far as logging in.
    expect(h.discord.calls.filter((c) => c.path === '/gateway/bot')).toHaveLength(1);
    // The first bot still answers.
    h.discord.postUserMessage({ content: 'still there?' });
    await h.discord.waitFor(() => h?.discord.botMessages().some((m) => m.content === 'Hello from the fake Sogni.'));
  });

  it('still lets npm run deploy-commands register while the bot runs', async () => {
    h = await startHarness();
    const puts = () => h!.discord.calls.filter((c) => c.method === 'PUT' && c.path.endsWith('/commands')).length;
    const before = puts();
    const { code, output } = await runBotProcess(
      {
        DISCORD_TOKEN: h.config.DISCORD_TOKEN,
        SOGNI_API_KEY: h.config.SOGNI_API_KEY,
        DISCORD_API_URL: h.discord.apiUrl,
        STORE_URL: `sqlite://${join(h.storeDir, 'bot.sqlite')}`,
        LOG_LEVEL: 'info',
      },
      'src/deployCommands.ts',
    );
    expect(code, output).toBe(0);
    expect(puts()).toBe(before + 1);
    expect(output).toContain('registering without recording it');
  });
});
