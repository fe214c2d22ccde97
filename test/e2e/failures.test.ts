import { afterEach, describe, expect, it } from 'vitest';
import { words, type Script } from '../fakes/fakeSogni.js';
import { startHarness, type Harness } from '../fakes/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function askAndWait(harness: Harness, expected: RegExp) {
  harness.discord.postUserMessage({ content: 'question' });
  return harness.discord.waitFor(() => harness.discord.botMessages().find((m) => expected.test(m.content)), 15_000);
}

const envelope = (status: number, code: string | number, message: string, headers: Record<string, string> = {}): Script => ({
  kind: 'error',
  status,
  body: { error: { message, type: 'api_error', code } },
  headers,
});

describe('Sogni failures become one clear line', () => {
  it.each([
    ['a rejected key', envelope(401, 'invalid_api_key', 'bad key'), /^⚠️ Sogni rejected the bot's API key/],
    ['an empty balance', envelope(402, 'insufficient_balance', 'no money'), /^⚠️ The Sogni account behind this bot is out of credit/],
    ['a subscription code', envelope(402, 4081, 'upgrade'), /higher Sogni plan/],
    ['a server error', envelope(502, 'bad_gateway', 'upstream'), /server error \(502\)/],
    ['a body that is not the envelope', { kind: 'error', status: 500, body: 'oops' } as Script, /server error \(500\)/],
  ])('explains %s', async (_name, script, line) => {
    h = await startHarness();
    h.sogni.answerWith(script);
    const reply = await askAndWait(h, line);
    expect(reply.content.split('\n')).toHaveLength(1);
    expect(h.logText()).not.toContain(h.sogni.apiKey);
  });

  it('explains a rate limit that outlasts the wait, after retrying while it could', async () => {
    // A 429 is retried transparently; only when Sogni still says no after the longest wait does the user hear it.
    h = await startHarness({ overrides: { sogniMaxRateLimitWaitMs: 2500 } });
    h.sogni.answerWith(envelope(429, 'rate_limited', 'slow down', { 'retry-after': '1' }));
    const reply = await askAndWait(h, /rate-limiting the bot\. Try again in 1 s/);
    expect(reply.content.split('\n')).toHaveLength(1);
    expect(h.sogni.calls).toHaveLength(3);
  });

  it('explains a rate limit whose wait is longer than the bot waits, at once', async () => {
    h = await startHarness({ overrides: { sogniMaxRateLimitWaitMs: 2500 } });
    h.sogni.answerWith(envelope(429, 'rate_limited', 'slow down', { 'retry-after': '7' }));
    const reply = await askAndWait(h, /rate-limiting the bot\. Try again in 7 s/);
    expect(reply.content.split('\n')).toHaveLength(1);
    expect(h.sogni.calls).toHaveLength(1);
  });

  it('keeps the partial answer and adds a line when the stream drops', async () => {
    h = await startHarness();
    h.sogni.answerWith({ kind: 'stream', deltas: words('One two three four five six'), dropAfter: 3, intervalMs: 20 });
    const reply = await askAndWait(h, /dropped/);
    expect(reply.content).toBe('One two three\n\n⚠️ The connection to Sogni dropped before the answer finished. Try again.');
  });

  it('explains an error event inside the stream', async () => {
    h = await startHarness();
    h.sogni.answerWith({
      kind: 'stream',
      deltas: words('Partial answer here'),
      errorAfter: { deltas: 2, error: { message: 'worker crashed', type: 'server_error', code: 'worker_failed' } },
    });
    const reply = await askAndWait(h, /worker crashed/);
    expect(reply.content).toBe('Partial answer\n\n⚠️ Sogni stopped the answer with an error: worker crashed');
  });

  it('explains a stream it cannot parse', async () => {
    h = await startHarness();
    h.sogni.answerWith({ kind: 'stream', deltas: words('a b c'), malformedAfter: 1 });
    await askAndWait(h, /couldn't read/);
  });

  it('gives up on a stalled stream after the timeout', async () => {
    h = await startHarness({ env: { SOGNI_TIMEOUT_SECONDS: '5' } });
    h.sogni.answerWith({ kind: 'stream', deltas: words('Slow start then nothing'), stallAfter: 2 });
    const reply = await askAndWait(h, /didn't answer for 5 s/);
    expect(reply.content.startsWith('Slow start')).toBe(true);
    await h.sogni.waitFor(() => h?.sogni.calls[0]?.aborted);
  });

  it('saves the question even when the answer failed, and the next answer sees it', async () => {
    h = await startHarness();
    // A restart is retried once; the second one fails the answer.
    const restarting = envelope(503, 'server_restarting', 'restarting');
    h.sogni.answerWith(restarting, restarting, { kind: 'stream', deltas: words('Now it works.') });
    await askAndWait(h, /restarting/);
    h.discord.postUserMessage({ content: 'again' });
    await h.discord.waitFor(() => h?.discord.botMessages().find((m) => m.content === 'Now it works.'));
    const contents = (h.sogni.calls[2]?.body['messages'] as { content: string }[]).map((m) => m.content).slice(1);
    expect(contents).toEqual(['Alice: question', 'Alice: again']);
  });
});

describe('Discord failures', () => {
  it('stops paying upstream when its message is deleted mid-answer', async () => {
    h = await startHarness();
    const deltas = words('word '.repeat(400));
    h.sogni.answerWith({ kind: 'stream', deltas, intervalMs: 10 });
    h.discord.postUserMessage({ content: 'long one please' });
    const reply = await h.discord.waitFor(() => h?.discord.botMessages()[0]);
    h.discord.deleteMessage(reply.id);
    const call = await h.sogni.waitFor(() => (h?.sogni.calls[0]?.aborted ? h.sogni.calls[0] : undefined), 10_000);
    expect(call.sent).toBeLessThan(deltas.length);
    expect(h.logs.some((l) => l['msg'] === 'answer can no longer be shown; stopping the upstream request')).toBe(true);
  });

  it('retries an edit that failed with a server error so the final text lands', async () => {
    h = await startHarness();
    let failures = 0;
    h.discord.addFault(({ method }) => {
      if (method !== 'PATCH' || failures >= 4) return undefined;
      failures += 1;
      return { status: 500, body: { message: 'Internal Server Error', code: 0 } };
    });
    // Slow enough that the text shows before the end (past the reasoning hold), so the last word is an edit.
    h.sogni.answerWith({ kind: 'stream', deltas: words('This answer survives a flaky Discord.'), intervalMs: 450 });
    const reply = await askAndWait(h, /^This answer survives a flaky Discord\.$/);
    expect(reply.history.at(-1)).toBe('This answer survives a flaky Discord.');
    expect(failures).toBe(4);
  });

  it('keeps three concurrent answers in one channel under the rate limit, each completing', async () => {
    h = await startHarness();
    const answers = ['alpha', 'beta', 'gamma'].map((name) => Array.from({ length: 60 }, (_, i) => `${name}${i}`).join(' '));
    h.sogni.script = (body) => {
      const last = (body['messages'] as { content: string }[]).at(-1)?.content ?? '';
      const answer = answers.find((a) => last.endsWith(a.slice(0, 5))) ?? 'none';
      return { kind: 'stream', deltas: words(answer), intervalMs: 60 };
    };
    for (const a of answers) h.discord.postUserMessage({ content: a.slice(0, 5) });
    await h.discord.waitFor(() => answers.every((a) => h?.discord.botMessages().some((m) => m.content === a)), 30_000);
    expect(h.discord.rateLimited).toBe(0);
    for (const a of answers) {
      const message = h.discord.botMessages().find((m) => m.content === a);
      expect(message?.history.length).toBeGreaterThanOrEqual(2);
    }
    expect(h.logs.some((l) => l['msg'] === 'discord rate limit')).toBe(false);
  });
});

describe('shutdown', () => {
  it('finishes an answer in progress with a notice and saves it when the bot stops', async () => {
    h = await startHarness();
    h.sogni.answerWith({ kind: 'stream', deltas: words('word '.repeat(300)), intervalMs: 10 });
    h.discord.postUserMessage({ content: 'long answer please' });
    await h.discord.waitFor(() => h?.discord.botMessages()[0]);
    await h.stopBot();
    const reply = h.discord.botMessages()[0];
    expect(reply?.content).toMatch(/^word( word)*\n\n⚠️ The bot is restarting/);
    await h.sogni.waitFor(() => h?.sogni.calls[0]?.aborted);
    // The partial exchange was kept: a new bot on the same store sees it.
    await h.restartBot();
    h.sogni.answerWith({ kind: 'stream', deltas: words('ok') });
    h.discord.postUserMessage({ content: 'next' });
    await h.discord.waitFor(() => h?.sogni.calls.length === 2);
    const roles = (h.sogni.calls[1]?.body['messages'] as { role: string }[]).map((m) => m.role);
    expect(roles).toEqual(['system', 'user', 'assistant', 'user']);
  });
});

describe('secrets', () => {
  it('never writes the bot token or the API key to the logs, even when Discord errors quote URLs', async () => {
    h = await startHarness();
    h.discord.addFault(({ method, path }) =>
      method === 'PATCH' && path.startsWith('/webhooks/') ? { status: 400, body: { message: 'Invalid Form Body', code: 50035 } } : undefined,
    );
    const interaction = h.discord.runCommand({ name: 'ask', options: [{ name: 'prompt', type: 3, value: 'hi' }] });
    await h.discord.waitFor(() => h?.logs.some((l) => l['msg'] === 'answer finished'));
    const text = h.logText();
    expect(text).toContain('Invalid Form Body');
    expect(text).not.toContain(interaction.token);
    expect(text).not.toContain(h.discord.token);
    expect(text).not.toContain(h.sogni.apiKey);
  });
});
