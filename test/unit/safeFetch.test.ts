import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FetchProblem } from '../../src/net/fetchProblem.js';
import { hostsOf, SafeFetcher, type FetchLimits, type Resolver } from '../../src/net/safeFetch.js';

/** A tiny HTTP server on one loopback address that records every request it gets. */
async function serve(address: string, handle: (req: IncomingMessage, res: ServerResponse) => void) {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    handle(req, res);
  });
  server.listen(0, address);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { requests, origin: `http://${address}:${port}`, host: `${address}:${port}`, close: () => new Promise((r) => server.close(r)) };
}

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
const image: FetchLimits = { maxBytes: 1024, timeoutMs: 5000, accept: ['image'] };

let trusted: Awaited<ReturnType<typeof serve>>;
let secret: Awaited<ReturnType<typeof serve>>;
let fetcher: SafeFetcher | undefined;
let refused: string[];

beforeAll(async () => {
  // The private server every refused request would have reached, on a second loopback address.
  secret = await serve('127.0.0.2', (_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(PNG));
  trusted = await serve('127.0.0.1', (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const hops = Number(url.searchParams.get('hops') ?? 0);
    if (url.pathname === '/to-secret') return void res.writeHead(302, { location: `${secret.origin}/secret.png` }).end();
    if (url.pathname === '/to-public-name') return void res.writeHead(307, { location: `http://media.example.test:${secret.host.split(':')[1]}/x.png` }).end();
    if (url.pathname === '/chain') return void res.writeHead(hops > 0 ? 301 : 200, hops > 0 ? { location: `/chain?hops=${hops - 1}` } : { 'content-type': 'image/png' }).end(hops > 0 ? undefined : PNG);
    if (url.pathname === '/page.html') return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<html></html>');
    if (url.pathname === '/blob') return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(PNG);
    if (url.pathname === '/declared-big') return void res.writeHead(200, { 'content-type': 'image/png', 'content-length': '5000' }).end(Buffer.alloc(5000));
    if (url.pathname === '/chunked-big') {
      res.writeHead(200, { 'content-type': 'image/png' });
      for (let i = 0; i < 10; i++) res.write(Buffer.alloc(500));
      return void res.end();
    }
    if (url.pathname === '/slow') {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.write(PNG);
      return void setTimeout(() => res.end(), 3000);
    }
    if (url.pathname === '/missing') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'image/png; charset=binary' }).end(PNG);
  });
});

afterAll(async () => {
  await trusted.close();
  await secret.close();
});

const lookup: Resolver = async (hostname) => {
  if (hostname === 'media.example.test') return [{ address: '127.0.0.2', family: 4 }];
  if (hostname === 'mapped.example.test') return [{ address: '::ffff:127.0.0.2', family: 6 }];
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
};

function makeFetcher() {
  refused = [];
  fetcher = new SafeFetcher({ trustedHosts: [trusted.host], lookup, onRefused: (detail) => refused.push(detail) });
  return fetcher;
}

afterEach(async () => {
  await fetcher?.close();
  fetcher = undefined;
  // Nothing any test did may have reached the private server.
  expect(secret.requests).toEqual([]);
});

