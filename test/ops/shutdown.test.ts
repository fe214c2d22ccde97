import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RESTARTING_LINE } from '../../src/ops/lifecycle.js';
import { SpendLedger } from '../../src/spend/spendLedger.js';
import { openStore } from '../../src/store/openStore.js';
import { FakeDiscord } from '../fakes/fakeDiscord.js';
import { FakeSogni, words } from '../fakes/fakeSogni.js';
import { startBotProcess, type BotProcess } from './botProcess.js';

/**
 * SIGTERM as a container runtime sends it, to `npm start`'s command: no new work, answers in
 * flight get SHUTDOWN_GRACE_SECONDS, the rest end with a note and give their holds back, the
 * store is closed, exit 0; a second signal exits at once.
 */

let discord: FakeDiscord;
let sogni: FakeSogni;
let bot: BotProcess | undefined;
let dir: string;

async function start(graceSeconds: number): Promise<void> {
  discord = await new FakeDiscord().start();
  sogni = await new FakeSogni().start();
  dir = mkdtempSync(join(tmpdir(), 'shutdown-'));
  bot = startBotProcess({
    DISCORD_TOKEN: discord.token,
    SOGNI_API_KEY: sogni.apiKey,
    SOGNI_BASE_URL: sogni.baseUrl,
    DISCORD_API_URL: discord.apiUrl,
    STORE_URL: `sqlite://${join(dir, 'bot.sqlite')}`,
    SHUTDOWN_GRACE_SECONDS: String(graceSeconds),
    LOG_LEVEL: 'info',
  });
  await bot.waitForLog((l) => l['msg'] === 'connected to Discord', 30_000, 'connected');
}

afterEach(async () => {
  bot?.kill('SIGKILL');
  await bot?.exited;
  bot = undefined;
  await discord.stop();
  await sogni.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A slow answer, word by word: `words` words at `intervalMs` each. */
function slowAnswer(count: number, intervalMs: number): string {
  const text = Array.from({ length: count }, (_, i) => `w${i}`).join(' ');
  sogni.answerWith({ kind: 'stream', deltas: words(text), intervalMs });
  return text;
}

async function ledgerAfterExit() {
  const store = openStore(`sqlite://${join(dir, 'bot.sqlite')}`);
  const ledger = new SpendLedger(store.namespace('spend'), () => ({ daily: null, monthly: null, userDaily: null }));
  const state = await ledger.state(discord.guildId);
  await store.close();
  return state;
}

describe('SIGTERM', () => {
  it('refuses new requests with "restarting", lets the answer in flight finish within the grace period, and exits 0', async () => {
    await start(20);
    const answer = slowAnswer(30, 60);
    const asked = discord.postUserMessage({ content: 'a long question' });
    await sogni.waitFor(() => (sogni.chatCalls()[0]?.sent ?? 0) > 3);
    bot?.kill('SIGTERM');
    await bot?.waitForLog((l) => l['msg'] === 'shutting down', 5000, 'shutting down');
    discord.postUserMessage({ content: 'one more?' });
    await discord.waitFor(() => discord.botMessages().some((m) => m.content === RESTARTING_LINE), 10_000);
    expect(await bot?.exited).toBe(0);
    // The first answer was not cut: it ended whole, with no note.
    const reply = discord.botMessages().find((m) => m.message_reference?.message_id === asked.id);
    expect(reply?.content).toBe(answer);
    expect(sogni.chatCalls()).toHaveLength(1);
    expect((await ledgerAfterExit()).reservations).toEqual({});
  });

  it('ends answers still running when the grace period is over with a note, gives their holds back, and exits 0', async () => {
    await start(1);
    slowAnswer(400, 50);
    discord.postUserMessage({ content: 'a very long question' });
    await sogni.waitFor(() => (sogni.chatCalls()[0]?.sent ?? 0) > 3);
    const signalled = Date.now();
    bot?.kill('SIGTERM');
    expect(await bot?.exited).toBe(0);
    // 1 s of grace, then the note and the settlement: well before the 20 s the answer needed.
    expect(Date.now() - signalled).toBeLessThan(10_000);
    const reply = discord.botMessages().at(-1);
    expect(reply?.content).toContain('restarting');
    expect(reply?.content).toMatch(/^w0 w1 w2/);
    expect(sogni.chatCalls()[0]?.aborted).toBe(true);
    const state = await ledgerAfterExit();
    expect(state.reservations).toEqual({});
    expect(state.recent[0]?.status).toBe('settled');
  });

  it('exits at once on a second signal', async () => {
    await start(60);
    slowAnswer(400, 50);
    discord.postUserMessage({ content: 'a very long question' });
    await sogni.waitFor(() => (sogni.chatCalls()[0]?.sent ?? 0) > 3);
    bot?.kill('SIGTERM');
    await bot?.waitForLog((l) => l['msg'] === 'shutting down', 5000, 'shutting down');
    const second = Date.now();
    bot?.kill('SIGTERM');
    expect(await bot?.exited).toBe(1);
    expect(Date.now() - second).toBeLessThan(3000);
    expect(bot?.logs.some((l) => l['msg'] === 'second signal: exiting now')).toBe(true);
  });
});
