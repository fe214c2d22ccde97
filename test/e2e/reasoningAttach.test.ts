import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../fakes/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const finished = (harness: Harness) => harness.discord.waitFor(() => harness.logs.some((l) => l['msg'] === 'answer finished'), 20_000);
const THINKING = {
  kind: 'stream' as const,
  reasoning: ['The user asks for ', 'a sum. '],
  deltas: ['<think>2 plus 2', ' is 4.</think>', 'The answer ', 'is 4.'],
  intervalMs: 50,
};

describe('REASONING', () => {
  it('attach: adds the reasoning to the final message as reasoning.txt, and keeps it out of the answer', async () => {
    h = await startHarness({ env: { REASONING: 'attach' } });
    h.sogni.answerWith(THINKING);
    h.discord.postUserMessage({ content: 'what is 2 + 2?' });
    await finished(h);
    const [message] = h.discord.botMessages();
    expect(h.discord.botMessages()).toHaveLength(1);
    expect(message?.content).toBe('The answer is 4.');
    for (const shown of message?.history ?? []) expect(shown).not.toMatch(/plus|sum/);
    expect(message?.attachments.map((a) => a.filename)).toEqual(['reasoning.txt']);
    const text = h.discord.attachmentBytes(message?.attachments[0] as { id: string })?.toString('utf8');
    expect(text).toBe('The user asks for a sum. 2 plus 2 is 4.');
  });

  it('hide (the default): attaches nothing', async () => {
    h = await startHarness();
    h.sogni.answerWith(THINKING);
    h.discord.postUserMessage({ content: 'what is 2 + 2?' });
    await finished(h);
    const [message] = h.discord.botMessages();
    expect(message?.content).toBe('The answer is 4.');
    expect(message?.attachments).toEqual([]);
    expect(h.discord.calls.some((c) => c.files?.length)).toBe(false);
  });
});
