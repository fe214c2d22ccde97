import { ApplicationCommandOptionType } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../fakes/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const userContents = (body: Record<string, unknown>) =>
  (body['messages'] as { role: string; content: unknown }[]).filter((m) => m.role === 'user').map((m) => String(m.content));

describe('a private /ask follow-up', () => {
  it('sees the channel’s turns and the asker’s private ones in the order they were said', async () => {
    h = await startHarness();
    const harness = h;
    const alice = harness.discord.user('alice');
    const bob = harness.discord.user('bob');
    // The n-th answer is over once the bot says so (its turns saved), not when Sogni's stream ends.
    const reply = (n: number) =>
      harness.discord.waitFor(() => harness.sogni.chatCalls().length === n && harness.logs.filter((l) => l['msg'] === 'answer finished').length === n);
    const ask = (text: string) =>
      harness.discord.runCommand({
        name: 'ask',
        user: alice,
        options: [
          { name: 'prompt', type: ApplicationCommandOptionType.String, value: text },
          { name: 'private', type: ApplicationCommandOptionType.Boolean, value: true },
        ],
      });

    harness.discord.postUserMessage({ content: 'first, in the channel', author: bob });
    await reply(1);
    ask('second, privately');
    await reply(2);
    harness.discord.postUserMessage({ content: 'third, in the channel', author: bob });
    await reply(3);
    ask('fourth, privately');
    await reply(4);

    expect(userContents(harness.sogni.chatCalls()[3]?.body ?? {})).toEqual([
      'Bob: first, in the channel',
      'Alice: second, privately',
      'Bob: third, in the channel',
      'Alice: fourth, privately',
    ]);
  });
});
