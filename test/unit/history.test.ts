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

describe('images in history', () => {
  const withImage = (i: number, name: string): Turn => ({ role: 'user', name: 'u', content: `look ${i}`, at: i, images: [{ name, dataUri: `data:image/jpeg;base64,${i}` }] });

  it('sends kept images as image_url parts and aged-out ones as placeholders', () => {
    const turns: Turn[] = [{ role: 'user', name: 'u', content: 'old', at: 0, images: [{ name: 'car.jpg' }] }, withImage(1, 'boat.png')];
    const { messages } = buildUpstream('', turns);
    expect(messages[0]).toEqual({ role: 'user', content: 'u: old\n[image: car.jpg]' });
    expect(messages[1]).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'u: look 1' },
        { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,1' } },
      ],
    });
  });

  it('never sends more than 20 images, keeping the newest', () => {
    const turns = Array.from({ length: 25 }, (_, i) => withImage(i, `p${i}.png`));
    const { messages } = buildUpstream('', turns);
    const sent = messages.flatMap((m) => (typeof m.content === 'string' ? [] : m.content.filter((p) => p.type === 'image_url')));
    expect(sent).toHaveLength(20);
    expect(messages[0]?.content).toContain('[image: p0.png]');
  });

  it('keeps image data for only the newest images in the store', () => {
    const stored = appendTurns([withImage(0, 'a.png'), withImage(1, 'b.png')], [withImage(2, 'c.png')], 60, 2);
    expect(stored.map((t) => t.images?.[0])).toEqual([
      { name: 'a.png' },
      { name: 'b.png', dataUri: 'data:image/jpeg;base64,1' },
      { name: 'c.png', dataUri: 'data:image/jpeg;base64,2' },
    ]);
  });
});
