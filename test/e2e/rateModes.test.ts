import { ApplicationCommandOptionType } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { RateLimitMode, RecordedCall } from '../fakes/fakeDiscord.js';
import { words, type Script } from '../fakes/fakeSogni.js';
import { startHarness, type Harness } from '../fakes/harness.js';

/**
 * The same bot, no setting changed, against a Discord that counts a channel's creates and
 * edits together, one that counts them (and each /ask token) apart, and one whose limits
 * shrink halfway: it learns which from the headers and meets no 429. The window is 2.5 s
 * instead of Discord's 5 s (5 writes per 2.5 s), and the bot's starting rule says the same,
 * so the tests take half the time.
 */
const WINDOW_MS = 2500;
const LIMIT = 5;
const SPACING_MS = WINDOW_MS / LIMIT;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function start(mode: RateLimitMode): Promise<Harness> {
  h = await startHarness({
    discord: { rateLimit: { mode, limit: LIMIT, windowMs: WINDOW_MS, changeAfterMs: 4000, changedLimit: 3 } },
    overrides: { pacing: { limit: LIMIT, windowMs: WINDOW_MS, marginMs: 100 } },
  });
  return h;
}

/** Answers of about 8 s each (200 words, 40 ms apart), told apart by the question that asked for them. */
function streamAnswers(harness: Harness, names: string[]): Map<string, string> {
  const answers = new Map(names.map((name) => [name, Array.from({ length: 200 }, (_, i) => `${name}${i}`).join(' ')]));
  harness.sogni.script = (body): Script => {
    const last = JSON.stringify((body['messages'] as unknown[]).at(-1));
    const name = names.find((n) => last.includes(`about ${n}`)) ?? 'none';
    return { kind: 'stream', deltas: words(answers.get(name) ?? 'none'), intervalMs: 40 };
  };
  return answers;
}

/** Most successful writes any window let into one bucket, from `from` on. */
function maxPerWindow(calls: RecordedCall[], from: number): number {
  const times = calls.filter((c) => c.status < 300 && c.at >= from).map((c) => c.at);
  return Math.max(0, ...times.map((t) => times.filter((u) => u >= t && u < t + WINDOW_MS).length));
}

const writes = (harness: Harness) => harness.discord.calls.filter((c) => (c.method === 'POST' || c.method === 'PATCH') && /^\/(channels\/\d+\/messages|webhooks\/)/.test(c.path));

