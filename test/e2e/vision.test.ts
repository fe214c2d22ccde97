import { ApplicationCommandOptionType } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { ContentPart } from '../../src/core/history.js';
import { words } from '../fakes/fakeSogni.js';
import { startHarness, type Harness } from '../fakes/harness.js';
import { corruptPng, decodeDataUri, exifRotatedJpeg, solidPng, transparentPng } from '../fixtures/images.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

type Sent = { role: string; content: string | ContentPart[] };
const lastUser = (h: Harness, call: number) => (h.sogni.calls[call]?.body['messages'] as Sent[]).at(-1) as Sent;
const parts = (m: Sent): ContentPart[] => (typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content);
const imageUrls = (m: Sent) => parts(m).flatMap((p) => (p.type === 'image_url' ? [p.image_url.url] : []));
const textOf = (m: Sent) => parts(m).flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('\n');

async function finalReply(harness: Harness, channelId = harness.discord.channelId) {
  return harness.discord.waitFor(() => harness.discord.botMessages(channelId).find((m) => m.content.startsWith('Hello from the fake Sogni.') && !m.content.includes('▌')), 15_000);
}

describe('attachments on a mention', () => {
  it('sends a photo as a resized JPEG data URI and a text file as text, and explains skipped files', async () => {
    h = await startHarness();
    const d = h.discord;
    const photo = d.addAttachment('big photo.png', await solidPng(3000, 2000), 'image/png');
    const notes = d.addAttachment('notes.md', Buffer.from('# Shopping\n- apples\n- pears\n'), 'text/markdown; charset=utf-8');
    const zip = d.addAttachment('archive.zip', Buffer.alloc(100, 1), 'application/zip');
    const broken = d.addAttachment('broken.png', await corruptPng(), 'image/png');
    const fake = d.addAttachment('fake.png', Buffer.from('I am not a PNG at all'), null);
    d.postUserMessage({ content: 'what do you see?', attachments: [photo, notes, zip, broken, fake] });
    const reply = await finalReply(h);

    const sent = lastUser(h, 0);
    const urls = imageUrls(sent);
    expect(urls).toHaveLength(1);
    expect(await decodeDataUri(urls[0] as string)).toMatchObject({ mime: 'image/jpeg', width: 1024, height: 683 });
    expect(textOf(sent)).toContain('Alice: what do you see?');
    expect(textOf(sent)).toContain('<file name="notes.md">\n# Shopping\n- apples');
    expect(reply.content).toContain('Skipped archive.zip: not an image or a text file.');
    expect(reply.content).toContain('Skipped broken.png: not a readable image');
    expect(reply.content).toContain('Skipped fake.png: not a readable image');
    expect(d.downloads).not.toContain(zip.id);
  });

  it('keeps transparency as PNG and turns a rotated phone photo upright', async () => {
    h = await startHarness();
    const d = h.discord;
    d.postUserMessage({
      content: 'compare',
      attachments: [
        d.addAttachment('logo.png', await transparentPng(400, 400), 'image/png'),
        d.addAttachment('IMG_0001.jpg', await exifRotatedJpeg(1600, 800), 'image/jpeg'),
      ],
    });
    await finalReply(h);
    const [logo, photo] = await Promise.all(imageUrls(lastUser(h, 0)).map(decodeDataUri));
    expect(logo).toMatchObject({ mime: 'image/png', width: 400, height: 400, channels: 4 });
    expect(photo).toMatchObject({ mime: 'image/jpeg', width: 512, height: 1024 });
  });

  it('answers about an image on the message it replies to', async () => {
    h = await startHarness();
    const d = h.discord;
    const shared = d.postUserMessage({ content: 'look at my car', mentionBot: false, attachments: [d.addAttachment('car.jpg', await solidPng(640, 480, '#cc0000'), 'image/jpeg')] });
    d.postUserMessage({ content: 'what colour is it?', replyTo: shared.id });
    await finalReply(h);
    expect(imageUrls(lastUser(h, 0))).toHaveLength(1);
  });

  it('uses at most MAX_IMAGES images and says which were skipped', async () => {
    h = await startHarness({ env: { MAX_IMAGES: '2' } });
    const d = h.discord;
    const images = await Promise.all([1, 2, 3].map(async (i) => d.addAttachment(`pic${i}.png`, await solidPng(50, 50), 'image/png')));
    d.postUserMessage({ content: 'three pictures', attachments: images });
    const reply = await finalReply(h);
    expect(imageUrls(lastUser(h, 0))).toHaveLength(2);
    expect(reply.content).toContain('Skipped pic3.png: only 2 images are used per message.');
  });

  it('refuses files over MAX_ATTACHMENT_MB without downloading them, and stops a download that lied about its size', async () => {
    h = await startHarness({ env: { MAX_ATTACHMENT_MB: '1' } });
    const d = h.discord;
    const declaredBig = d.addAttachment('huge.png', await solidPng(10, 10), 'image/png', { reportedSize: 20 * 1024 * 1024 });
    const liar = d.addAttachment('liar.png', Buffer.alloc(3 * 1024 * 1024, 1), 'image/png', { reportedSize: 1000 });
    d.postUserMessage({ content: 'big files', attachments: [declaredBig, liar] });
    const reply = await finalReply(h);
    expect(reply.content).toContain('Skipped huge.png: 20 MB, over the 1 MB limit.');
    expect(reply.content).toContain('Skipped liar.png: too large (over 1 MB).');
    expect(d.downloads).not.toContain(declaredBig.id);
    expect(imageUrls(lastUser(h, 0))).toHaveLength(0);
  });

  it('gives up on a slow download and still answers', async () => {
    h = await startHarness({ overrides: { attachmentTimeoutMs: 300 } });
    const d = h.discord;
    const slow = d.addAttachment('slow.png', await solidPng(100, 100), 'image/png', { delayMs: 3000 });
    d.postUserMessage({ content: 'slow one', attachments: [slow] });
    const reply = await finalReply(h);
    expect(reply.content).toContain('Skipped slow.png: took longer than');
    expect(h.sogni.calls).toHaveLength(1);
  });

  it('does not ask Sogni when nothing in the message could be read', async () => {
    h = await startHarness();
    const d = h.discord;
    d.postUserMessage({ content: '', attachments: [d.addAttachment('x.exe', Buffer.alloc(10), 'application/octet-stream')] });
    const reply = await d.waitFor(() => d.botMessages().find((m) => m.content.includes('nothing I could read')));
    expect(reply.content).toContain('Skipped x.exe');
    expect(h.sogni.calls).toHaveLength(0);
  });
});

