import { ApplicationCommandOptionType } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { words } from '../fakes/fakeSogni.js';
import { startHarness, type Harness } from '../fakes/harness.js';
import { expectSafeMentions, messageWrites } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const prompt = (value: string) => ({ name: 'prompt', type: ApplicationCommandOptionType.String, value });

describe('/ask', () => {
  it('defers, then streams the answer into the reply', async () => {
    h = await startHarness();
    const answer = Array.from({ length: 30 }, (_, i) => `Sentence ${i}.`).join(' ');
    h.sogni.answerWith({ kind: 'stream', deltas: words(answer), intervalMs: 50 });
    const interaction = h.discord.runCommand({ name: 'ask', options: [prompt('say many things')] });
    const original = await h.discord.waitFor(() => {
      const id = h?.discord.interactions.get(interaction.token)?.originalId;
      const message = id ? h?.discord.messages.get(id) : undefined;
      return message?.content === answer ? message : undefined;
    });
    expect(interaction.callbacks[0]).toMatchObject({ type: 5 });
    expect(original.history.length).toBeGreaterThanOrEqual(3);
    expect(original.flags & 64).toBe(0);
    expectSafeMentions(messageWrites(h.discord));
    expect(h.sogni.calls[0]?.body['model']).toBe('qwen3.6-35b-a3b-gguf-iq4xs');
  });

  it('answers privately and with the chosen model', async () => {
    h = await startHarness();
    const interaction = h.discord.runCommand({
      name: 'ask',
      options: [
        prompt('hi'),
        { name: 'private', type: ApplicationCommandOptionType.Boolean, value: true },
        { name: 'model', type: ApplicationCommandOptionType.String, value: 'qwen3.5-35b-a3b-abliterated-gguf-q4km' },
      ],
    });
    await h.discord.waitFor(() => h?.discord.messages.get(interaction.originalId ?? '')?.content === 'Hello from the fake Sogni.');
    expect(interaction.callbacks[0]).toMatchObject({ type: 5, data: { flags: 64 } });
    expect(h.sogni.calls[0]?.body['model']).toBe('qwen3.5-35b-a3b-abliterated-gguf-q4km');
  });

  it('shares the channel history with mentions', async () => {
    h = await startHarness();
    h.discord.postUserMessage({ content: 'remember the word banana' });
    await h.discord.waitFor(() => h?.discord.botMessages().find((m) => m.content === 'Hello from the fake Sogni.'));
    const interaction = h.discord.runCommand({ name: 'ask', options: [prompt('what was the word?')], user: h.discord.user('carol') });
    await h.discord.waitFor(() => h?.discord.messages.get(interaction.originalId ?? '')?.content === 'Hello from the fake Sogni.');
    const messages = h.sogni.calls[1]?.body['messages'] as { role: string; content: string }[];
    expect(messages.map((m) => m.content).slice(1)).toEqual([
      'Alice: remember the word banana',
      'Hello from the fake Sogni.',
      'Carol: what was the word?',
    ]);
  });

  it('suggests models from GET /v1/models and caches the list', async () => {
    h = await startHarness();
    const focused = { name: 'model', type: ApplicationCommandOptionType.String, value: 'abl', focused: true };
    const first = h.discord.runCommand({ name: 'ask', type: 4, options: [prompt(''), focused] });
    await h.discord.waitFor(() => first.callbacks.length > 0);
    expect(first.callbacks[0]).toEqual({ type: 8, data: { choices: [{ name: 'qwen3.5-35b-a3b-abliterated-gguf-q4km', value: 'qwen3.5-35b-a3b-abliterated-gguf-q4km' }] } });
    const second = h.discord.runCommand({ name: 'ask', type: 4, options: [prompt(''), { ...focused, value: '' }] });
    await h.discord.waitFor(() => second.callbacks.length > 0);
    expect((second.callbacks[0] as { data: { choices: unknown[] } }).data.choices).toHaveLength(2);
    expect(h.sogni.modelCalls).toBe(1);
  });

  it('refuses an invalid model name without asking Sogni', async () => {
    h = await startHarness();
    const interaction = h.discord.runCommand({
      name: 'ask',
      options: [prompt('hi'), { name: 'model', type: ApplicationCommandOptionType.String, value: 'bad model; drop table' }],
    });
    await h.discord.waitFor(() => h?.discord.messages.get(interaction.originalId ?? '')?.content.includes('not valid'));
    expect(h.sogni.calls).toHaveLength(0);
  });

  it('refuses to run outside a server', async () => {
    h = await startHarness();
    const interaction = h.discord.runCommand({ name: 'ask', options: [prompt('hi')], guild: false });
    await h.discord.waitFor(() => interaction.callbacks.length > 0);
    expect(interaction.callbacks[0]).toMatchObject({ type: 4, data: { content: '/ask works in servers only.', flags: 64 } });
    expect(h.sogni.calls).toHaveLength(0);
  });
});

describe('/forget', () => {
  it("clears this channel's history and confirms privately", async () => {
    h = await startHarness();
    h.discord.postUserMessage({ content: 'my secret is 1234' });
    await h.discord.waitFor(() => h?.discord.botMessages().find((m) => m.content === 'Hello from the fake Sogni.'));
    const forget = h.discord.runCommand({ name: 'forget' });
    await h.discord.waitFor(() => h?.discord.original(forget)?.content.startsWith('Done'));
    expect(forget.callbacks[0]).toMatchObject({ type: 5, data: { flags: 64 } });
    h.discord.postUserMessage({ content: 'what is my secret?' });
    await h.discord.waitFor(() => h?.sogni.calls.length === 2);
    const contents = (h.sogni.calls[1]?.body['messages'] as { content: string }[]).map((m) => m.content);
    expect(contents.join('\n')).not.toContain('1234');
    expect(contents.at(-1)).toBe('Alice: what is my secret?');
  });
});

describe('command registration', () => {
  it('registers globally at start and skips the call when nothing changed', async () => {
    h = await startHarness();
    const global = h.discord.registeredCommands('global') as { name: string; contexts: number[] }[];
    expect(global.map((c) => c.name).sort()).toEqual(['ask', 'forget', 'imagine', 'settings', 'spend', 'usage']);
    // DMs are off by default, so no command is offered there.
    for (const c of global) expect(c.contexts).toEqual([0]);
    const puts = () => h?.discord.calls.filter((c) => c.method === 'PUT').length;
    expect(puts()).toBe(1);
    await h.restartBot();
    expect(puts()).toBe(1);
  });

  it('registers on the development guild when DEV_GUILD_ID is set', async () => {
    h = await startHarness({ env: { DEV_GUILD_ID: '123456789012345678' } });
    expect(h.discord.registeredCommands('123456789012345678')).toHaveLength(6);
    expect(h.discord.registeredCommands('global')).toBeUndefined();
  });
});
