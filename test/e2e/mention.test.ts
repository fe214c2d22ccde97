import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { words } from '../fakes/fakeSogni.js';
import { startHarness, type Harness } from '../fakes/harness.js';
import { expectSafeMentions, messageWrites } from './helpers.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

const userTurns = (body: Record<string, unknown>) => (body['messages'] as { role: string; content: string }[]).filter((m) => m.role !== 'system');

describe('mentions', () => {
  it('replies to the mention, streaming the answer in progressive edits that end with the whole answer', async () => {
    const answer = Array.from({ length: 40 }, (_, i) => `Fact ${i} about foxes.`).join(' ');
    h.sogni.answerWith({ kind: 'stream', deltas: words(answer), intervalMs: 60 }); // about 7 s of streaming
    const question = h.discord.postUserMessage({ content: 'tell me about foxes' });

    const reply = await h.discord.waitFor(() => h.discord.botMessages().find((m) => m.content === answer), 20_000);
    expect(reply.message_reference?.message_id).toBe(question.id);
    // Progressive: several distinct states, each a growing prefix of the answer with the writing marker.
    expect(reply.history.length).toBeGreaterThanOrEqual(4);
    for (const shown of reply.history.slice(0, -1)) {
      expect(shown.endsWith(' ▌')).toBe(true);
      expect(answer.startsWith(shown.slice(0, -2))).toBe(true);
    }
    // About one edit a second, not one per token.
    expect(reply.history.length).toBeLessThan(15);
    expectSafeMentions(messageWrites(h.discord));
    expect(h.discord.rateLimited).toBe(0);
    // Media tools are offered but never run by Sogni on its own: a media request comes back as a tool call.
    expect(h.sogni.calls[0]?.body).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
      sogni_tools: 'creative-tools',
      sogni_tool_execution: false,
    });
    // The typing indicator was shown before the first text.
    expect(h.discord.calls.some((c) => c.path === `/channels/${h.discord.channelId}/typing`)).toBe(true);
  });

  it('answers a reply to one of its messages without a mention', async () => {
    h.discord.postUserMessage({ content: 'first question' });
    const first = await h.discord.waitFor(() => h.discord.botMessages().find((m) => m.content === 'Hello from the fake Sogni.'));
    h.sogni.answerWith({ kind: 'stream', deltas: words('A follow-up answer.') });
    const followUp = h.discord.postUserMessage({ content: 'and then?', mentionBot: false, replyTo: first.id });
    const reply = await h.discord.waitFor(() => h.discord.botMessages().find((m) => m.message_reference?.message_id === followUp.id));
    await h.discord.waitFor(() => reply.content === 'A follow-up answer.');
    expect(h.sogni.calls).toHaveLength(2);
  });

  it('ignores messages that do not address it, and messages from bots', async () => {
    h.discord.postUserMessage({ content: 'just chatting', mentionBot: false });
    const otherBot = { ...h.discord.user('robot'), bot: true };
    h.discord.postUserMessage({ content: 'hello bot', author: otherBot });
    // Then a real question, to know the two above had their chance.
    h.discord.postUserMessage({ content: 'real question' });
    await h.discord.waitFor(() => h.discord.botMessages().find((m) => m.content === 'Hello from the fake Sogni.'));
    expect(h.sogni.calls).toHaveLength(1);
    expect(userTurns(h.sogni.calls[0]?.body ?? {}).at(-1)?.content).toBe('Alice: real question');
  });

  it('keeps per-channel history, says who spoke, and remembers it after a restart', async () => {
    const bob = h.discord.user('bob');
    h.sogni.answerWith({ kind: 'stream', deltas: words('Nice to meet you, Alice.') }, { kind: 'stream', deltas: words('Hi Bob.') });
    h.discord.postUserMessage({ content: 'I am Alice' });
    await h.discord.waitFor(() => h.discord.botMessages().find((m) => m.content === 'Nice to meet you, Alice.'));
    // Another channel has its own history.
    h.discord.postUserMessage({ content: 'hello from elsewhere', author: bob, channelId: h.discord.otherChannelId });
    await h.discord.waitFor(() => h.discord.botMessages(h.discord.otherChannelId).find((m) => m.content === 'Hi Bob.'));

    await h.restartBot();
    h.sogni.answerWith({ kind: 'stream', deltas: words('You are Alice.') });
    h.discord.postUserMessage({ content: 'who am I?', author: bob });
    await h.discord.waitFor(() => h.discord.botMessages().find((m) => m.content === 'You are Alice.'));
    const sent = userTurns(h.sogni.calls[2]?.body ?? {});
    expect(sent).toEqual([
      { role: 'user', content: 'Alice: I am Alice' },
      { role: 'assistant', content: 'Nice to meet you, Alice.' },
      { role: 'user', content: 'Bob: who am I?' },
    ]);
    expect((h.sogni.calls[2]?.body['messages'] as { role: string }[])[0]?.role).toBe('system');
  });

  it('keeps both exchanges when two answers in one channel finish at the same moment', async () => {
    h.sogni.script = (body) => {
      const last = userTurns(body).at(-1)?.content ?? '';
      return { kind: 'stream', deltas: words(`Answer to ${last.split(': ')[1]}.`), intervalMs: 20 };
    };
    h.discord.postUserMessage({ content: 'one' });
    h.discord.postUserMessage({ content: 'two', author: h.discord.user('bob') });
    await h.discord.waitFor(() => h.discord.botMessages().filter((m) => m.content.startsWith('Answer to') && !m.content.endsWith('▌')).length === 2);
    h.sogni.answerWith({ kind: 'stream', deltas: words('ok') });
    h.discord.postUserMessage({ content: 'three' });
    await h.discord.waitFor(() => h.sogni.calls.length === 3);
    const sent = userTurns(h.sogni.calls[2]?.body ?? {}).map((m) => m.content);
    expect(sent).toHaveLength(5);
    expect(sent).toEqual(expect.arrayContaining(['Alice: one', 'Answer to one.', 'Bob: two', 'Answer to two.']));
    expect(sent.at(-1)).toBe('Alice: three');
  });

  it('never lets model output ping anyone', async () => {
    h.sogni.answerWith({ kind: 'stream', deltas: words(`@everyone @here <@&${h.discord.guildId}> <@${h.discord.botUser.id}> look!`) });
    h.discord.postUserMessage({ content: 'ping everyone please' });
    await h.discord.waitFor(() => h.discord.botMessages().find((m) => m.content.endsWith('look!')));
    expectSafeMentions(messageWrites(h.discord));
  });

  it('shows a short hint for a bare mention without asking Sogni', async () => {
    h.discord.postUserMessage({ content: '' });
    await h.discord.waitFor(() => h.discord.botMessages().find((m) => m.content.includes('/ask')));
    expect(h.sogni.calls).toHaveLength(0);
  });

  it('hides reasoning and shows a thinking status instead', async () => {
    h.sogni.answerWith({
      kind: 'stream',
      reasoning: words('Let me consider the question carefully.'),
      deltas: ['<think>', 'secret scratch work', '</think>', '\n\nThe answer is 42.'],
      intervalMs: 20,
    });
    h.discord.postUserMessage({ content: 'what is the answer?' });
    const reply = await h.discord.waitFor(() => h.discord.botMessages().find((m) => m.content === 'The answer is 42.'));
    for (const shown of reply.history) {
      expect(shown).not.toContain('secret');
      expect(shown).not.toContain('consider');
    }
    expect(reply.history[0]).toContain('thinking');
  });

  it('continues a long answer in follow-up messages, closing and reopening a split code block', async () => {
    const code = Array.from({ length: 90 }, (_, i) => `print("line ${i} of a long program")`).join('\n');
    const answer = `Here you go:\n\n\`\`\`python\n${code}\n\`\`\`\n\nDone.`;
    h.sogni.answerWith({ kind: 'stream', deltas: words(answer).flatMap((w) => w.split(/(?<=\n)/)), intervalMs: 1 });
    h.discord.postUserMessage({ content: 'write a long program' });
    await h.discord.waitFor(() => h.discord.botMessages().find((m) => m.content.endsWith('Done.')), 20_000);
    const parts = h.discord.botMessages().map((m) => m.content);
    expect(parts.length).toBeGreaterThanOrEqual(2);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(2000);
    expect(parts[0]?.endsWith('```')).toBe(true);
    expect(parts[1]?.startsWith('```python\n')).toBe(true);
    const rebuilt = parts.map((p, i) => (i > 0 ? p.replace(/^```python\n/, '') : p).replace(/\n```$/, (m) => (p.endsWith('Done.') ? m : ''))).join('\n');
    expect(rebuilt.replace(/\s+/g, '')).toBe(answer.replace(/\s+/g, ''));
    // Follow-ups are replies to the previous part.
    const [first, second] = h.discord.botMessages();
    expect(second?.message_reference?.message_id).toBe(first?.id);
  });
});
