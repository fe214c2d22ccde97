import { ApplicationCommandOptionType } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { OVERFLOW_FINAL } from '../../src/core/streamRenderer.js';
import type { FakeMessage } from '../fakes/fakeDiscord.js';
import { startHarness, type Harness } from '../fakes/harness.js';
import { expectSafeMentions, messageWrites } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Prose of exactly `chars` characters (trimmed), in paragraphs. */
function longAnswer(chars: number): string {
  const paragraphs: string[] = [];
  for (let i = 0; paragraphs.join('\n\n').length < chars + 200; i++) {
    paragraphs.push(`Paragraph ${i}. ${'The quick brown fox jumps over the lazy dog. '.repeat(6).trim()}`);
  }
  return paragraphs.join('\n\n').slice(0, chars).trim();
}

/** The text streamed in deltas of `size` characters. */
function deltasOf(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

const squash = (text: string) => text.replace(/\s+/g, ' ').trim();
/** The answer text a message shows, without the line under it that points to the file. */
const shownText = (m: FakeMessage) => m.content.split(`\n\n${OVERFLOW_FINAL}`)[0] ?? '';

function expectWithinDiscordLimits(harness: Harness): void {
  for (const m of harness.discord.botMessages()) for (const c of m.history) expect(c.length).toBeLessThanOrEqual(2000);
  // The fake refuses content over 2,000 characters: no write was refused for any reason.
  expect(messageWrites(harness.discord).filter((c) => c.status >= 400)).toEqual([]);
  expectSafeMentions(messageWrites(harness.discord));
}

describe('answers longer than MAX_ANSWER_MESSAGES', () => {
  it('ends a 20,000-character answer as 6 messages, the last carrying the whole answer as answer.md', async () => {
    h = await startHarness();
    const answer = longAnswer(20_000);
    h.sogni.answerWith({ kind: 'stream', deltas: deltasOf(answer, 400), intervalMs: 15 });
    h.discord.postUserMessage({ content: 'write me a very long essay' });
    const last = await h.discord.waitFor(() => h?.discord.botMessages().find((m) => m.attachments.length > 0), 30_000);
    await h.discord.waitFor(() => h?.logs.some((l) => l['msg'] === 'answer finished'), 10_000);

    const messages = h.discord.botMessages();
    expect(messages).toHaveLength(6);
    expect(messages.at(-1)).toBe(last);
    expectWithinDiscordLimits(h);
    expect(last.content).toContain(OVERFLOW_FINAL);
    expect(last.attachments.map((a) => [a.filename, a.size])).toEqual([['answer.md', Buffer.byteLength(answer)]]);
    expect(h.discord.attachmentBytes(last.attachments[0] ?? { id: '' })?.toString('utf8')).toBe(answer);
    // The messages show the start of the answer, in order; the file has all of it.
    expect(squash(answer).startsWith(squash(messages.map(shownText).join(' ')))).toBe(true);
    expect(messages.slice(0, -1).every((m) => m.attachments.length === 0)).toBe(true);
  });

  it('caps an /ask answer too, attaching the file through the interaction webhook', async () => {
    h = await startHarness({ env: { MAX_ANSWER_MESSAGES: '2' } });
    const answer = longAnswer(7000);
    h.sogni.answerWith({ kind: 'stream', deltas: deltasOf(answer, 500), intervalMs: 15 });
    h.discord.runCommand({ name: 'ask', options: [{ name: 'prompt', type: ApplicationCommandOptionType.String, value: 'a long one' }] });
    const last = await h.discord.waitFor(() => h?.discord.botMessages().find((m) => m.attachments.length > 0), 30_000);
    await h.discord.waitFor(() => h?.logs.some((l) => l['msg'] === 'answer finished'), 10_000);

    const messages = h.discord.botMessages();
    expect(messages).toHaveLength(2);
    expect(messages.every((m) => m.webhook_id !== undefined)).toBe(true);
    expectWithinDiscordLimits(h);
    expect(h.discord.attachmentBytes(last.attachments[0] ?? { id: '' })?.toString('utf8')).toBe(answer);
    expect(h.discord.calls.some((c) => c.path.startsWith('/webhooks/') && c.files?.some((f) => f.name === 'answer.md'))).toBe(true);
    expect(squash(answer).startsWith(squash(messages.map(shownText).join(' ')))).toBe(true);
  });

  it('attaches nothing when the answer fits in its messages', async () => {
    h = await startHarness();
    const answer = longAnswer(5000);
    h.sogni.answerWith({ kind: 'stream', deltas: deltasOf(answer, 500), intervalMs: 15 });
    h.discord.postUserMessage({ content: 'a medium one' });
    await h.discord.waitFor(() => h?.logs.some((l) => l['msg'] === 'answer finished'), 30_000);
    const messages = h.discord.botMessages();
    expect(messages.length).toBeGreaterThan(1);
    expect(messages.flatMap((m) => m.attachments)).toEqual([]);
    expect(squash(messages.map((m) => m.content).join(' '))).toBe(squash(answer));
    expectWithinDiscordLimits(h);
  });
});
