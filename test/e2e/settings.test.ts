import { ApplicationCommandOptionType, PermissionFlagsBits } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { words } from '../fakes/fakeSogni.js';
import { startHarness, type Harness } from '../fakes/harness.js';
import { snowflake } from '../fakes/snowflake.js';
import { expectSafeMentions, messageWrites } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const ANSWER = 'Hello from the fake Sogni.';
const MANAGER = String(PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages | PermissionFlagsBits.ManageGuild);
const MEMBER = String(PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages);
const { String: STRING, Boolean: BOOLEAN, Channel: CHANNEL, Subcommand: SUBCOMMAND } = ApplicationCommandOptionType;

const upstream = (harness: Harness, index: number) =>
  harness.sogni.chatCalls()[index]?.body as { model: string; messages: { role: string; content: unknown }[] } | undefined;

/** Runs /settings <subcommand> as a manager and waits for its private confirmation. */
async function settings(harness: Harness, subcommand: string, options: { name: string; type: number; value: unknown }[] = [], permissions = MANAGER) {
  const record = harness.discord.runCommand({ name: 'settings', permissions, options: [{ name: subcommand, type: SUBCOMMAND, value: undefined, options } as never] });
  await harness.discord.waitFor(() => record.callbacks.length > 0);
  return record.callbacks[0] as { type: number; data?: { content?: string; flags?: number; custom_id?: string; components?: unknown[] } };
}

async function answered(harness: Harness, channelId: string, count = 1) {
  return harness.discord.waitFor(() => {
    const done = harness.discord.botMessages(channelId).filter((m) => m.content === ANSWER);
    return done.length >= count ? done : undefined;
  }, 15_000);
}

/** Waits long enough for an answer that must not come: a later message elsewhere is answered first. */
async function expectSilence(harness: Harness, channelId: string, controlAuthor = harness.discord.user('control')) {
  harness.discord.postUserMessage({ content: 'control question', channelId: harness.discord.otherChannelId, author: controlAuthor });
  const before = harness.discord.botMessages(harness.discord.otherChannelId).length;
  await harness.discord.waitFor(() => harness.discord.botMessages(harness.discord.otherChannelId).length > before, 15_000);
  await new Promise((r) => setTimeout(r, 200));
  // Private (ephemeral) lines to slash commands aside, nothing was posted there.
  expect(harness.discord.botMessages(channelId).filter((m) => (m.flags & 64) === 0)).toHaveLength(0);
}

describe('threads', () => {
  it('opens a thread on a mention, answers there, and follows up in it without a mention, with the thread’s own history', async () => {
    h = await startHarness({ env: { THREADS: 'on' } });
    // Something said in the channel before: the thread must not carry it.
    await h.bot.deps.history.append(h.discord.channelId, [{ role: 'user', name: 'Bob', content: 'CHANNEL-ONLY remark', at: Date.now() }]);
    const question = h.discord.postUserMessage({ content: '**How** do I sort a list in <@&123456789012345678> Python?' });
    const thread = await h.discord.waitFor(() => h?.discord.threads.get(question.id));
    expect(thread.name).toBe('How do I sort a list in Python?');
    expect(thread.parent_id).toBe(h.discord.channelId);
    await answered(h, thread.id);
    // Nothing was posted in the channel itself.
    expect(h.discord.botMessages(h.discord.channelId)).toHaveLength(0);
    expect(JSON.stringify(upstream(h, 0)?.messages)).not.toContain('CHANNEL-ONLY');

    h.discord.postUserMessage({ content: 'and in reverse?', channelId: thread.id, mentionBot: false });
    await answered(h, thread.id, 2);
    const second = JSON.stringify(upstream(h, 1)?.messages);
    expect(second).toContain('sort a list');
    expect(second).toContain('and in reverse?');
    expect(second).not.toContain('CHANNEL-ONLY');
    expectSafeMentions(messageWrites(h.discord));
  });

  it('answers with a reply in the channel when threads are off (the default)', async () => {
    h = await startHarness();
    const question = h.discord.postUserMessage({ content: 'hello' });
    const [reply] = await answered(h, h.discord.channelId);
    expect(reply?.message_reference?.message_id).toBe(question.id);
    expect(h.discord.threads.size).toBe(0);
  });

  it('unarchives its thread when someone writes in it', async () => {
    h = await startHarness({ env: { THREADS: 'on' } });
    const question = h.discord.postUserMessage({ content: 'first' });
    const thread = await h.discord.waitFor(() => h?.discord.threads.get(question.id));
    await answered(h, thread.id);
    h.discord.archiveThread(thread.id);
    h.discord.postUserMessage({ content: 'back again', channelId: thread.id, mentionBot: false });
    await answered(h, thread.id, 2);
    expect(thread.thread_metadata.archived).toBe(false);
  });

  it('answers in the channel, and logs why once, without Create Public Threads', async () => {
    h = await startHarness({ env: { THREADS: 'on' } });
    h.discord.threadsAllowed = false;
    h.discord.postUserMessage({ content: 'one' });
    await answered(h, h.discord.channelId);
    h.discord.postUserMessage({ content: 'two' });
    await answered(h, h.discord.channelId, 2);
    expect(h.logs.filter((l) => String(l['msg']).includes('no Create Public Threads permission'))).toHaveLength(1);
  });

  it('ignores messages in a thread it did not start unless they mention it', async () => {
    h = await startHarness();
    const threadId = snowflake();
    h.discord.dispatch('THREAD_CREATE', {
      id: threadId, type: 11, guild_id: h.discord.guildId, parent_id: h.discord.channelId, owner_id: snowflake(), name: 'people talking',
      rate_limit_per_user: 0, flags: 0, member_count: 2, message_count: 0,
      thread_metadata: { archived: false, locked: false, auto_archive_duration: 1440, archive_timestamp: new Date().toISOString() },
    });
    h.discord.postUserMessage({ content: 'just chatting', channelId: threadId, mentionBot: false });
    h.discord.postUserMessage({ content: 'a question for the bot', channelId: threadId });
    await answered(h, threadId);
    expect(h.sogni.chatCalls()).toHaveLength(1);
  });
});

