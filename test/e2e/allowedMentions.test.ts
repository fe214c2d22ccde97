import { Routes, type TextChannel } from 'discord.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../fakes/harness.js';
import { expectSafeMentions, messageWrites } from './helpers.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

/**
 * Every write in the bot passes its own `allowedMentions`, but one that forgets (an edit, a
 * new code path) is still safe: the client built by createBot forbids every ping by default,
 * and discord.js sends that default with any create or edit that does not say otherwise.
 */
describe('the client-wide allowed_mentions default', () => {
  const pings = `hi @everyone @here <@&${'1'.repeat(18)}> <@${'2'.repeat(18)}>`;

  it('is set on the client createBot builds: no @everyone/@here, roles, users or replied-to user', () => {
    expect(h.bot.client.options.allowedMentions).toEqual({ parse: [], repliedUser: false });
  });

  it('protects a send, a reply and an edit that pass no allowedMentions of their own', async () => {
    const channel = (await h.bot.client.channels.fetch(h.discord.channelId)) as TextChannel;
    const before = messageWrites(h.discord).length;
    const sent = await channel.send(pings);
    await sent.reply(`${pings} (a reply)`);
    await sent.edit(`${pings} (edited)`);
    const writes = messageWrites(h.discord).slice(before);
    expect(writes.map((c) => c.method)).toEqual(['POST', 'POST', 'PATCH']);
    expectSafeMentions(writes);
    for (const call of writes) expect((call.body as { allowed_mentions?: unknown }).allowed_mentions).toEqual({ parse: [], replied_user: false });
  });

  it('is the only thing protecting such a write: the same request without the client reaches Discord open to pings', async () => {
    // The control: a raw REST call skips discord.js's message payload, and with it the default.
    const before = messageWrites(h.discord).length;
    await h.bot.client.rest.post(Routes.channelMessages(h.discord.channelId), { body: { content: pings } });
    const writes = messageWrites(h.discord).slice(before);
    expect(writes).toHaveLength(1);
    expect(() => expectSafeMentions(writes)).toThrow(/no allowed_mentions/);
  });
});
