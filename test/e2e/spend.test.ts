import { ApplicationCommandOptionType } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { words } from '../fakes/fakeSogni.js';
import { startHarness, type Harness } from '../fakes/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const MANAGE_GUILD = String(1 << 5);
const NO_PERMISSIONS = '0';
const num = (name: string, value: unknown) => ({ name, type: ApplicationCommandOptionType.Number, value });
const sub = (name: string, options: unknown[] = []) => ({ name, type: ApplicationCommandOptionType.Subcommand, value: undefined, options });

async function spend(harness: Harness, subcommand: string, options: unknown[] = [], permissions = MANAGE_GUILD) {
  const record = harness.discord.runCommand({ name: 'spend', options: [sub(subcommand, options) as never], permissions });
  await harness.discord.waitFor(() => record.callbacks.length > 0);
  return record.callbacks[0] as { type: number; data: { content: string; flags: number } };
}

async function imagine(harness: Harness, text: string) {
  const record = harness.discord.runCommand({ name: 'imagine', options: [{ name: 'prompt', type: ApplicationCommandOptionType.String, value: text }] });
  return harness.discord.waitFor(() => {
    const m = harness.discord.original(record);
    return m && !m.content.includes('Working on it') && m.history.length > 1 ? m : undefined;
  }, 15_000);
}

describe('spend limits', () => {
  it('refuses a request over the limit, says which and when it resets, and sends nothing to Sogni', async () => {
    h = await startHarness({ env: { MEDIA_MODE: 'completions', DEFAULT_DAILY_SPARK: '3', PRICE_IMAGE: '4' } });
    const message = await imagine(h, 'a castle');
    expect(message.content).toMatch(/⛔ That would go over this server's daily limit: 0 Spark of 3 Spark used, and this needs about 4\.\d+ Spark\. It resets at 00:00 UTC/);
    expect(h.sogni.calls).toHaveLength(0);
  });

  it('refuses chat too when a limit is 0, without asking Sogni', async () => {
    h = await startHarness({ env: { DEFAULT_DAILY_SPARK: '0' } });
    h.discord.postUserMessage({ content: 'hello?' });
    const reply = await h.discord.waitFor(() => h?.discord.botMessages()[0]?.content.includes('⛔') && h.discord.botMessages()[0]);
    expect(reply.content).toContain('Paid requests are turned off here');
    expect(h.sogni.calls).toHaveLength(0);
  });

  it('settles with the reported cost, records chat by tokens, and warns once past 80%', async () => {
    h = await startHarness({ env: { MEDIA_MODE: 'completions', DEFAULT_DAILY_SPARK: '10', PRICE_IMAGE: '1' } });
    // Each image reports 2.5 Spark: 2.5, 5, 7.5 (past 80% of 10 at the fourth? no: at 7.5 < 8), 10.
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await imagine(h, `picture ${i}`));
    expect(results.map((m) => m.content.includes('past 80%'))).toEqual([false, false, false]);
    h.sogni.answerWith({ kind: 'stream', deltas: words('A short answer.'), usage: { prompt_tokens: 1_000_000, completion_tokens: 0, total_tokens: 1_000_000 } });
    h.discord.postUserMessage({ content: 'one question' });
    const chat = await h.discord.waitFor(() => h?.discord.botMessages().find((m) => m.content.startsWith('A short answer.')));
    await h.discord.waitFor(() => chat.content.includes('past 80%'));
    expect(chat.content).toContain("this server's daily spend is past 80%");
    const state = await h.bot.deps.ledger.state(h.discord.guildId);
    // 3 images × 2.5 reported, plus 1M prompt tokens × 20 Spark/M for the chat; media LLM tokens priced too.
    expect(state.recent[0]).toMatchObject({ kind: 'chat', status: 'settled', actual: 20 });
    expect(state.recent.filter((e) => e.kind === 'image').map((e) => e.status)).toEqual(['settled', 'settled', 'settled']);
    expect(state.recent.find((e) => e.kind === 'image')?.actual).toBeCloseTo(2.5 + (300 * 20 + 40 * 60) / 1e6, 6);
  });
});

