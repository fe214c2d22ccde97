import { ApplicationCommandOptionType, PermissionFlagsBits } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeUser } from '../fakes/fakeDiscord.js';
import { words } from '../fakes/fakeSogni.js';
import { startHarness, type Harness } from '../fakes/harness.js';
import { expectSafeMentions, messageWrites } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const MANAGE_GUILD = String(PermissionFlagsBits.ManageGuild);
/** Each chat holds 1 Spark and costs 4 (16,384 completion tokens at 244.140625 Spark per million). */
const PRICED = { PRICE_CHAT_INPUT_PER_M: '0', PRICE_CHAT_OUTPUT_PER_M: '244.140625', DEFAULT_DAILY_SPARK: '10' };
const FOUR_SPARK = { kind: 'stream' as const, deltas: words('Answer.'), usage: { prompt_tokens: 0, completion_tokens: 16_384, total_tokens: 16_384 } };
const sub = (name: string, options: unknown[] = []) => ({ name, type: ApplicationCommandOptionType.Subcommand, value: undefined, options });

async function spend(harness: Harness, subcommand: string, options: unknown[] = []) {
  const record = harness.discord.runCommand({ name: 'spend', options: [sub(subcommand, options) as never], permissions: MANAGE_GUILD });
  await harness.discord.waitFor(() => record.callbacks.length > 0);
  return (record.callbacks[0] as { data: { content: string } }).data.content;
}

/** Asks once and waits until the answer (or refusal) is shown and any alert it caused is posted. */
async function ask(harness: Harness, author: FakeUser, prompt: string): Promise<string> {
  const trigger = harness.discord.postUserMessage({ content: prompt, author });
  const reply = await harness.discord.waitFor(
    () => harness.discord.botMessages().find((m) => m.message_reference?.message_id === trigger.id && (m.content.includes('⛔') || (m.content.startsWith('Answer.') && !m.content.includes('▌')))),
    15_000,
  );
  // The ledger told the alerts before the answer was shown; wait for what it decided to post.
  await harness.bot.deps.alerts.idle();
  return reply.content;
}

describe('spend alerts', () => {
  it('posts once at 80% and once at 100% of the daily limit, and one refusal alert an hour, naming who and how much but never the prompt', async () => {
    h = await startHarness({ env: PRICED });
    h.sogni.answerWith(FOUR_SPARK);
    const alerts = h.discord.otherChannelId;
    const set = await spend(h, 'alerts', [{ name: 'channel', type: ApplicationCommandOptionType.Channel, value: alerts }]);
    expect(set).toContain(`Spend alerts go to <#${alerts}>`);
    expect(set).not.toContain("can't post there");
    const alice = h.discord.user('alice');

    await ask(h, alice, 'secret prompt one'); // 4 of 10
    expect(h.discord.botMessages(alerts)).toHaveLength(0);
    await ask(h, alice, 'secret prompt two'); // 8 of 10: 80%
    expect(h.discord.botMessages(alerts)).toHaveLength(1);
    await ask(h, alice, 'secret prompt three'); // holds 1 (9 of 10), costs 4: 12 of 10
    expect(h.discord.botMessages(alerts)).toHaveLength(2);
    expect(await ask(h, alice, 'secret prompt four')).toContain('⛔'); // refused: alert
    expect(await ask(h, alice, 'secret prompt five')).toContain('⛔'); // refused within the hour: no alert

    const posted = h.discord.botMessages(alerts).map((m) => m.content);
    expect(posted).toHaveLength(3);
    expect(posted[0]).toMatch(/^📊 \*\*This server has used 80% of its daily Sogni limit\*\*: 8 Spark of 10 Spark\. It resets at 00:00 UTC \(<t:\d+:R>\)\./);
    expect(posted[0]).toContain(`-# Last request: <@${alice.id}> · chat · \`qwen3.6-35b-a3b-gguf-iq4xs\` · 4 Spark`);
    expect(posted[1]).toMatch(/^🛑 \*\*This server has used its daily Sogni limit\*\*: 12 Spark of 10 Spark\. Paid requests are refused until it resets/);
    expect(posted[2]).toMatch(/^⛔ \*\*A request was refused by this server's daily Sogni limit\*\*: 12 Spark of 10 Spark used\./);
    expect(posted[2]).toContain(`<@${alice.id}> · chat · \`qwen3.6-35b-a3b-gguf-iq4xs\` · about 1 Spark`);
    for (const content of posted) expect(content).not.toContain('secret');
    expectSafeMentions(messageWrites(h.discord).filter((c) => c.path.startsWith(`/channels/${alerts}/`)));

    const status = await spend(h, 'status');
    expect(status).toContain(`**Alerts:** <#${alerts}>`);
    expect(status).not.toContain('could not post');
    expect(await spend(h, 'alerts', [{ name: 'off', type: ApplicationCommandOptionType.Boolean, value: true }])).toBe('Spend alerts are off.');
    expect(await spend(h, 'status')).toContain('**Alerts:** off');
  });

  it('says in /spend status when it cannot post in the alert channel, until a post works again', async () => {
    h = await startHarness({ env: PRICED });
    h.sogni.answerWith(FOUR_SPARK);
    const alerts = h.discord.otherChannelId;
    await spend(h, 'alerts', [{ name: 'channel', type: ApplicationCommandOptionType.Channel, value: alerts }]);
    const removeFault = h.discord.addFault((call) =>
      call.method === 'POST' && call.path === `/channels/${alerts}/messages` ? { status: 403, body: { message: 'Missing Permissions', code: 50013 } } : undefined,
    );
    const alice = h.discord.user('alice');
    await ask(h, alice, 'one');
    await ask(h, alice, 'two'); // 80%: the post is refused
    expect(h.discord.botMessages(alerts)).toHaveLength(0);
    const status = await spend(h, 'status');
    expect(status).toMatch(new RegExp(`⚠️ I could not post the last alert there \\(<t:\\d+:R>: Missing Permissions\\)\\. I need View Channel and Send Messages in <#${alerts}>\\.`));

    removeFault();
    await ask(h, alice, 'three'); // 100%: posted, and the failure is forgotten
    expect(h.discord.botMessages(alerts)).toHaveLength(1);
    expect(await spend(h, 'status')).not.toContain('could not post');
  });
});
