import { ApplicationCommandOptionType } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { Turn } from '../../src/core/history.js';
import { words, type Script } from '../fakes/fakeSogni.js';
import { startHarness, type Harness } from '../fakes/harness.js';
import { expectSafeMentions, messageWrites } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const finished = (harness: Harness, predicate: (content: string) => boolean, channelId?: string) =>
  harness.discord.waitFor(() => harness.discord.botMessages(channelId).find((m) => predicate(m.content) && !m.content.includes('▌')), 20_000);

/** The channel's stored turns and the guild's ledger, read through the bot's own stores. */
async function books(harness: Harness) {
  const turns: Turn[] = await harness.bot.deps.history.load(harness.discord.channelId);
  const state = await harness.bot.deps.ledger.state(harness.discord.guildId);
  return { turns, state };
}

describe('Sogni faults keep history and ledger consistent', () => {
  const cases: [string, Script, RegExp, { assistant: boolean; ledger: 'settled' | 'released' }][] = [
    ['a stream that drops mid-answer', { kind: 'stream', deltas: words('one two three four'), dropAfter: 2 }, /dropped/, { assistant: false, ledger: 'settled' }],
    ['a 500', { kind: 'error', status: 500, body: { error: { message: 'boom', type: 'server_error', code: 'internal' } } }, /server error \(500\)/, { assistant: false, ledger: 'released' }],
    ['a 429 with Retry-After', { kind: 'error', status: 429, body: { error: { message: 'slow', type: 'rate_limit', code: 'rate_limited' } }, headers: { 'retry-after': '30' } }, /Try again in 30 s/, { assistant: false, ledger: 'released' }],
    ['a 402', { kind: 'error', status: 402, body: { error: { message: 'pay', type: 'billing', code: 'insufficient_balance' } } }, /out of credit/, { assistant: false, ledger: 'released' }],
    ['malformed SSE', { kind: 'stream', deltas: words('a b c d'), malformedAfter: 2 }, /couldn't read/, { assistant: false, ledger: 'settled' }],
  ];
  it.each(cases)('after %s: one clear line, the question kept once, the hold settled or released', async (_name, script, line, expected) => {
    // A Retry-After longer than the bot may wait is shown at once rather than waited out.
    h = await startHarness({ overrides: { sogniMaxRateLimitWaitMs: 5000 } });
    h.sogni.answerWith(script);
    h.discord.postUserMessage({ content: 'question' });
    await finished(h, (c) => line.test(c));
    const { turns, state } = await books(h);
    expect(turns.map((t) => t.role)).toEqual(expected.assistant ? ['user', 'assistant'] : ['user']);
    expect(state.recent.map((e) => e.status)).toEqual([expected.ledger]);
    expect(state.reservations).toEqual({});
    // The bot is still up: the next question is answered normally.
    h.sogni.answerWith({ kind: 'stream', deltas: words('Back to normal.') });
    h.discord.postUserMessage({ content: 'again' });
    await finished(h, (c) => c === 'Back to normal.');
    expect((await books(h)).turns).toHaveLength(expected.assistant ? 4 : 3);
  });
});

describe('Discord faults', () => {
  it('rides out a 429 storm: one message per answer, and the final text lands', async () => {
    h = await startHarness();
    let storm = 6;
    h.discord.addFault(({ method, path }) => {
      if (!(method === 'PATCH' && path.includes('/messages/')) || storm <= 0) return undefined;
      storm -= 1;
      return { status: 429, body: { message: 'You are being rate limited.', retry_after: 0.3, global: false } };
    });
    // Long enough words that the text shows mid-stream (past the reasoning hold) and is then edited.
    const answer = Array.from({ length: 30 }, (_, i) => `w${i}-${'x'.repeat(14)}`).join(' ');
    h.sogni.answerWith({ kind: 'stream', deltas: words(answer), intervalMs: 60 });
    h.discord.postUserMessage({ content: 'storm' });
    await finished(h, (c) => c === answer);
    expect(storm).toBe(0);
    expect(h.discord.botMessages()).toHaveLength(1);
    expect((await books(h)).turns).toHaveLength(2);
  });

  it('keeps streaming when the gateway drops and resumes mid-answer, and replays what it missed', async () => {
    h = await startHarness();
    const answer = Array.from({ length: 40 }, (_, i) => `g${i}-${'x'.repeat(14)}`).join(' ');
    h.sogni.answerWith({ kind: 'stream', deltas: words(answer), intervalMs: 40 }, { kind: 'stream', deltas: words('Missed nothing.') });
    h.discord.postUserMessage({ content: 'long one' });
    await h.discord.waitFor(() => h?.discord.botMessages()[0]);
    h.discord.dropGateway();
    // Sent while the bot is reconnecting: it must arrive through the resume.
    h.discord.postUserMessage({ content: 'did you get this?' });
    await finished(h, (c) => c === answer);
    await finished(h, (c) => c === 'Missed nothing.');
    expect(h.discord.resumes).toBeGreaterThanOrEqual(1);
  });

  it('continues an answer as a channel message when the interaction token has expired', async () => {
    h = await startHarness();
    const answer = Array.from({ length: 60 }, (_, i) => `t${i}-${'x'.repeat(14)}`).join(' ');
    h.sogni.answerWith({ kind: 'stream', deltas: words(answer), intervalMs: 50 });
    const ask = h.discord.runCommand({ name: 'ask', options: [{ name: 'prompt', type: ApplicationCommandOptionType.String, value: 'a long question' }] });
    // The first text lands through the interaction webhook; then the token passes its 15 minutes.
    await h.discord.waitFor(() => h?.discord.original(ask)?.content.startsWith('t0'));
    h.discord.ageInteraction(ask, 15 * 60_000);
    const continued = await finished(h, (c) => c === answer);
    expect(continued.webhook_id).toBeUndefined();
    expect(h.discord.calls.some((c) => c.path.startsWith('/webhooks/') && c.status === 401)).toBe(true);
    expectSafeMentions(messageWrites(h.discord));
  });

  it('refuses paid work, and stays up, when the store cannot be written', async () => {
    h = await startHarness();
    await h.bot.store.adapter.disconnect?.();
    h.discord.postUserMessage({ content: 'hello' });
    const reply = await finished(h, (c) => c.includes("can't record spending"));
    expect(reply.content).toContain("won't run paid requests");
    expect(h.sogni.calls).toHaveLength(0);
    const imagine = h.discord.runCommand({ name: 'imagine', options: [{ name: 'prompt', type: ApplicationCommandOptionType.String, value: 'a cat' }] });
    await h.discord.waitFor(() => h?.discord.original(imagine)?.content.includes("can't record spending"));
    expect(h.sogni.calls).toHaveLength(0);
  });
});

describe('bad input from strangers', () => {
  it('refuses a 10,000-character prompt without asking Sogni or charging', async () => {
    h = await startHarness();
    h.discord.postUserMessage({ content: 'x'.repeat(10_000) });
    const reply = await finished(h, (c) => c.includes('10,000 characters'));
    expect(reply.content).toContain('keep questions under 4,000');
    const ask = h.discord.runCommand({ name: 'ask', options: [{ name: 'prompt', type: ApplicationCommandOptionType.String, value: 'y'.repeat(10_000) }] });
    await h.discord.waitFor(() => ask.callbacks.length > 0);
    expect(ask.callbacks[0]).toMatchObject({ type: 4, data: { flags: 64, content: expect.stringContaining('10,000 characters') } });
    expect(h.sogni.calls).toHaveLength(0);
    expect((await books(h)).state.recent).toHaveLength(0);
  });

  it('answers mention floods and @everyone safely', async () => {
    h = await startHarness();
    const users = Array.from({ length: 25 }, (_, i) => h?.discord.user(`user${i}`)).filter((u) => u !== undefined);
    h.sogni.answerWith({ kind: 'stream', deltas: words(`@everyone @here <@&${h.discord.guildId}> ${users.map((u) => `<@${u.id}>`).join(' ')}`) });
    h.discord.postUserMessage({ content: `@everyone @here ${users.map((u) => `<@${u.id}>`).join(' ')} hi all`, mentions: users });
    await finished(h, (c) => c.includes('@everyone'));
    expectSafeMentions(messageWrites(h.discord));
    // The model saw names, not ids, and @everyone defused.
    const sent = JSON.stringify(h.sogni.calls[0]?.body['messages']);
    expect(sent).toContain('@User0');
    expect(sent).not.toContain(`<@${users[0]?.id}>`);
  });

  it('treats zero-width-only text as empty and answers zalgo text', async () => {
    h = await startHarness();
    h.discord.postUserMessage({ content: '\u200b\u200d\u2060 \u200b' });
    await finished(h, (c) => c.includes('/ask'));
    expect(h.sogni.calls).toHaveLength(0);
    h.discord.postUserMessage({ content: 'h̸̡̪̯ͨ͊̽̅̾̎Ȩ̬̩̾͛ͪ̈́̀́͘ ̶̧̨̱̹̭̯ͧ̾ͬC̷̙̲̝͖ͭ̏ͥͮ͟Oͮ͏̮̪̝͍M̲̖͊̒ͪͩͬ̚̚͜Ȇ̴̟̟͙̞ͩ͌͝S̨̥̫͎̭ͯ̿̔̀ͅ' });
    await finished(h, (c) => c === 'Hello from the fake Sogni.');
  });

  it('answers an option of the wrong type with a clear line', async () => {
    h = await startHarness();
    const ask = h.discord.runCommand({ name: 'ask', options: [{ name: 'prompt', type: ApplicationCommandOptionType.Integer, value: 42 }] });
    await h.discord.waitFor(() => ask.callbacks.length > 0);
    expect(ask.callbacks[0]).toMatchObject({ type: 4, data: { flags: 64, content: expect.stringContaining('wrong type') } });
    expect(h.sogni.calls).toHaveLength(0);
  });

  it('explains a 20 MB file that is not an image, and still answers', async () => {
    h = await startHarness();
    const big = h.discord.addAttachment('huge.png', Buffer.alloc(20 * 1024 * 1024, 0x41), 'image/png');
    h.discord.postUserMessage({ content: 'look', attachments: [big] });
    const reply = await finished(h, (c) => c.startsWith('Hello from the fake Sogni.'));
    expect(reply.content).toContain('Skipped huge.png: not a readable image');
  });
});
