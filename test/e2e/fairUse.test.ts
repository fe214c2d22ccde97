import { ApplicationCommandOptionType } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeMessage, FakeUser } from '../fakes/fakeDiscord.js';
import { imageResult, words, type Script } from '../fakes/fakeSogni.js';
import { startHarness, type Harness } from '../fakes/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const rateLimited = (headers: Record<string, string>, extra: Record<string, unknown> = {}): Script => ({
  kind: 'error',
  status: 429,
  body: { error: { message: 'Rate limit exceeded', type: 'rate_limit_error', code: 'rate_limit_exceeded', ...extra } },
  headers,
});

/** The most arrivals in any window of `windowMs` starting at an arrival. */
function busiest(times: number[], windowMs: number): number {
  let best = 0;
  for (const t of times) best = Math.max(best, times.filter((u) => u >= t && u < t + windowMs).length);
  return best;
}

const WAITING = /^-# ⏳ Waiting for Sogni/;

describe("sharing Sogni's rate limit", () => {
  it('answers a burst of 30 mentions from 3 people within the limit, taking turns, with no error shown', async () => {
    h = await startHarness({
      // The bot believes it may send 5 a second; Sogni allows 5 in 2 s, so the bot meets 429s it must ride out.
      env: { SOGNI_RATE_LIMIT: '5', USER_MAX_ACTIVE: '2' },
      overrides: { sogniRateWindowMs: 1000, pacing: { limit: 20, windowMs: 1000, marginMs: 50 } },
      // Discord at a faster scale too: 30 answers in one channel are not what this test is about.
      discord: { rateLimit: { limit: 20, windowMs: 1000 } },
    });
    const { discord, sogni } = h;
    sogni.rateLimit = { limit: 5, windowMs: 2000 };
    sogni.script = (body) => {
      const last = (body['messages'] as { content: string }[]).at(-1)?.content ?? '';
      return { kind: 'stream', deltas: words(`Answer to ${last}`), intervalMs: 20 };
    };
    const people = ['ann', 'bob', 'cat'].map((name) => discord.user(name));
    // The worst order for fairness: each person's whole flood arrives before the next person's first.
    const asked: { who: FakeUser; question: FakeMessage; expected: string }[] = [];
    for (const who of people) {
      for (let i = 1; i <= 10; i++) {
        const text = `${who.username} question ${i}`;
        asked.push({ who, question: discord.postUserMessage({ content: text, author: who }), expected: `Answer to ${who.global_name}: ${text}` });
      }
    }
    const replyTo = (id: string) => discord.botMessages().find((m) => m.message_reference?.message_id === id);
    await discord.waitFor(() => asked.every((a) => replyTo(a.question.id)?.content === a.expected), 60_000);

    const replies = asked.map((a) => ({ ...a, reply: replyTo(a.question.id) as FakeMessage }));
    // Every mention answered once, with Sogni's text, and no error line on the way.
    expect(sogni.chatCalls()).toHaveLength(30);
    for (const { reply } of replies) expect(reply.history.some((c) => c.includes('⚠️'))).toBe(false);

    // Sogni never let more than its limit in; the bot met 429s and never sent faster than it was told.
    const accepted = sogni.arrivals.filter((a) => a.accepted).map((a) => a.at);
    expect(accepted).toHaveLength(30);
    expect(busiest(accepted, 2000)).toBeLessThanOrEqual(5);
    expect(sogni.arrivals.some((a) => !a.accepted)).toBe(true);
    expect(busiest(sogni.arrivals.map((a) => a.at), 1000)).toBeLessThanOrEqual(5);

    // Nobody waits behind all of someone else's: each person's first answer comes before another's last.
    const doneAt = (who: FakeUser) => replies.filter((r) => r.who === who).map((r) => r.reply.historyAt.at(-1) as number);
    for (const a of people) {
      for (const b of people) {
        if (a !== b) expect(Math.min(...doneAt(a))).toBeLessThan(Math.max(...doneAt(b)));
      }
    }
    // Those who waited were told so, with their place in line.
    const shown = replies.flatMap((r) => r.reply.history);
    expect(shown.some((c) => /^-# ⏳ Waiting for Sogni — \d+ ahead of you$/.test(c))).toBe(true);
  }, 90_000);

  it("retries a 429 after its Retry-After header and shows the answer, not the limit", async () => {
    h = await startHarness();
    h.sogni.answerWith(rateLimited({ 'retry-after': '1' }), { kind: 'stream', deltas: words('Worth the wait.') });
    h.discord.postUserMessage({ content: 'question' });
    const reply = await h.discord.waitFor(() => h?.discord.botMessages().find((m) => m.content === 'Worth the wait.'), 15_000);
    expect(h.sogni.calls).toHaveLength(2);
    const [first, second] = h.sogni.arrivals;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(1000);
    expect(reply.history.some((c) => WAITING.test(c))).toBe(true);
    expect(reply.history.some((c) => c.includes('⚠️'))).toBe(false);
  });

  it('reads the wait from retryAfter in the body when there is no header', async () => {
    h = await startHarness();
    h.sogni.answerWith(rateLimited({}, { retryAfter: 1 }), { kind: 'stream', deltas: words('Body said one second.') });
    h.discord.postUserMessage({ content: 'question' });
    await h.discord.waitFor(() => h?.discord.botMessages().find((m) => m.content === 'Body said one second.'), 15_000);
    const [first, second] = h.sogni.arrivals;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(1000);
  });

  it('holds everyone while Sogni says the key is over its limit, not only the request that heard it', async () => {
    h = await startHarness();
    h.sogni.script = (_body, index) => (index === 0 ? rateLimited({ 'retry-after': '2' }) : { kind: 'stream', deltas: words('ok') });
    h.discord.postUserMessage({ content: 'first' });
    // The bot heard the 429 once the first answer says it is waiting.
    await h.discord.waitFor(() => h?.discord.botMessages().some((m) => WAITING.test(m.content)));
    h.discord.postUserMessage({ content: 'second', author: h.discord.user('bob') });
    await h.discord.waitFor(() => h && h.discord.botMessages().filter((m) => m.content === 'ok').length === 2, 15_000);
    const [first, ...rest] = h.sogni.arrivals.map((a) => a.at);
    expect(rest).toHaveLength(2);
    for (const at of rest) expect(at - (first ?? 0)).toBeGreaterThanOrEqual(2000);
  });

  it('sends once more when Sogni is restarting or lost the transport before any text', async () => {
    h = await startHarness();
    h.sogni.answerWith(
      { kind: 'error', status: 503, body: { error: { message: 'restarting', type: 'server_error', code: 'server_restarting' } } },
      { kind: 'stream', deltas: words('Back again.') },
      { kind: 'stream', deltas: words('never shown'), errorAfter: { deltas: 0, error: { message: 'lost', type: 'transport_lost' } } },
      { kind: 'stream', deltas: words('Found it.') },
    );
    h.discord.postUserMessage({ content: 'one' });
    await h.discord.waitFor(() => h?.discord.botMessages().find((m) => m.content === 'Back again.'), 15_000);
    h.discord.postUserMessage({ content: 'two' });
    await h.discord.waitFor(() => h?.discord.botMessages().find((m) => m.content === 'Found it.'), 15_000);
    expect(h.sogni.calls).toHaveLength(4);
  });

  it('does not send again once part of the answer was shown', async () => {
    h = await startHarness();
    h.sogni.answerWith(
      { kind: 'stream', deltas: words('Half an answer'), errorAfter: { deltas: 2, error: { message: 'lost', type: 'transport_lost', code: 'transport_lost' } } },
      { kind: 'stream', deltas: words('A different answer.') },
    );
    h.discord.postUserMessage({ content: 'question' });
    const reply = await h.discord.waitFor(() => h?.discord.botMessages().find((m) => m.content.includes('⚠️')), 15_000);
    expect(reply.content).toBe('Half an\n\n⚠️ Sogni is restarting. Try again in a few seconds.');
    expect(h.sogni.calls).toHaveLength(1);
  });

  it('retries a 429 on /imagine and posts the image', async () => {
    h = await startHarness({ env: { MEDIA_MODE: 'completions' } });
    h.sogni.mediaScript = (_body, index) =>
      index === 0 ? rateLimited({ 'retry-after': '1' }) : { kind: 'json', body: imageResult(`${h?.sogni.origin}/media/after-wait.png`) };
    const interaction = h.discord.runCommand({ name: 'imagine', options: [{ name: 'prompt', type: ApplicationCommandOptionType.String, value: 'a fox' }] });
    const done = await h.discord.waitFor(() => {
      const m = h?.discord.original(interaction);
      return m?.attachments.length ? m : undefined;
    }, 15_000);
    expect(done.content).not.toContain('⚠️');
    expect(h.sogni.mediaCalls()).toHaveLength(2);
  });
});