describe('SafeFetcher', () => {
  it('downloads from a trusted host even on loopback, with the media type', async () => {
    const got = await makeFetcher().fetchBytes(`${trusted.origin}/fox.png`, image);
    expect(got.bytes.equals(PNG)).toBe(true);
    expect(got.contentType).toBe('image/png');
    expect(trusted.requests).toContain('/fox.png');
  });

  it('refuses a private address that is not trusted, without connecting', async () => {
    const f = makeFetcher();
    await expect(f.fetchBytes(`${secret.origin}/x.png`, image)).rejects.toThrow('points to a private network address');
    expect(refused[0]).toContain('127.0.0.2 is loopback (127/8)');
  });

  it('trusts the exact host:port only, not other ports on the same address', async () => {
    const otherPort = `http://127.0.0.1:${Number(trusted.host.split(':')[1]) === 8888 ? 8889 : 8888}/x.png`;
    await expect(makeFetcher().fetchBytes(otherPort, image)).rejects.toThrow('private network address');
  });

  it('refuses a trusted host redirecting to another private address', async () => {
    const f = makeFetcher();
    await expect(f.fetchBytes(`${trusted.origin}/to-secret`, image)).rejects.toThrow('private network address');
    expect(trusted.requests).toContain('/to-secret');
  });

  it('refuses a host name that resolves to a private address, also when it is IPv4-mapped IPv6', async () => {
    const f = makeFetcher();
    await expect(f.fetchBytes(`http://media.example.test:${secret.host.split(':')[1]}/x.png`, image)).rejects.toThrow('private network address');
    expect(refused[0]).toBe('media.example.test resolves to 127.0.0.2, loopback (127/8)');
    await expect(f.fetchBytes(`http://mapped.example.test:${secret.host.split(':')[1]}/x.png`, image)).rejects.toThrow('private network address');
    await expect(f.fetchBytes(`${trusted.origin}/to-public-name`, image)).rejects.toThrow('private network address');
  });

  it('refuses IPv6 loopback, link-local and IPv4-mapped literals', async () => {
    const f = makeFetcher();
    for (const url of ['http://[::1]:8888/x.png', 'http://[fe80::1]:8888/x.png', 'http://[::ffff:7f00:2]:8888/x.png', 'http://[::ffff:10.0.0.1]/x.png', 'http://0.0.0.0:8888/x', 'http://169.254.169.254/latest/meta-data']) {
      await expect(f.fetchBytes(url, image), url).rejects.toThrow('private network address');
    }
    expect(refused).toHaveLength(6);
  });

  it('says a name that does not resolve could not be downloaded', async () => {
    await expect(makeFetcher().fetchBytes('http://nowhere.example.test/x.png', image)).rejects.toThrow("couldn't be downloaded");
  });

  it('follows up to three redirects and refuses a fourth', async () => {
    const f = makeFetcher();
    await expect(f.fetchBytes(`${trusted.origin}/chain?hops=3`, image)).resolves.toMatchObject({ contentType: 'image/png' });
    await expect(f.fetchBytes(`${trusted.origin}/chain?hops=4`, image)).rejects.toThrow('redirected too many times');
  });

  it('refuses a response of the wrong type before reading it', async () => {
    const f = makeFetcher();
    await expect(f.fetchBytes(`${trusted.origin}/page.html`, image)).rejects.toThrow('served as text/html, not an image');
    await expect(f.fetchBytes(`${trusted.origin}/page.html`, { ...image, accept: ['image', 'video', 'audio'] })).rejects.toThrow(
      'not an image, a video or audio',
    );
    await expect(f.fetchBytes(`${trusted.origin}/page.html`, { ...image, accept: ['text'] })).resolves.toMatchObject({ contentType: 'text/html' });
  });

  it('takes unlabelled bytes only from callers that check the bytes themselves', async () => {
    const f = makeFetcher();
    await expect(f.fetchBytes(`${trusted.origin}/blob`, image)).rejects.toThrow('served as application/octet-stream');
    await expect(f.fetchBytes(`${trusted.origin}/blob`, { ...image, acceptUnlabelled: true })).resolves.toMatchObject({ contentType: 'application/octet-stream' });
    await expect(f.fetchBytes(`${trusted.origin}/page.html`, { ...image, acceptTypes: ['text/html'] })).resolves.toBeTruthy();
  });

  it('stops at the byte cap, by declared length and while streaming', async () => {
    const f = makeFetcher();
    await expect(f.fetchBytes(`${trusted.origin}/declared-big`, image)).rejects.toThrow('too large (over 1 KB)');
    await expect(f.fetchBytes(`${trusted.origin}/chunked-big`, image)).rejects.toThrow('too large (over 1 KB)');
  });

  it('gives up when the whole download takes too long', async () => {
    await expect(makeFetcher().fetchBytes(`${trusted.origin}/slow`, { ...image, timeoutMs: 200 })).rejects.toThrow('took longer than 0 s');
  });

  it('says which HTTP status a failed download had', async () => {
    await expect(makeFetcher().fetchBytes(`${trusted.origin}/missing`, image)).rejects.toThrow("couldn't be downloaded (HTTP 404)");
  });

  it('refuses what is not an http(s) link', async () => {
    const f = makeFetcher();
    for (const url of ['file:///etc/passwd', 'not a url', 'ftp://example.com/x.png', 'gopher://127.0.0.1:6379/_INFO']) {
      const err = await f.fetchBytes(url, image).catch((e: unknown) => e);
      expect(err, url).toBeInstanceOf(FetchProblem);
      expect((err as FetchProblem).message).toBe('not a link I can download');
    }
  });

  it('builds the trusted list from configured URLs', () => {
    expect(hostsOf(['http://127.0.0.1:4000/v1', 'https://api.sogni.ai/v1', undefined, 'not a url', 'https://discord.com:443/api'])).toEqual([
      '127.0.0.1:4000',
      'api.sogni.ai',
      'discord.com',
    ]);
  });
});
