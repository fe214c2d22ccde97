import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FairQueue } from '../../src/core/fairQueue.js';
import { Sogni, SogniTimeoutError } from '../../src/sogni/sogniClient.js';
import { FakeSogni, words } from '../fakes/fakeSogni.js';

/** The chat stream's timeout is for silence, not for length (the real openai SDK against the fake Sogni). */
describe('the chat stream idle timeout', () => {
  let fake: FakeSogni;
  let sogni: Sogni;
  beforeEach(async () => {
    fake = await new FakeSogni().start();
    const queue = new FairQueue({ limit: 1000, windowMs: 1000, maxActivePerUser: 4 });
    sogni = new Sogni({ apiKey: fake.apiKey, baseURL: fake.baseUrl, timeoutSeconds: 1, queue });
  });
  afterEach(async () => {
    await fake.stop();
  });

  const read = async () => {
    const stream = sogni.streamChat({ model: 'm', messages: [{ role: 'user', content: 'hi' }], signal: new AbortController().signal, userId: 'u1' });
    let text = '';
    for (;;) {
      const next = await stream.next();
      if (next.done) return text;
      text += next.value.content ?? '';
    }
  };

  it('keeps a stream that is slow but steady, however long it runs past the timeout', async () => {
    // 2.4 s of chunks 80 ms apart against a 1 s timeout.
    const deltas = words('steady '.repeat(30));
    fake.answerWith({ kind: 'stream', deltas, intervalMs: 80 });
    expect(await read()).toBe(deltas.join(''));
    expect(fake.calls[0]?.aborted).toBeFalsy();
  });

  it('gives up once the stream is silent for the timeout, and stops the request', async () => {
    fake.answerWith({ kind: 'stream', deltas: words('Slow start then nothing'), stallAfter: 2, intervalMs: 50 });
    await expect(read()).rejects.toBeInstanceOf(SogniTimeoutError);
    await fake.waitFor(() => fake.calls[0]?.aborted);
  });
});