describe('images in history', () => {
  it('lets follow-up questions see recent images and turns older ones into placeholders', async () => {
    h = await startHarness({ env: { MAX_HISTORY_IMAGES: '1' } });
    const d = h.discord;
    d.postUserMessage({ content: 'first', attachments: [d.addAttachment('car.jpg', await solidPng(200, 100), 'image/jpeg')] });
    await h.sogni.waitFor(() => h?.sogni.calls.length === 1);
    await d.waitFor(() => d.botMessages().filter((m) => m.content === 'Hello from the fake Sogni.').length === 1);
    d.postUserMessage({ content: 'what colour is the car?' });
    await d.waitFor(() => d.botMessages().filter((m) => m.content === 'Hello from the fake Sogni.').length === 2);
    // The follow-up carries the earlier image.
    const second = h.sogni.calls[1]?.body['messages'] as Sent[];
    expect(second.flatMap(imageUrls)).toHaveLength(1);

    d.postUserMessage({ content: 'and this one?', attachments: [d.addAttachment('boat.png', await solidPng(100, 100), 'image/png')] });
    await d.waitFor(() => d.botMessages().filter((m) => m.content === 'Hello from the fake Sogni.').length === 3);
    d.postUserMessage({ content: 'compare them' });
    await d.waitFor(() => d.botMessages().filter((m) => m.content === 'Hello from the fake Sogni.').length === 4);
    const fourth = h.sogni.calls[3]?.body['messages'] as Sent[];
    expect(fourth.flatMap(imageUrls)).toHaveLength(1);
    expect(fourth.map(textOf).join('\n')).toContain('[image: car.jpg]');
  });
});

describe('/ask image:', () => {
  it('sends the attached image with the prompt', async () => {
    h = await startHarness();
    const d = h.discord;
    const image = d.addAttachment('chart.png', await solidPng(1500, 1500), 'image/png');
    h.sogni.answerWith({ kind: 'stream', deltas: words('A blue square.') });
    const interaction = d.runCommand({
      name: 'ask',
      options: [
        { name: 'prompt', type: ApplicationCommandOptionType.String, value: 'describe this' },
        { name: 'image', type: ApplicationCommandOptionType.Attachment, value: image.id },
      ],
      attachments: [image],
    });
    await d.waitFor(() => d.messages.get(interaction.originalId ?? '')?.content === 'A blue square.');
    const urls = imageUrls(lastUser(h, 0));
    expect(urls).toHaveLength(1);
    expect(await decodeDataUri(urls[0] as string)).toMatchObject({ width: 1024, height: 1024 });
  });
});
