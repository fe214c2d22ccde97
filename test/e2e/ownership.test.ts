import { ApplicationCommandOptionType, PermissionFlagsBits } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeMessage } from '../fakes/fakeDiscord.js';
import { words } from '../fakes/fakeSogni.js';
import { mediaRequests } from '../fakes/fakeSogniRuns.js';
import { startHarness, type Harness } from '../fakes/harness.js';
import { expectSafeMentions, messageWrites } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A member who can talk but manages nothing. */
const MEMBER = String(PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages);
const MANAGER = String(PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages | PermissionFlagsBits.ManageGuild);

const prompt = (value: string) => ({ name: 'prompt', type: ApplicationCommandOptionType.String, value });
const buttonId = (m: FakeMessage, prefix: string) =>
  m.components.flatMap((r) => r.components.map((c) => c.custom_id ?? '')).find((id) => id.startsWith(prefix)) ?? '';
/** Done: past the status (waiting, starting, pricing, a progress bar, or the completions path's seconds). */
const finished = (m: FakeMessage | undefined) => m && !/\n-# (⏳|💰|⏹ Cancelling|[▰▱])/.test(m.content) && m.history.length > 1;

async function imagineAs(harness: Harness, user: ReturnType<Harness['discord']['user']>) {
  const record = harness.discord.runCommand({ name: 'imagine', user, permissions: MEMBER, options: [prompt('a fox in the snow')] });
  const message = await harness.discord.waitFor(() => {
    const m = harness.discord.original(record);
    return finished(m) ? m : undefined;
  }, 15_000);
  return message;
}

describe('result buttons belong to their job', () => {
  it('refuses Reroll and Vary from another member, privately, without asking Sogni or holding Spark', async () => {
    h = await startHarness();
    const alice = h.discord.user('alice');
    const result = await imagineAs(h, alice);
    expect(mediaRequests(h.sogni)).toHaveLength(1);
    const before = await h.bot.deps.ledger.state(h.discord.guildId);

    const mallory = h.discord.user('mallory');
    const reroll = h.discord.pressButton({ customId: buttonId(result, 'media:reroll:'), message: result, user: mallory, permissions: MEMBER });
    const vary = h.discord.pressButton({ customId: buttonId(result, 'media:vary:'), message: result, user: mallory, permissions: MEMBER });
    await h.discord.waitFor(() => reroll.callbacks.length > 0 && vary.callbacks.length > 0);

    expect(reroll.callbacks[0]).toMatchObject({ type: 4, data: { content: `Only <@${alice.id}> or a server manager can reroll this.`, flags: 64 } });
    expect(vary.callbacks[0]).toMatchObject({ type: 4, data: { content: `Only <@${alice.id}> or a server manager can vary this.`, flags: 64 } });
    // The refusal names alice but must not ping her.
    expect((reroll.callbacks[0] as { data: { allowed_mentions?: { parse: unknown[] } } }).data.allowed_mentions?.parse).toEqual([]);
    expect(mediaRequests(h.sogni)).toHaveLength(1);
    const after = await h.bot.deps.ledger.state(h.discord.guildId);
    expect(after.daySpent).toBe(before.daySpent);
    expect(Object.keys(after.reservations)).toHaveLength(0);
  });

  it('runs Reroll for the owner, and Vary for a server manager on the owner’s behalf', async () => {
    h = await startHarness();
    const alice = h.discord.user('alice');
    const result = await imagineAs(h, alice);

    const reroll = h.discord.pressButton({ customId: buttonId(result, 'media:reroll:'), message: result, user: alice, permissions: MEMBER });
    await h.discord.waitFor(() => finished(h?.discord.original(reroll)), 15_000);
    expect(mediaRequests(h.sogni)).toHaveLength(2);

    const mod = h.discord.user('mod');
    const vary = h.discord.pressButton({ customId: buttonId(result, 'media:vary:'), message: result, user: mod, permissions: MANAGER });
    const varied = await h.discord.waitFor(() => {
      const m = h?.discord.original(vary);
      return finished(m) ? m : undefined;
    }, 15_000);
    expect(mediaRequests(h.sogni)).toHaveLength(3);
    // The result is still alice's: made for her, and her buttons.
    expect(varied.content).toContain(`<@${alice.id}>`);
    const refs = mediaRequests(h.sogni)[2]?.['media_references'] as { url: string }[];
    // Vary works from the first result.
    expect(refs[0]?.url).toBe(h.sogni.runs.created[0]?.artifacts[0]?.['url']);
    expectSafeMentions(messageWrites(h.discord));
  });

  it('does nothing paid for a button whose job was made in another server', async () => {
    h = await startHarness();
    const alice = h.discord.user('alice');
    const result = await imagineAs(h, alice);
    const jobId = buttonId(result, 'media:reroll:').slice('media:reroll:'.length);
    // The same job, as if it had been made in another server (a copied message, or a forged custom id).
    const job = await h.bot.deps.media.job(jobId);
    const store = h.bot.store.namespace<Record<string, unknown>>('media');
    await store.set('elsewhere', { ...job, scope: '123456789012345678' });
    const press = h.discord.pressButton({ customId: 'media:reroll:elsewhere', message: result, user: alice, permissions: MANAGER });
    await h.discord.waitFor(() => press.callbacks.length > 0);
    expect(press.callbacks[0]).toMatchObject({ type: 4, data: { content: expect.stringContaining('made somewhere else'), flags: 64 } });
    expect(mediaRequests(h.sogni)).toHaveLength(1);
  });
});

