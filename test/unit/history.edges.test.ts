import { describe, expect, it } from 'vitest';
import { appendTurns, buildUpstream, imagePlaceholder, turnText, UPSTREAM_CHAR_BUDGET, type Turn } from '../../src/core/history.js';

describe('turnText', () => {
  it('says who spoke only for user turns that have a name', () => {
    expect(turnText({ role: 'user', name: 'Ann', content: 'hi', at: 0 })).toBe('Ann: hi');
    expect(turnText({ role: 'user', content: 'hi', at: 0 })).toBe('hi');
    expect(turnText({ role: 'assistant', name: 'Sogni', content: 'hello', at: 0 })).toBe('hello');
  });

  it('shows an aged-out image by its name', () => {
    expect(imagePlaceholder({ name: 'car.jpg' })).toBe('[image: car.jpg]');
  });
});

describe('buildUpstream edges', () => {
  it('sends no images with assistant turns, even if some were stored with one', () => {
    const turns: Turn[] = [{ role: 'assistant', content: 'here you go', at: 0, images: [{ name: 'x.png', dataUri: 'data:image/png;base64,x' }] }];
    expect(buildUpstream('', turns).messages).toEqual([{ role: 'assistant', content: 'here you go' }]);
    const aged: Turn[] = [{ role: 'assistant', content: 'made it', at: 0, images: [{ name: 'old.png' }] }];
    expect(buildUpstream('', aged).messages).toEqual([{ role: 'assistant', content: 'made it' }]);
  });

  it('sends an image-only message as just its placeholder, with no empty line', () => {
    const turns: Turn[] = [{ role: 'user', content: '', at: 0, images: [{ name: 'x.png' }] }];
    expect(buildUpstream('', turns).messages).toEqual([{ role: 'user', content: '[image: x.png]' }]);
  });

  it('keeps a turn that fills the budget exactly', () => {
    const turns: Turn[] = [
      { role: 'assistant', content: 'a'.repeat(40), at: 0 },
      { role: 'assistant', content: 'b'.repeat(50), at: 1 },
    ];
    const fits = buildUpstream('s'.repeat(10), turns, { maxTurns: 30, charBudget: 100 });
    expect(fits.messages.map((m) => m.content)).toEqual(['s'.repeat(10), 'a'.repeat(40), 'b'.repeat(50)]);
    expect(fits.dropped).toBe(0);
    const over = buildUpstream('s'.repeat(11), turns, { maxTurns: 30, charBudget: 100 });
    expect(over.messages.map((m) => m.content)).toEqual(['s'.repeat(11), 'b'.repeat(50)]);
    expect(over.dropped).toBe(1);
  });

  it('sends the newest turn empty rather than not at all when the system prompt alone is over budget', () => {
    const { messages } = buildUpstream('s'.repeat(120), [{ role: 'user', content: 'hello', at: 0 }], { maxTurns: 30, charBudget: 100 });
    expect(messages).toEqual([
      { role: 'system', content: 's'.repeat(120) },
      { role: 'user', content: '' },
    ]);
  });
});

describe('appendTurns edges', () => {
  it('cuts a stored turn to the upstream budget, and leaves one exactly that long alone', () => {
    const long: Turn = { role: 'assistant', content: 'x'.repeat(UPSTREAM_CHAR_BUDGET + 5), at: 0 };
    const exact: Turn = { role: 'assistant', content: 'y'.repeat(UPSTREAM_CHAR_BUDGET), at: 1 };
    const [cut, kept] = appendTurns([], [long, exact]);
    expect(cut?.content).toBe('x'.repeat(UPSTREAM_CHAR_BUDGET));
    expect(kept).toBe(exact);
  });

  it('does not count placeholders against the images whose data is kept', () => {
    const older: Turn = { role: 'user', content: 'old', at: 0, images: [{ name: 'a.png', dataUri: 'data:a' }] };
    const newer: Turn = { role: 'user', content: 'new', at: 1, images: [{ name: 'gone.png' }, { name: 'b.png', dataUri: 'data:b' }] };
    const stored = appendTurns([older], [newer], 60, 2);
    expect(stored.map((t) => t.images)).toEqual([[{ name: 'a.png', dataUri: 'data:a' }], [{ name: 'gone.png' }, { name: 'b.png', dataUri: 'data:b' }]]);
  });

  it('keeps the data of four images by default, counting every image of a turn', () => {
    const images = ['1', '2', '3', '4', '5'].map((n) => ({ name: `${n}.png`, dataUri: `data:${n}` }));
    const [stored] = appendTurns([], [{ role: 'user', content: 'five', at: 0, images }]);
    expect(stored?.images?.filter((img) => img.dataUri)).toHaveLength(4);
    expect(stored?.images?.map((img) => img.name)).toEqual(['1.png', '2.png', '3.png', '4.png', '5.png']);
  });
});
