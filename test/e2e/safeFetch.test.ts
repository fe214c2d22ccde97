import { ApplicationCommandOptionType } from 'discord.js';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Resolver } from '../../src/net/safeFetch.js';
import { imageResult } from '../fakes/fakeSogni.js';
import { startHarness, type Harness } from '../fakes/harness.js';
import { solidPng } from '../fixtures/images.js';
import { expectSafeMentions, messageWrites } from './helpers.js';

/**
 * A server in "the bot's private network": on 127.0.0.2, which Linux routes to loopback but
 * which no configured host uses. Every test ends by checking it was never asked for anything.
 */
let secret: { origin: string; port: number; requests: string[]; close: () => Promise<void> };
let h: Harness | undefined;

beforeEach(async () => {
  const png = await solidPng(32, 32, '#00ff00');
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(png.length) }).end(png);
  });
  server.listen(0, '127.0.0.2');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  secret = {
    origin: `http://127.0.0.2:${port}`,
    port,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
});

afterEach(async () => {
  await h?.close();
  h = undefined;
  await secret.close();
});

const PRIVATE_NOTE = 'A link to a private network address was left out.';

async function imagine(harness: Harness, text: string) {
  const interaction = harness.discord.runCommand({ name: 'imagine', options: [{ name: 'prompt', type: ApplicationCommandOptionType.String, value: text }] });
  return harness.discord.waitFor(() => {
    const m = harness.discord.original(interaction);
    return m && !m.content.includes('Working on it') && m.history.length > 1 ? m : undefined;
  }, 15_000);
}

const refusals = (harness: Harness) => harness.logs.filter((l) => l['msg'] === 'refused a download from a private address');

describe('one safe way to fetch', () => {
  it('refuses a media link on the trusted Sogni host that redirects to another private address', async () => {
    h = await startHarness({ env: { MEDIA_MODE: 'completions' } });
    h.sogni.mediaRedirects.set('/media/hop.png', `${secret.origin}/secret.png`);
    h.sogni.mediaScript = () => ({ kind: 'json', body: imageResult(`${h?.sogni.origin}/media/hop.png`) });
    const message = await imagine(h, 'a fox');

    expect(h.sogni.mediaDownloads).toContain('/media/hop.png');
    expect(secret.requests).toEqual([]);
    expect(message.attachments).toEqual([]);
    expect(JSON.stringify(message.embeds)).not.toContain('127.0.0.2');
    expect(message.content).toContain('Here is your image.');
    expect(message.content).toContain(PRIVATE_NOTE);
    expect(refusals(h)[0]?.['detail']).toContain('127.0.0.2 is loopback (127/8)');
    expectSafeMentions(messageWrites(h.discord));
  });

  it('still follows a redirect from the trusted host to itself and re-uploads the file', async () => {
    h = await startHarness({ env: { MEDIA_MODE: 'completions' } });
    h.sogni.mediaRedirects.set('/media/hop.png', `${h.sogni.origin}/media/final.png`);
    h.sogni.mediaScript = () => ({ kind: 'json', body: imageResult(`${h?.sogni.origin}/media/hop.png`) });
    const message = await imagine(h, 'a fox');
    expect(h.sogni.mediaDownloads).toEqual(['/media/hop.png', '/media/final.png']);
    expect(message.attachments.map((a) => a.filename)).toEqual(['sogni-1.png']);
    expect(message.content).not.toContain(PRIVATE_NOTE);
  });

  it('never fetches a bare private link the model wrote in its text', async () => {
    h = await startHarness({ env: { MEDIA_MODE: 'completions' } });
    const body = { ...imageResult('unused', 2.5, `Here it is: ${secret.origin}/x.png`), sogni_tool_results: [] };
    h.sogni.mediaScript = () => ({ kind: 'json', body });
    const message = await imagine(h, 'a fox');

    expect(secret.requests).toEqual([]);
    expect(message.attachments).toEqual([]);
    expect(message.embeds).toEqual([]);
    expect(message.content).toContain(PRIVATE_NOTE);
    expect(refusals(h)).toHaveLength(1);
  });

  it('refuses an attachment whose host name resolves to a private address, with a note, and still answers', async () => {
    const lookups: string[] = [];
    const lookup: Resolver = async (hostname) => {
      lookups.push(hostname);
      return hostname === 'files.example.test' ? [{ address: '127.0.0.2', family: 4 }] : [];
    };
    h = await startHarness({ overrides: { lookup } });
    const d = h.discord;
    const real = d.addAttachment('cat.png', await solidPng(40, 40), 'image/png');
    const url = `http://files.example.test:${secret.port}/cat.png`;
    const good = d.addAttachment('dog.png', await solidPng(40, 40), 'image/png');
    d.postUserMessage({ content: 'what are these?', attachments: [{ ...real, url, proxy_url: url }, good] });
    const reply = await d.waitFor(() => d.botMessages().find((m) => m.content.startsWith('Hello from the fake Sogni.') && !m.content.includes('▌')), 15_000);

    expect(lookups).toContain('files.example.test');
    expect(secret.requests).toEqual([]);
    expect(reply.content).toContain('Skipped cat.png: points to a private network address, which I never download from.');
    // The other attachment, on Discord's (trusted) CDN, still went to Sogni.
    expect(d.downloads).toContain(good.id);
    expect(JSON.stringify(h.sogni.chatCalls()[0]?.body['messages'])).toContain('data:image/');
    expect(refusals(h)[0]?.['detail']).toBe('files.example.test resolves to 127.0.0.2, loopback (127/8)');
  });

  it('reads attachments one at a time with DOWNLOAD_CONCURRENCY=1, and all of them in the end', async () => {
    h = await startHarness({ env: { DOWNLOAD_CONCURRENCY: '1' } });
    const d = h.discord;
    const slow = await Promise.all([1, 2, 3].map(async (i) => d.addAttachment(`slow${i}.png`, await solidPng(60, 60), 'image/png', { delayMs: 400 })));
    d.postUserMessage({ content: 'three slow pictures', attachments: slow });
    const limiter = h.bot.deps.net.limiter;
    // While the first downloads, the other two wait their turn rather than fail.
    await d.waitFor(() => limiter.active === 1 && limiter.waiting === 2);
    const reply = await d.waitFor(() => d.botMessages().find((m) => m.content.startsWith('Hello from the fake Sogni.') && !m.content.includes('▌')), 15_000);
    expect(reply.content).not.toContain('Skipped');
    const sent = JSON.stringify(h.sogni.chatCalls()[0]?.body['messages']);
    expect(sent.match(/data:image\//g)).toHaveLength(3);
    expect(limiter.active).toBe(0);
    expect(limiter.reservedBytes).toBe(0);
  });
});