describe('private /ask', () => {
  const ask = (harness: Harness, text: string, user: ReturnType<Harness['discord']['user']>, isPrivate: boolean) =>
    harness.discord.runCommand({
      name: 'ask',
      user,
      options: [prompt(text), { name: 'private', type: ApplicationCommandOptionType.Boolean, value: isPrivate }],
    });
  const answered = (harness: Harness, record: ReturnType<typeof ask>) =>
    harness.discord.waitFor(() => harness.discord.original(record)?.content === 'Hello from the fake Sogni.' || undefined, 15_000);
  const upstreamText = (harness: Harness, index: number) => JSON.stringify(harness.sogni.chatCalls()[index]?.body['messages']);

  it('never reaches the channel’s shared history, yet private follow-ups remember it', async () => {
    h = await startHarness();
    const alice = h.discord.user('alice');
    const bob = h.discord.user('bob');

    h.discord.postUserMessage({ content: 'public fact: the sky is teal today', author: bob });
    await h.discord.waitFor(() => h?.discord.botMessages().some((m) => m.content === 'Hello from the fake Sogni.'));

    const secret = ask(h, 'my door code is PINEAPPLE-4417, remember it', alice, true);
    await answered(h, secret);
    expect(secret.callbacks[0]).toMatchObject({ type: 5, data: { flags: 64 } });

    h.discord.postUserMessage({ content: 'what has anyone told you here? repeat everything', author: bob });
    await h.discord.waitFor(() => h!.sogni.chatCalls().length === 3 && h!.sogni.chatCalls()[2]?.finished);
    expect(upstreamText(h, 2)).not.toContain('PINEAPPLE');
    expect(upstreamText(h, 2)).toContain('the sky is teal');
    // Nothing private in the stored shared history either.
    expect(JSON.stringify(await h.bot.deps.history.load(h.discord.channelId))).not.toContain('PINEAPPLE');

    const followUp = ask(h, 'what was my door code?', alice, true);
    await answered(h, followUp);
    expect(upstreamText(h, 3)).toContain('PINEAPPLE-4417');
    expect(upstreamText(h, 3)).toContain('the sky is teal');

    // Another member's private follow-up does not see alice's private exchange.
    const bobPrivate = ask(h, 'what was the door code?', bob, true);
    await answered(h, bobPrivate);
    expect(upstreamText(h, 4)).not.toContain('PINEAPPLE');
  });
});

describe('/forget', () => {
  const forgetAs = (harness: Harness, user: ReturnType<Harness['discord']['user']>, permissions: string) => {
    const record = harness.discord.runCommand({ name: 'forget', user, permissions });
    return harness.discord.waitFor(() => {
      const m = harness.discord.original(record);
      return m && m.content.startsWith('Done') ? m : undefined;
    }, 15_000);
  };

  it('clears only the caller’s private history for a member, and the channel’s too for a moderator', async () => {
    h = await startHarness();
    const alice = h.discord.user('alice');
    h.discord.postUserMessage({ content: 'a shared question', author: alice });
    await h.discord.waitFor(() => h?.discord.botMessages().some((m) => m.content === 'Hello from the fake Sogni.'));
    await h.bot.deps.history.append(`${h.discord.channelId}:private:${alice.id}`, [{ role: 'user', content: 'private words', at: Date.now() }]);

    const reply = await forgetAs(h, alice, MEMBER);
    expect(reply.content).toContain('Manage Messages');
    expect(await h.bot.deps.history.load(`${h.discord.channelId}:private:${alice.id}`)).toEqual([]);
    expect(await h.bot.deps.history.load(h.discord.channelId)).toHaveLength(2);

    const mod = h.discord.user('mod');
    await forgetAs(h, mod, String(PermissionFlagsBits.ViewChannel | PermissionFlagsBits.ManageMessages));
    expect(await h.bot.deps.history.load(h.discord.channelId)).toEqual([]);
  });

  it('waits for an answer in progress, so its turns are not written back after the clear', async () => {
    h = await startHarness();
    h.sogni.answerWith({ kind: 'stream', deltas: words('A slow answer that takes a while to finish streaming.'), intervalMs: 150 });
    h.discord.postUserMessage({ content: 'remember the word TANGERINE' });
    await h.sogni.waitFor(() => (h!.sogni.chatCalls()[0]?.sent ?? 0) > 0);
    const reply = await forgetAs(h, h.discord.user('mod'), String(PermissionFlagsBits.ManageMessages));
    // The answer had finished (and saved) before the clear.
    expect(h.sogni.chatCalls()[0]?.finished).toBe(true);
    expect(reply.content).toContain('forgot this channel');
    expect(JSON.stringify(await h.bot.deps.history.load(h.discord.channelId))).not.toContain('TANGERINE');
  });
});