describe('/settings', () => {
  it('gives one channel its own model and persona, and only that channel', async () => {
    h = await startHarness();
    const confirm = await settings(h, 'set', [
      { name: 'channel', type: CHANNEL, value: h.discord.otherChannelId },
      { name: 'model', type: STRING, value: 'qwen3.5-35b-a3b-abliterated-gguf-q4km' },
      { name: 'persona', type: STRING, value: 'You are a terse senior engineer. Answer with code first.' },
    ]);
    expect(confirm).toMatchObject({ type: 4, data: { flags: 64, content: expect.stringContaining('model, persona') } });

    h.discord.postUserMessage({ content: 'how do I reverse a string?', channelId: h.discord.otherChannelId });
    await answered(h, h.discord.otherChannelId);
    expect(upstream(h, 0)?.model).toBe('qwen3.5-35b-a3b-abliterated-gguf-q4km');
    expect(upstream(h, 0)?.messages[0]).toEqual({ role: 'system', content: 'You are a terse senior engineer. Answer with code first.' });

    h.discord.postUserMessage({ content: 'and here?' });
    await answered(h, h.discord.channelId);
    expect(upstream(h, 1)?.model).toBe(h.config.SOGNI_MODEL);
    expect(upstream(h, 1)?.messages[0]).toEqual({ role: 'system', content: h.config.SYSTEM_PROMPT });

    const shown = await settings(h, 'show', [{ name: 'channel', type: CHANNEL, value: h.discord.otherChannelId }]);
    expect(shown.data?.content).toContain('qwen3.5-35b-a3b-abliterated-gguf-q4km');
    expect(shown.data?.content).toContain('terse senior engineer');
  });

  it('survives a restart', async () => {
    h = await startHarness();
    await settings(h, 'set', [{ name: 'model', type: STRING, value: 'qwen3.5-35b-a3b-abliterated-gguf-q4km' }]);
    await h.restartBot();
    h.discord.postUserMessage({ content: 'which model?' });
    await answered(h, h.discord.channelId);
    expect(upstream(h, 0)?.model).toBe('qwen3.5-35b-a3b-abliterated-gguf-q4km');
  });

  it('refuses an unknown model and a member without Manage Server', async () => {
    h = await startHarness();
    const unknown = await settings(h, 'set', [{ name: 'model', type: STRING, value: 'no-such-model' }]);
    expect(unknown.data?.content).toContain('no model called');
    const member = await settings(h, 'set', [{ name: 'enabled', type: BOOLEAN, value: false }], MEMBER);
    expect(member.data?.content).toContain('Manage Server');
    expect((await h.bot.deps.settings.get({ guildId: h.discord.guildId })).enabled).toBeUndefined();
  });

  it('opens a form for persona:edit and saves what is submitted', async () => {
    h = await startHarness();
    const opened = await settings(h, 'set', [{ name: 'persona', type: STRING, value: 'edit' }]);
    expect(opened.type).toBe(9);
    expect(opened.data?.custom_id).toBe('settings:persona:server');
    const submitted = h.discord.submitModal({ customId: 'settings:persona:server', fields: { persona: 'You speak like a pirate.' }, permissions: MANAGER });
    await h.discord.waitFor(() => submitted.callbacks.length > 0);
    expect(submitted.callbacks[0]).toMatchObject({ type: 4, data: { flags: 64, content: expect.stringContaining('Saved') } });
    h.discord.postUserMessage({ content: 'hi' });
    await answered(h, h.discord.channelId);
    expect(upstream(h, 0)?.messages[0]).toEqual({ role: 'system', content: 'You speak like a pirate.' });
  });
});

