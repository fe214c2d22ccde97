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

const MEMBER = String(PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages);
const MODERATOR = String(PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages | PermissionFlagsBits.ManageMessages);
const buttonId = (m: FakeMessage | undefined, prefix: string) =>
  m?.components.flatMap((r) => r.components.map((c) => c.custom_id ?? '')).find((id) => id.startsWith(prefix));
/** About 3,000 characters: two messages. */
const LONG = Array.from({ length: 200 }, (_, i) => `Sentence number ${i}.`).join(' ');

/** A mention answered in two messages; resolves with them once the last one carries its 🗑️. */
async function answerFor(harness: Harness, author: FakeUser): Promise<FakeMessage[]> {
  harness.sogni.answerWith({ kind: 'stream', deltas: words(LONG) });
  const trigger = harness.discord.postUserMessage({ content: 'tell me a lot', author });
  const messages = await harness.discord.waitFor(() => {
    const mine = harness.discord.botMessages().filter((m) => m.message_reference?.message_id === trigger.id || m.content.includes('Sentence number 199'));
    return mine.length === 2 && buttonId(mine[1], 'answer:delete:') ? mine : undefined;
  }, 15_000);
  // The record is written once the last message is out: wait for it, as a person reading the answer would.
  const id = (buttonId(messages[1], 'answer:delete:') as string).slice('answer:delete:'.length);
  for (let tries = 0; !(await harness.bot.deps.answers.get(id)); tries++) {
    if (tries > 200) throw new Error('the answer record was never written');
    await new Promise((r) => setTimeout(r, 25));
  }
  return messages;
}

function press(harness: Harness, message: FakeMessage, customId: string, user: FakeUser, permissions: string) {
  const record = harness.discord.pressButton({ customId, message, user, permissions });
  return harness.discord.waitFor(() => record.callbacks.length > 0 && record).then(() => record);
}

describe('🗑️ under answers and media', () => {
  it('puts 🗑️ on the last message only; the owner deletes the whole answer, even after a restart, without a refund', async () => {
    h = await startHarness();
    const alice = h.discord.user('alice');
    const messages = await answerFor(h, alice);
    expect(buttonId(messages[0], 'answer:delete:')).toBeUndefined();
    const spentBefore = (await h.bot.deps.ledger.state(h.discord.guildId)).daySpent;
    expect(spentBefore).toBeGreaterThan(0);

    await h.restartBot();
    const record = await press(h, messages[1] as FakeMessage, buttonId(messages[1], 'answer:delete:') as string, alice, MEMBER);
    expect(record.callbacks[0]).toMatchObject({ type: 6 });
    await h.discord.waitFor(() => messages.every((m) => m.deleted));
    // Deleting refunds nothing: the answer was made and paid for.
    expect((await h.bot.deps.ledger.state(h.discord.guildId)).daySpent).toBe(spentBefore);
    expect((await h.bot.deps.ledger.userRecent(h.discord.guildId, alice.id))).toHaveLength(1);
    expect(h.discord.calls.filter((c) => c.method === 'DELETE').every((c) => c.status === 204)).toBe(true);
  });

  it('refuses a stranger privately and deletes for a member with Manage Messages', async () => {
    h = await startHarness();
    const alice = h.discord.user('alice');
    const messages = await answerFor(h, alice);
    const id = buttonId(messages[1], 'answer:delete:') as string;

    const stranger = await press(h, messages[1] as FakeMessage, id, h.discord.user('mallory'), MEMBER);
    expect(stranger.callbacks[0]).toMatchObject({ type: 4, data: { content: `Only <@${alice.id}> or a member with Manage Messages can delete this.`, flags: 64 } });
    expect(messages.some((m) => m.deleted)).toBe(false);
    expect(h.discord.calls.some((c) => c.method === 'DELETE')).toBe(false);

    // A forged or long-expired answer id on an old message (a 2016 snowflake): nobody's, so only a moderator could act on it.
    const old = { ...(messages[1] as FakeMessage), id: '175928847299117063' };
    const forged = await press(h, old, 'answer:delete:not-an-answer', alice, MEMBER);
    expect(forged.callbacks[0]).toMatchObject({ type: 4, data: { content: expect.stringContaining('only a member with Manage Messages'), flags: 64 } });

    await press(h, messages[1] as FakeMessage, id, h.discord.user('mod'), MODERATOR);
    await h.discord.waitFor(() => messages.every((m) => m.deleted));
  });

  it('deletes a public /ask answer for its asker', async () => {
    h = await startHarness();
    const alice = h.discord.user('alice');
    const ask = h.discord.runCommand({ name: 'ask', user: alice, options: [{ name: 'prompt', type: ApplicationCommandOptionType.String, value: 'hi' }] });
    const original = await h.discord.waitFor(() => {
      const m = h?.discord.original(ask);
      return buttonId(m, 'answer:delete:') ? m : undefined;
    });
    await press(h, original, buttonId(original, 'answer:delete:') as string, alice, MEMBER);
    await h.discord.waitFor(() => original.deleted);
  });

  it('puts 🗑️ on media results: a stranger is refused, a moderator deletes it', async () => {
    h = await startHarness();
    const alice = h.discord.user('alice');
    const imagine = h.discord.runCommand({ name: 'imagine', user: alice, permissions: MEMBER, options: [{ name: 'prompt', type: ApplicationCommandOptionType.String, value: 'a fox' }] });
    const result = await h.discord.waitFor(() => {
      const m = h?.discord.original(imagine);
      return m?.attachments.length && buttonId(m, 'media:delete:') ? m : undefined;
    }, 15_000);
    const id = buttonId(result, 'media:delete:') as string;
    const spent = (await h.bot.deps.ledger.state(h.discord.guildId)).daySpent;

    const stranger = await press(h, result, id, h.discord.user('mallory'), MEMBER);
    expect(stranger.callbacks[0]).toMatchObject({ type: 4, data: { content: `Only <@${alice.id}> or a member with Manage Messages can delete this.`, flags: 64 } });
    expect(result.deleted).toBeFalsy();

    await press(h, result, id, h.discord.user('mod'), MODERATOR);
    await h.discord.waitFor(() => result.deleted);
    expect((await h.bot.deps.ledger.state(h.discord.guildId)).daySpent).toBe(spent);
  });
});

describe('🗑️ pressed before its answer is saved', () => {
  it('says the answer is still being saved, not that it is too old', async () => {
    h = await startHarness();
    h.sogni.answerWith({ kind: 'stream', deltas: words('Short answer.') });
    h.discord.postUserMessage({ content: 'hi', author: h.discord.user('alice') });
    const message = await h.discord.waitFor(() => h?.discord.botMessages().find((m) => buttonId(m, 'answer:delete:')));
    // A button on a fresh message whose record does not exist (yet): what a press in that window finds.
    const early = await press(h, message, 'answer:delete:not-saved-yet', h.discord.user('alice'), MEMBER);
    expect(early.callbacks[0]).toMatchObject({ type: 4, data: { content: '⏳ This answer is still being saved. Try again in a moment.', flags: 64 } });
  });
});