describe('the fake Discord’s ways of counting', () => {
  /** A raw create or edit, as discord.js would send it. */
  const write = async (harness: Harness, method: 'POST' | 'PATCH', messageId?: string) => {
    const { discord } = harness;
    const res = await fetch(`${discord.apiUrl}/v10/channels/${discord.channelId}/messages${messageId ? `/${messageId}` : ''}`, {
      method,
      headers: { authorization: `Bot ${discord.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'x', allowed_mentions: { parse: [] } }),
    });
    const body = (await res.json()) as { id?: string };
    return { status: res.status, bucket: res.headers.get('x-ratelimit-bucket'), remaining: res.headers.get('x-ratelimit-remaining'), id: body.id };
  };

  it('shared: creates and edits of a channel draw on one budget', async () => {
    const harness = await start('shared');
    const first = await write(harness, 'POST');
    const results = [first];
    for (let i = 0; i < 4; i++) results.push(await write(harness, 'PATCH', first.id));
    expect(results.map((r) => r.remaining)).toEqual(['4', '3', '2', '1', '0']);
    expect((await write(harness, 'PATCH', first.id)).status).toBe(429);
    expect((await write(harness, 'POST')).status).toBe(429);
  });

  it('separate: creates and edits report one hash yet are exhausted apart', async () => {
    const harness = await start('separate');
    const first = await write(harness, 'POST');
    const edits = [];
    for (let i = 0; i < 5; i++) edits.push(await write(harness, 'PATCH', first.id));
    expect(edits.map((r) => r.remaining)).toEqual(['4', '3', '2', '1', '0']);
    expect(new Set([first.bucket, ...edits.map((r) => r.bucket)]).size).toBe(1);
    expect((await write(harness, 'PATCH', first.id)).status).toBe(429);
    // The creates' budget still has four.
    expect(await write(harness, 'POST')).toMatchObject({ status: 200, remaining: '3' });
  });
});

describe('three answers in one channel, whichever way Discord counts', () => {
  it.each(['shared', 'separate'] as const)('%s: no 429, and each answer gets the edits its budget allows', async (mode) => {
    const harness = await start(mode);
    const names = ['alpha', 'beta', 'gamma'];
    const answers = streamAnswers(harness, names);
    for (const name of names) harness.discord.postUserMessage({ content: `tell me about ${name}` });
    const finals = await harness.discord.waitFor(() => {
      const found = names.map((n) => harness.discord.botMessages().find((m) => m.content === answers.get(n)));
      return found.every(Boolean) ? found : undefined;
    }, 30_000);

    expect(harness.discord.rateLimited).toBe(0);
    // The budget over the stream: from the first text shown to the last word. Shared, the
    // channel's three first messages come out of it; apart, the edits have it to themselves.
    const firstShown = Math.min(...finals.map((m) => m?.historyAt[0] ?? Infinity));
    const lastWord = Math.max(...harness.sogni.calls.map((c) => c.deltaAt.at(-1) ?? 0));
    const turns = Math.floor((lastWord - firstShown) / SPACING_MS) - (mode === 'shared' ? names.length : 0);
    const allowed = Math.floor(turns / names.length);
    const edits = finals.map((m) => (m?.history.length ?? 0) - 1);
    for (const count of edits) expect(count).toBeGreaterThanOrEqual(allowed);
    if (mode === 'separate') {
      // Counted apart, the edits no longer wait behind the first messages: clearly more than shared allows.
      const sharedAllows = Math.floor((turns - names.length) / names.length);
      for (const count of edits) expect(count).toBeGreaterThan(sharedAllows + 1);
    }
    expect(harness.logs.some((l) => l['msg'] === 'discord rate limit')).toBe(false);
  }, 40_000);

  it('changing: follows limits that shrink halfway through, with no 429', async () => {
    const harness = await start('changing');
    const names = ['alpha', 'beta', 'gamma'];
    const answers = streamAnswers(harness, names);
    for (const name of names) harness.discord.postUserMessage({ content: `tell me about ${name}` });
    await harness.discord.waitFor(() => names.every((n) => harness.discord.botMessages().some((m) => m.content === answers.get(n))), 40_000);

    expect(harness.discord.rateLimited).toBe(0);
    const all = writes(harness);
    const changedAt = (all[0]?.at ?? 0) + 4000;
    const edits = all.filter((c) => c.method === 'PATCH');
    // Before the change, the edit budget was used past what the new limit allows; after it, never more than 3 per window.
    expect(maxPerWindow(edits.filter((c) => c.at < changedAt), 0)).toBeGreaterThan(3);
    expect(maxPerWindow(edits, changedAt)).toBeLessThanOrEqual(3);
    expect(edits.filter((c) => c.at >= changedAt).length).toBeGreaterThanOrEqual(3);
  }, 50_000);
});

describe('/ask and a mention streaming in one channel', () => {
  it.each(['shared', 'separate'] as const)('%s: no 429 from the webhooks or the channel, and every answer completes', async (mode) => {
    const harness = await start(mode);
    const names = ['alpha', 'beta', 'gamma'];
    const answers = streamAnswers(harness, names);
    const asks = names.slice(0, 2).map((name) =>
      harness.discord.runCommand({ name: 'ask', options: [{ name: 'prompt', type: ApplicationCommandOptionType.String, value: `tell me about ${name}` }] }),
    );
    harness.discord.postUserMessage({ content: 'tell me about gamma' });
    const replies = await harness.discord.waitFor(() => {
      const found = [...asks.map((a) => harness.discord.original(a)), harness.discord.botMessages().find((m) => m.content === answers.get('gamma'))];
      return found.every((m, i) => m?.content === answers.get(names[i] as string)) ? found : undefined;
    }, 40_000);

    expect(harness.discord.rateLimited).toBe(0);
    const all = writes(harness);
    expect(all.some((c) => c.path.startsWith('/webhooks/')) && all.some((c) => c.path.startsWith('/channels/'))).toBe(true);
    expect(all.every((c) => c.status !== 429)).toBe(true);
    // Each /ask reply starts as the deferred one; then its first text and its edits.
    const askEdits = replies.slice(0, 2).map((m) => (m?.history.length ?? 0) - 2);
    const mentionEdits = (replies[2]?.history.length ?? 0) - 1;
    if (mode === 'separate') {
      // Each token has its own budget: the renderer's one edit a second is what bounds an /ask answer, not the channel.
      const firstShown = Math.min(...replies.map((m) => m?.historyAt[1] ?? m?.historyAt[0] ?? Infinity));
      const lastWord = Math.max(...harness.sogni.calls.map((c) => c.deltaAt.at(-1) ?? 0));
      const seconds = Math.floor((lastWord - firstShown) / 1000);
      for (const count of askEdits) expect(count).toBeGreaterThanOrEqual(seconds - 1);
      expect(mentionEdits).toBeGreaterThanOrEqual(seconds - 1);
    } else {
      for (const count of [...askEdits, mentionEdits]) expect(count).toBeGreaterThanOrEqual(2);
    }
  }, 50_000);
});
