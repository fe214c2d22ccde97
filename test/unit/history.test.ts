import { describe, expect, it } from 'vitest';
import { appendTurns, buildUpstream, type Turn } from '../../src/core/history.js';

const turn = (i: number, content = `message ${i}`): Turn =>
  i % 2 === 0 ? { role: 'user', name: `user${i}`, content, at: i } : { role: 'assistant', content, at: i };

describe('buildUpstream', () => {
  it('sends the system prompt first and says who spoke in user turns', () => {
    const { messages } = buildUpstream('Be nice.', [turn(0, 'hi'), turn(1, 'hello')]);
    expect(messages).toEqual([
      { role: 'system', content: 'Be nice.' },
      { role: 'user', content: 'user0: hi' },
      { role: 'assistant', content: 'hello' },
    ]);
  });

  it('keeps at most 30 turns, dropping the oldest', () => {
    const turns = Array.from({ length: 45 }, (_, i) => turn(i));
    const { messages, dropped } = buildUpstream('sys', turns);
    expect(messages).toHaveLength(31);
    expect(dropped).toBe(15);
    expect(messages[1]?.content).toContain('message 15');
    expect(messages.at(-1)?.content).toContain('message 44');
  });

  it('drops the oldest turns to fit the character budget, never the system prompt', () => {
    const turns = Array.from({ length: 10 }, (_, i) => turn(i, 'x'.repeat(100)));
    const { messages } = buildUpstream('S'.repeat(250), turns, { maxTurns: 30, charBudget: 600 });
    expect(messages[0]).toEqual({ role: 'system', content: 'S'.repeat(250) });
    const total = messages.reduce((n, m) => n + m.content.length, 0);
    expect(total).toBeLessThanOrEqual(600);
    expect(messages.at(-1)?.content).toBe('x'.repeat(100));
    expect(messages.length).toBe(4);
  });

  it('always sends the newest turn, shortened if it alone is over budget', () => {
    const { messages } = buildUpstream('sys', [turn(0, 'old'), turn(2, 'y'.repeat(1000))], { maxTurns: 30, charBudget: 100 });
    expect(messages).toHaveLength(2);
    expect(messages[1]?.content.length).toBe(97);
  });
});

describe('appendTurns', () => {
  it('keeps only the newest stored turns', () => {
    const all = appendTurns(Array.from({ length: 59 }, (_, i) => turn(i)), [turn(59), turn(60)], 60);
    expect(all).toHaveLength(60);
    expect(all[0]?.content).toBe('message 1');
    expect(all.at(-1)?.content).toBe('message 60');
  });
});
