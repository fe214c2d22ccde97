import { afterEach, describe, expect, it } from 'vitest';
import { words } from '../fakes/fakeSogni.js';
import { startHarness, type Harness } from '../fakes/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Chat priced so an answer costs what its completion tokens say: 4,096 tokens = 1 Spark, and the hold is 1 Spark. */
const PRICED = { PRICE_CHAT_INPUT_PER_M: '0', PRICE_CHAT_OUTPUT_PER_M: '244.140625' };
const costing = (spark: number, text = 'Done.') => ({
  kind: 'stream' as const,
  deltas: words(text),
  usage: { prompt_tokens: 0, completion_tokens: spark * 4096, total_tokens: spark * 4096 },
});
const answered = (harness: Harness) => harness.logs.filter((l) => l['msg'] === 'answer finished').length;

async function usage(harness: Harness, user: ReturnType<Harness['discord']['user']>, guild = true) {
  const record = harness.discord.runCommand({ name: 'usage', user, guild });
  await harness.discord.waitFor(() => record.callbacks.length > 0);
  return record.callbacks[0] as { type: number; data: { content: string; flags: number; allowed_mentions?: { parse?: unknown[] } } };
}

describe('/usage', () => {
  it('shows a member their own spend, allowance and last paid requests after two requests, privately, and nothing of others', async () => {
    h = await startHarness({ env: PRICED });
    h.sogni.answerWith(costing(1.5, 'First.'), costing(3, 'Bob’s.'), costing(2.5, 'Second.'));
    const alice = h.discord.user('alice');
    const bob = h.discord.user('bob');
    h.discord.postUserMessage({ content: 'one', author: alice });
    await h.discord.waitFor(() => answered(h as Harness) === 1);
    h.discord.postUserMessage({ content: 'bob here', author: bob });
    await h.discord.waitFor(() => answered(h as Harness) === 2);
    h.discord.postUserMessage({ content: 'two', author: alice });
    await h.discord.waitFor(() => answered(h as Harness) === 3);

    const reply = await usage(h, alice);
    expect(reply.type).toBe(4);
    expect(reply.data.flags).toBe(64);
    expect(reply.data.allowed_mentions?.parse).toEqual([]);
    const text = reply.data.content;
    expect(text).toContain('You: **4 Spark** today · **4 Spark** this month');
    expect(text).toMatch(/Your daily allowance: `█+░*` \*\*246 Spark\*\* left of 250 Spark · resets <t:\d+:R>/);
    // The server's headroom counts everyone's spend (7 Spark), without saying whose.
    expect(text).toMatch(/Server today: `█+░*` \*\*993 Spark\*\* left of 1,000 Spark · resets <t:\d+:R>/);
    expect(text).toMatch(/Server this month: `█+░*` \*\*9,993 Spark\*\* left of 10,000 Spark · resets <t:\d+:R>/);
    const requests = text.split('\n').filter((l) => l.startsWith('-# <t:'));
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatch(/ · chat · `qwen[^`]+` · 2\.5 Spark$/);
    expect(requests[1]).toMatch(/ · chat · `qwen[^`]+` · 1\.5 Spark$/);
    expect(text).not.toContain(bob.id);
    expect(text).not.toMatch(/\b3 Spark/);

    const bobs = await usage(h, bob);
    expect(bobs.data.content).toContain('You: **3 Spark** today');
    expect(bobs.data.content.split('\n').filter((l) => l.startsWith('-# <t:'))).toHaveLength(1);
  });

  it('shows a member’s own DM allowance in DMs when DMs are allowed', async () => {
    h = await startHarness({ env: { ...PRICED, ALLOW_DMS: 'true', DEFAULT_USER_DAILY_SPARK: '5' } });
    h.sogni.answerWith(costing(2));
    const carol = h.discord.user('carol');
    h.discord.postDirectMessage({ content: 'hi', author: carol });
    await h.discord.waitFor(() => answered(h as Harness) === 1);
    const reply = await usage(h, carol, false);
    expect(reply.data.flags).toBe(64);
    expect(reply.data.content).toContain('**Your Sogni usage in DMs with me**');
    expect(reply.data.content).toMatch(/Your DM allowance today: `█+░*` \*\*3 Spark\*\* left of 5 Spark/);
    expect(reply.data.content).not.toContain('Server');
  });
});
