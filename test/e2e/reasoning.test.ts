import { afterEach, describe, expect, it } from 'vitest';
import { HOLD_MS } from '../../src/core/thinkFilter.js';
import { startHarness, type Harness } from '../fakes/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const finishedAnswer = (harness: Harness) => harness.discord.waitFor(() => harness.logs.some((l) => l['msg'] === 'answer finished'), 20_000);

describe('reasoning without an opening <think>', () => {
  it('never shows the reasoning, in any edit of any message, when only </think> arrives', async () => {
    h = await startHarness();
    h.sogni.answerWith({
      kind: 'stream',
      deltas: ['Let me think ', 'about this. ', 'The user ', 'wants X.', '</thi', 'nk>', 'The answer ', 'is 4.'],
      intervalMs: 120,
    });
    h.discord.postUserMessage({ content: 'what is 2 + 2?' });
    await finishedAnswer(h);
    const messages = h.discord.botMessages();
    expect(messages).toHaveLength(1);
    expect(messages[0]?.content).toBe('The answer is 4.');
    const everythingShown = messages.flatMap((m) => m.history);
    expect(everythingShown.length).toBeGreaterThan(0);
    for (const content of everythingShown) {
      expect(content).not.toContain('Let me think');
      expect(content).not.toContain('user wants');
      expect(content).not.toContain('think>');
    }
  });

  it(`shows an untagged answer ${HOLD_MS / 1000} s after it starts, even while the model pauses`, async () => {
    h = await startHarness();
    h.sogni.answerWith({ kind: 'stream', deltas: ['Hello there. ', 'And more.'], intervalMs: HOLD_MS + 1000 });
    h.discord.postUserMessage({ content: 'hi' });
    const reply = await h.discord.waitFor(() => h?.discord.botMessages().find((m) => m.content.includes('Hello there.')), 10_000);
    const call = h.sogni.calls[0];
    // Shown by the hold running out, not by the next delta: that one has not been sent yet.
    expect(call?.sent).toBe(1);
    const shownAt = reply.historyAt[reply.history.findIndex((c) => c.includes('Hello there.'))] ?? 0;
    expect(shownAt - (call?.deltaAt[0] ?? 0)).toBeGreaterThanOrEqual(HOLD_MS - 50);
    // Nothing was shown before it: the hold posts no text early.
    expect(reply.history[0]).toContain('Hello there.');
    await finishedAnswer(h);
    expect(h.discord.botMessages()[0]?.content).toBe('Hello there. And more.');
  });
});
