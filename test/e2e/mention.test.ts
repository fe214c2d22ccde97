import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../fakes/harness.js';
import { words } from '../fakes/fakeSogni.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

describe('mentions', () => {
  it('replies to the mention with the streamed answer, referencing the message', async () => {
    const answer = 'Foxes are small omnivores. They live on every continent except Antarctica.';
    h.sogni.answerWith({ kind: 'stream', deltas: words(answer), intervalMs: 5 });
    const question = h.discord.postUserMessage({ content: 'tell me about foxes' });

    const reply = await h.discord.waitFor(() => h.discord.botMessages().find((m) => m.content === answer));
    expect(reply.message_reference?.message_id).toBe(question.id);
    const create = h.discord.calls.find((c) => c.method === 'POST' && c.path === `/channels/${h.discord.channelId}/messages`);
    expect(create?.body).toMatchObject({ allowed_mentions: { parse: [], replied_user: false } });
    expect(h.sogni.calls[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true }, sogni_tools: false });
  });
});
