import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeDiscord } from '../fakes/fakeDiscord.js';

/**
 * The fake must refuse what Discord refuses, with Discord's bodies, or a bot bug that only
 * shows against the real Discord would pass the tests. These talk to it over plain HTTP.
 */

let d: FakeDiscord;
beforeEach(async () => {
  d = await new FakeDiscord({ rateLimit: false }).start();
});
afterEach(async () => {
  await d.stop();
});

async function rest(method: string, path: string, body?: unknown, auth = true): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${d.apiUrl}/v10${path}`, {
    method,
    headers: { ...(auth ? { authorization: `Bot ${d.token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

const TOO_LONG = {
  code: 50035,
  message: 'Invalid Form Body',
  errors: { content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 2000 or fewer in length.' }] } },
};

describe('fake Discord refuses what Discord refuses', () => {
  it('refuses a channel message or an edit over 2,000 characters with the 400 Invalid Form Body', async () => {
    expect(await rest('POST', `/channels/${d.channelId}/messages`, { content: 'x'.repeat(2001) })).toEqual({ status: 400, body: TOO_LONG });
    const ok = await rest('POST', `/channels/${d.channelId}/messages`, { content: 'x'.repeat(2000) });
    expect(ok.status).toBe(200);
    const id = (ok.body as { id: string }).id;
    expect(await rest('PATCH', `/channels/${d.channelId}/messages/${id}`, { content: 'y'.repeat(2001) })).toEqual({ status: 400, body: TOO_LONG });
    expect(d.messages.get(id)?.history).toEqual(['x'.repeat(2000)]);
  });

  it('refuses follow-ups and webhook edits over 2,000 characters too', async () => {
    const record = d.runCommand({ name: 'ask' });
    expect((await rest('POST', `/interactions/${record.id}/${record.token}/callback`, { type: 5 }, false)).status).toBe(204);
    const webhook = `/webhooks/${d.applicationId}/${record.token}`;
    expect(await rest('POST', webhook, { content: 'x'.repeat(2001) }, false)).toEqual({ status: 400, body: TOO_LONG });
    expect(await rest('PATCH', `${webhook}/messages/@original`, { content: 'x'.repeat(2001) }, false)).toEqual({ status: 400, body: TOO_LONG });
    expect((await rest('PATCH', `${webhook}/messages/@original`, { content: 'fits' }, false)).status).toBe(200);
  });

  it('lets the bot edit only its own messages', async () => {
    const theirs = d.postUserMessage({ content: 'mine, not yours' });
    expect(await rest('PATCH', `/channels/${d.channelId}/messages/${theirs.id}`, { content: 'edited' })).toEqual({
      status: 403,
      body: { code: 50005, message: 'Cannot edit a message authored by another user' },
    });
    expect(d.messages.get(theirs.id)?.content).toBe(theirs.content);
    // Through an interaction webhook, a message the webhook did not send does not exist.
    const record = d.runCommand({ name: 'ask' });
    await rest('POST', `/interactions/${record.id}/${record.token}/callback`, { type: 5 }, false);
    const viaWebhook = await rest('PATCH', `/webhooks/${d.applicationId}/${record.token}/messages/${theirs.id}`, { content: 'edited' }, false);
    expect(viaWebhook).toMatchObject({ status: 404, body: { code: 10008 } });
  });

  it('answers an interaction callback later than 3 s with Unknown interaction', async () => {
    const late = d.runCommand({ name: 'ask' });
    d.ageInteraction(late, 3001);
    expect(await rest('POST', `/interactions/${late.id}/${late.token}/callback`, { type: 5 }, false)).toEqual({
      status: 404,
      body: { code: 10062, message: 'Unknown interaction' },
    });
    const inTime = d.runCommand({ name: 'ask' });
    d.ageInteraction(inTime, 2900);
    expect((await rest('POST', `/interactions/${inTime.id}/${inTime.token}/callback`, { type: 5 }, false)).status).toBe(204);
  });

  it('refuses webhook calls on an interaction token older than 15 minutes', async () => {
    const record = d.runCommand({ name: 'ask' });
    await rest('POST', `/interactions/${record.id}/${record.token}/callback`, { type: 5 }, false);
    const webhook = `/webhooks/${d.applicationId}/${record.token}`;
    d.ageInteraction(record, 14 * 60_000);
    expect((await rest('PATCH', `${webhook}/messages/@original`, { content: 'still in time' }, false)).status).toBe(200);
    d.ageInteraction(record, 60_001);
    const expired = { status: 401, body: { code: 50027, message: 'Invalid Webhook Token' } };
    expect(await rest('PATCH', `${webhook}/messages/@original`, { content: 'too late' }, false)).toEqual(expired);
    expect(await rest('POST', webhook, { content: 'too late' }, false)).toEqual(expired);
    expect(d.original(record)?.content).toBe('still in time');
  });

  it('takes its limits as options', async () => {
    const strict = await new FakeDiscord({ rateLimit: false, interactionLimits: { callbackMs: 0 } }).start();
    try {
      const record = strict.runCommand({ name: 'ask' });
      strict.ageInteraction(record, 1);
      const res = await fetch(`${strict.apiUrl}/v10/interactions/${record.id}/${record.token}/callback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 5 }),
      });
      expect(res.status).toBe(404);
    } finally {
      await strict.stop();
    }
  });

  it('keeps the bytes of a file attached on an edit, replacing the attachment list as Discord does', async () => {
    const created = await rest('POST', `/channels/${d.channelId}/messages`, { content: 'answer' });
    const id = (created.body as { id: string }).id;
    const form = new FormData();
    const text = 'é'.repeat(3000);
    form.append('files[0]', new Blob([Buffer.from(text)], { type: 'text/markdown' }), 'answer.md');
    form.append('payload_json', JSON.stringify({ content: 'answer (attached)', attachments: [{ id: '0' }] }));
    const res = await fetch(`${d.apiUrl}/v10/channels/${d.channelId}/messages/${id}`, {
      method: 'PATCH',
      headers: { authorization: `Bot ${d.token}` },
      body: form,
    });
    expect(res.status).toBe(200);
    const message = d.messages.get(id);
    expect(message?.content).toBe('answer (attached)');
    expect(message?.attachments.map((a) => [a.filename, a.size])).toEqual([['answer.md', Buffer.byteLength(text)]]);
    expect(d.attachmentBytes(message?.attachments[0] ?? { id: '' })?.toString('utf8')).toBe(text);
    // The uploaded file is served from the fake CDN, as Discord serves attachments.
    expect(await (await fetch(message?.attachments[0]?.url ?? '')).text()).toBe(text);
  });
});