describe('who may use the bot, and where', () => {
  it('stays silent in a disabled channel, tells /ask privately, asks Sogni nothing; managers still reach /settings', async () => {
    h = await startHarness();
    await settings(h, 'set', [
      { name: 'channel', type: CHANNEL, value: h.discord.channelId },
      { name: 'enabled', type: BOOLEAN, value: false },
    ]);
    h.discord.postUserMessage({ content: 'anyone home?' });
    const ask = h.discord.runCommand({ name: 'ask', options: [{ name: 'prompt', type: STRING, value: 'hello?' }] });
    const imagine = h.discord.runCommand({ name: 'imagine', options: [{ name: 'prompt', type: STRING, value: 'a cat' }] });
    await h.discord.waitFor(() => ask.callbacks.length > 0 && imagine.callbacks.length > 0);
    expect(ask.callbacks[0]).toMatchObject({ type: 4, data: { flags: 64, content: expect.stringContaining('not available') } });
    expect(imagine.callbacks[0]).toMatchObject({ type: 4, data: { flags: 64, content: expect.stringContaining('not available') } });
    await expectSilence(h, h.discord.channelId);
    // Only the control question in the other channel reached Sogni.
    expect(h.sogni.chatCalls()).toHaveLength(1);
    expect(h.sogni.mediaCalls()).toHaveLength(0);

    const shown = await settings(h, 'show');
    expect(shown.data?.content).toContain('Answers here: no');
    await settings(h, 'reset', [{ name: 'channel', type: CHANNEL, value: h.discord.channelId }]);
    h.discord.postUserMessage({ content: 'now?' });
    await answered(h, h.discord.channelId);
  });

  it('refuses a result’s Reroll once the bot is turned off in that channel', async () => {
    h = await startHarness({ env: { MEDIA_MODE: 'completions' } });
    const alice = h.discord.user('alice');
    const made = h.discord.runCommand({ name: 'imagine', user: alice, options: [{ name: 'prompt', type: STRING, value: 'a fox' }] });
    const result = await h.discord.waitFor(() => {
      const m = h?.discord.original(made);
      return m && m.attachments.length > 0 ? m : undefined;
    }, 15_000);
    await settings(h, 'set', [
      { name: 'channel', type: CHANNEL, value: h.discord.channelId },
      { name: 'enabled', type: BOOLEAN, value: false },
    ]);
    const rerollId = result.components.flatMap((r) => r.components).find((c) => c.custom_id?.startsWith('media:reroll:'))?.custom_id ?? '';
    const press = h.discord.pressButton({ customId: rerollId, message: result, user: alice, permissions: MEMBER });
    await h.discord.waitFor(() => press.callbacks.length > 0);
    expect(press.callbacks[0]).toMatchObject({ type: 4, data: { flags: 64, content: expect.stringContaining('not available') } });
    expect(h.sogni.mediaCalls()).toHaveLength(1);
  });

  it('answers only members with an allowed role', async () => {
    h = await startHarness();
    const patrons = h.discord.addRole('Patrons');
    await settings(h, 'set', [{ name: 'roles', type: STRING, value: `<@&${patrons}>` }]);
    const outsider = h.discord.user('outsider');
    const patron = h.discord.user('patron');
    h.discord.memberRoles.set(patron.id, [patrons]);

    h.discord.postUserMessage({ content: 'me too?', author: outsider });
    await expectSilence(h, h.discord.channelId, patron);
    const ask = h.discord.runCommand({ name: 'ask', user: outsider, options: [{ name: 'prompt', type: STRING, value: 'hello?' }] });
    await h.discord.waitFor(() => ask.callbacks.length > 0);
    expect(ask.callbacks[0]).toMatchObject({ type: 4, data: { flags: 64, content: expect.stringContaining('not available') } });

    h.discord.postUserMessage({ content: 'patron question', author: patron });
    await answered(h, h.discord.channelId);
    expect(JSON.stringify(h.sogni.chatCalls().map((c) => c.body['messages']))).not.toContain('me too?');
  });

  it('ignores @everyone, @here and role pings that do not mention it, and other bots', async () => {
    h = await startHarness();
    const botRole = h.discord.addRole('Sogni');
    h.discord.postUserMessage({ content: '@everyone meeting at 5', mentionBot: false, mentionEveryone: true });
    h.discord.postUserMessage({ content: `<@&${botRole}> can someone help`, mentionBot: false, mentionRoles: [botRole] });
    h.discord.postUserMessage({ content: 'beep', author: { ...h.discord.user('robot'), bot: true } });
    await expectSilence(h, h.discord.channelId);
    expect(h.sogni.chatCalls()).toHaveLength(1);
  });
});

describe('threads and settings together', () => {
  it('turns threads on for one channel with /settings', async () => {
    h = await startHarness();
    h.sogni.answerWith({ kind: 'stream', deltas: words(ANSWER) });
    await settings(h, 'set', [
      { name: 'channel', type: CHANNEL, value: h.discord.channelId },
      { name: 'threads', type: STRING, value: 'on' },
    ]);
    const question = h.discord.postUserMessage({ content: 'thread please' });
    const thread = await h.discord.waitFor(() => h?.discord.threads.get(question.id));
    await answered(h, thread.id);
    h.discord.postUserMessage({ content: 'no thread here', channelId: h.discord.otherChannelId });
    await answered(h, h.discord.otherChannelId);
    expect(h.discord.threads.size).toBe(1);
  });
});