describe('/spend', () => {
  it('is registered for Manage Server only, and refuses members without it, changing nothing', async () => {
    h = await startHarness();
    const registered = (h.discord.registeredCommands('global') as { name: string; default_member_permissions?: string }[]).find((c) => c.name === 'spend');
    expect(registered?.default_member_permissions).toBe(MANAGE_GUILD);
    const refused = await spend(h, 'set', [num('daily', 1)], NO_PERMISSIONS);
    expect(refused).toMatchObject({ type: 4, data: { flags: 64, content: expect.stringContaining('Manage Server') } });
    expect((await h.bot.deps.ledger.limits(h.discord.guildId)).custom).toBe(false);
    const status = await spend(h, 'status', [], NO_PERMISSIONS);
    expect(status.data.content).toContain('Manage Server');
  });

  it('sets any subset of limits, shows them in status with bars, and clears back to the defaults', async () => {
    h = await startHarness({ env: { MEDIA_MODE: 'completions' } });
    const set = await spend(h, 'set', [num('daily', 50), num('user_daily', 5)]);
    expect(set.data.flags).toBe(64);
    expect(set.data.content).toContain('Daily: **50 Spark** · Monthly: **10,000 Spark** · Per person per day: **5 Spark**');
    await imagine(h, 'something');
    const status = await spend(h, 'status');
    expect(status.data.content).toMatch(/Today: `█?░+` 2\.\d+ \/ 50 Spark \(\d+%\)/);
    expect(status.data.content).toContain('custom limits');
    expect(status.data.content).toMatch(/\*\*Top this month:\*\* <@\d+> 2\.\d+/);
    expect(status.data.content).toContain('image');
    const cleared = await spend(h, 'clear');
    expect(cleared.data.content).toContain('Daily: **1,000 Spark**');
    expect((await h.bot.deps.ledger.limits(h.discord.guildId)).custom).toBe(false);
  });

  it('refuses negative, garbage-fractional and absurd limits with the allowed range', async () => {
    h = await startHarness();
    for (const bad of [-5, 0.0001, 1e12, 'lots']) {
      const reply = await spend(h, 'set', [num('daily', bad)]);
      expect(reply.data.content).toBe('daily must be a number of Spark from 0 to 10,000,000, with at most two decimals.');
    }
    const none = await spend(h, 'set', []);
    expect(none.data.content).toContain('Give at least one of');
    expect((await h.bot.deps.ledger.limits(h.discord.guildId)).custom).toBe(false);
  });
});

describe('DMs', () => {
  it('ignores DMs by default', async () => {
    h = await startHarness();
    h.discord.postDirectMessage({ content: 'hello in private' });
    h.discord.postUserMessage({ content: 'hello in public' });
    await h.discord.waitFor(() => h?.discord.botMessages().find((m) => m.content === 'Hello from the fake Sogni.'));
    expect(h.sogni.calls).toHaveLength(1);
    expect(h.discord.botMessages(h.discord.dmChannelId)).toHaveLength(0);
  });

  it('answers DMs under a per-user daily limit when ALLOW_DMS is on', async () => {
    h = await startHarness({ env: { ALLOW_DMS: 'true', DEFAULT_USER_DAILY_SPARK: '0.4' } });
    // 10,000 prompt tokens at 20 Spark per million: this answer costs 0.2 Spark.
    h.sogni.answerWith({ kind: 'stream', deltas: words('Hello from the fake Sogni.'), usage: { prompt_tokens: 10_000, completion_tokens: 0, total_tokens: 10_000 } });
    const bob = h.discord.user('bob');
    h.discord.postDirectMessage({ content: 'hi in private', author: bob });
    await h.discord.waitFor(() => h?.discord.botMessages(h.discord.dmChannelId).find((m) => m.content === 'Hello from the fake Sogni.'));
    const state = await h.bot.deps.ledger.state(`dm:${bob.id}`);
    expect(state.recent[0]).toMatchObject({ kind: 'chat', status: 'settled' });
    // The next chat holds about 0.25 Spark for its answer: 0.2 + 0.25 is over Bob's 0.4, so it is refused and nothing is sent.
    h.discord.postDirectMessage({ content: 'again', author: bob });
    await h.discord.waitFor(() => h?.discord.botMessages(h.discord.dmChannelId).find((m) => m.content.includes('⛔')));
    expect(h.sogni.calls).toHaveLength(1);
    expect((h.discord.registeredCommands('global') as { name: string; contexts: number[] }[]).find((c) => c.name === 'ask')?.contexts).toEqual([0, 1]);
  });
});
