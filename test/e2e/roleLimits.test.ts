import { ApplicationCommandOptionType, PermissionFlagsBits } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeMessage, FakeUser } from '../fakes/fakeDiscord.js';
import { words } from '../fakes/fakeSogni.js';
import { startHarness, type Harness } from '../fakes/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const MANAGE_GUILD = String(PermissionFlagsBits.ManageGuild);
const MEMBER = String(PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages);
/** Each chat holds 1 Spark and costs 1 Spark (4,096 completion tokens at 244.140625 Spark per million). */
const PRICED = { PRICE_CHAT_INPUT_PER_M: '0', PRICE_CHAT_OUTPUT_PER_M: '244.140625' };
const ONE_SPARK = { kind: 'stream' as const, deltas: words('Paid answer.'), intervalMs: 100, usage: { prompt_tokens: 0, completion_tokens: 4096, total_tokens: 4096 } };
const sub = (name: string, options: unknown[] = []) => ({ name, type: ApplicationCommandOptionType.Subcommand, value: undefined, options });
const roleOption = (id: string) => ({ name: 'role', type: ApplicationCommandOptionType.Role, value: id });

async function spend(harness: Harness, subcommand: string, options: unknown[] = [], permissions = MANAGE_GUILD) {
  const record = harness.discord.runCommand({ name: 'spend', options: [sub(subcommand, options) as never], permissions });
  await harness.discord.waitFor(() => record.callbacks.length > 0);
  return (record.callbacks[0] as { data: { content: string; flags: number } }).data;
}

/** The bot's replies to `triggers`, once each has a finished one. */
function repliesTo(harness: Harness, triggers: FakeMessage[]): Promise<FakeMessage[]> {
  return harness.discord.waitFor(() => {
    const replies = triggers.map((t) =>
      harness.discord.botMessages().find((m) => m.message_reference?.message_id === t.id && (m.content.includes('⛔') || (m.content.startsWith('Paid answer.') && !m.content.includes('▌')))),
    );
    return replies.every(Boolean) ? (replies as FakeMessage[]) : undefined;
  }, 20_000);
}

describe('limits by role', () => {
  it('lets a patron go past the default while another member is refused, both decided atomically under concurrent requests', async () => {
    h = await startHarness({ env: { ...PRICED, DEFAULT_USER_DAILY_SPARK: '2' } });
    h.sogni.answerWith(ONE_SPARK);
    const patron = h.discord.addRole('Patron');
    const set = await spend(h, 'role', [roleOption(patron), { name: 'user_daily', type: ApplicationCommandOptionType.Number, value: 3 }]);
    expect(set.flags).toBe(64);
    expect(set.content).toContain(`Members with <@&${patron}> may spend **3 Spark** a day each`);

    const pat: FakeUser = h.discord.user('pat');
    const joe: FakeUser = h.discord.user('joe');
    h.discord.memberRoles.set(pat.id, [patron]);
    // Four requests each, all at once: every hold is taken before any answer is paid for.
    const mine = Array.from({ length: 4 }, (_, i) => h?.discord.postUserMessage({ content: `pat ${i}`, author: pat }) as FakeMessage);
    const his = Array.from({ length: 4 }, (_, i) => h?.discord.postUserMessage({ content: `joe ${i}`, author: joe }) as FakeMessage);
    const patReplies = await repliesTo(h, mine);
    const joeReplies = await repliesTo(h, his);

    expect(patReplies.filter((m) => m.content.startsWith('Paid answer.'))).toHaveLength(3);
    expect(joeReplies.filter((m) => m.content.startsWith('Paid answer.'))).toHaveLength(2);
    for (const refused of patReplies.filter((m) => m.content.includes('⛔'))) expect(refused.content).toContain('of 3 Spark used');
    for (const refused of joeReplies.filter((m) => m.content.includes('⛔'))) expect(refused.content).toContain('your per-person daily limit: 2 Spark of 2 Spark used');
    expect(h.sogni.chatCalls()).toHaveLength(5);
    const state = await h.bot.deps.ledger.state(h.discord.guildId);
    expect(state.userDay).toEqual({ [pat.id]: 3, [joe.id]: 2 });

    const status = await spend(h, 'status');
    expect(status.content).toContain(`**Role limits** (per person per day; a member's most generous role counts): <@&${patron}> 3 Spark`);
  });

  it('blocks a role’s paid use at 0, for chat and media, until the role limit is cleared', async () => {
    h = await startHarness({ env: PRICED });
    h.sogni.answerWith(ONE_SPARK);
    const muted = h.discord.addRole('Muted');
    await spend(h, 'role', [roleOption(muted), { name: 'user_daily', type: ApplicationCommandOptionType.Number, value: 0 }]);
    const mo = h.discord.user('mo');
    h.discord.memberRoles.set(mo.id, [muted]);

    const asked = h.discord.postUserMessage({ content: 'hello?', author: mo });
    const [chat] = await repliesTo(h, [asked]);
    expect(chat?.content).toBe('⛔ Paid requests are turned off here: your per-person daily limit is 0 Spark.');
    const imagine = h.discord.runCommand({ name: 'imagine', user: mo, permissions: MEMBER, options: [{ name: 'prompt', type: ApplicationCommandOptionType.String, value: 'a fox' }] });
    const result = await h.discord.waitFor(() => {
      const m = h?.discord.original(imagine);
      return m?.content.includes('⛔') ? m : undefined;
    }, 15_000);
    expect(result.content).toContain('your per-person daily limit is 0 Spark');
    expect(h.sogni.calls).toHaveLength(0);
    expect(h.sogni.runs.created).toHaveLength(0);
    expect((await spend(h, 'status')).content).toContain(`<@&${muted}> blocked`);

    const cleared = await spend(h, 'role', [roleOption(muted), { name: 'clear', type: ApplicationCommandOptionType.Boolean, value: true }]);
    expect(cleared.content).toContain(`<@&${muted}> no longer has its own limit.`);
    expect(cleared.content).toContain('**Role limits:** none');
    const again = h.discord.postUserMessage({ content: 'and now?', author: mo });
    const [paid] = await repliesTo(h, [again]);
    expect(paid?.content).toMatch(/^Paid answer\./);
  });

  it('refuses /spend role without Manage Server, or without exactly one of user_daily and clear', async () => {
    h = await startHarness();
    const role = h.discord.addRole('Any');
    expect((await spend(h, 'role', [roleOption(role), { name: 'user_daily', type: ApplicationCommandOptionType.Number, value: 5 }], MEMBER)).content).toContain('Manage Server');
    expect((await spend(h, 'role', [roleOption(role)])).content).toBe('Give either user_daily or clear:true.');
    expect(await h.bot.deps.ledger.roleLimits(h.discord.guildId)).toEqual({});
  });
});
