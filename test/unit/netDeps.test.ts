import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FetchProblem } from '../../src/net/fetchProblem.js';
import { createNetDeps } from '../../src/net/netDeps.js';
import type { FetchLimits, NetDeps, Resolver } from '../../src/net/safeFetch.js';

const MB = 1024 * 1024;
const PNG = Buffer.from('89504e470d0a1a0a', 'hex');
const image: FetchLimits = { maxBytes: 1024, timeoutMs: 5000, accept: ['image'] };

/** Two loopback servers: one configured as an API, one nobody configured. */
let servers: Server[] = [];
let sogni = '';
let discord = '';
let stranger = '';
let requests: string[] = [];

async function serve(address: string): Promise<string> {
  const server = createServer((req, res) => {
    requests.push(`${address}${req.url ?? ''}`);
    res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
  });
  server.listen(0, address);
  await once(server, 'listening');
  servers.push(server);
  return `http://${address}:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  sogni = await serve('127.0.0.1');
  discord = await serve('127.0.0.3');
  stranger = await serve('127.0.0.2');
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  servers = [];
});

let deps: NetDeps | undefined;
afterEach(async () => {
  await deps?.fetcher.close();
  deps = undefined;
  requests = [];
});

const base = { SOGNI_BASE_URL: 'https://api.sogni.ai/v1', DOWNLOAD_CONCURRENCY: 4, MAX_ATTACHMENT_MB: 25 } as const;

/** Starts `n` pieces of work that hold their slot until the returned function lets them all finish. */
function hold(limiter: NetDeps['limiter'], n: number, bytes: number): () => Promise<void> {
  let open = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  const runs = Array.from({ length: n }, () => limiter.run(bytes, () => gate));
  return async () => {
    open();
    await Promise.all(runs);
  };
}

describe('createNetDeps: the bot’s one fetcher', () => {
  it('trusts the configured Sogni and Discord API hosts even on loopback', async () => {
    deps = createNetDeps({ ...base, SOGNI_BASE_URL: `${sogni}/v1`, DISCORD_API_URL: `${discord}/api` });
    await expect(deps.fetcher.fetchBytes(`${sogni}/media/a.png`, image)).resolves.toMatchObject({ contentType: 'image/png' });
    await expect(deps.fetcher.fetchBytes(`${discord}/attachments/b.png`, image)).resolves.toMatchObject({ contentType: 'image/png' });
    expect(requests).toEqual(['127.0.0.1/media/a.png', '127.0.0.3/attachments/b.png']);
  });

  it('trusts no other loopback host, and tells onRefused why', async () => {
    const refused: string[] = [];
    deps = createNetDeps({ ...base, SOGNI_BASE_URL: `${sogni}/v1` }, { onRefused: (detail) => refused.push(detail) });
    const err = await deps.fetcher.fetchBytes(`${stranger}/x.png`, image).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FetchProblem);
    expect((err as FetchProblem).code).toBe('private-address');
    expect(refused).toEqual([`127.0.0.2 is loopback (127/8)`]);
    expect(requests).toEqual([]);
  });

  it('resolves names with the given resolver', async () => {
    const asked: string[] = [];
    const lookup: Resolver = async (hostname) => {
      asked.push(hostname);
      return [{ address: '127.0.0.2', family: 4 }];
    };
    deps = createNetDeps(base, { lookup });
    const err = await deps.fetcher.fetchBytes(`http://files.example.test:${new URL(stranger).port}/x.png`, image).catch((e: unknown) => e);
    expect((err as FetchProblem).code).toBe('private-address');
    expect((err as FetchProblem).detail).toBe('files.example.test resolves to 127.0.0.2, loopback (127/8)');
    expect(asked).toEqual(['files.example.test']);
    expect(requests).toEqual([]);
  });
});

describe('createNetDeps: the download limiter', () => {
  it('runs DOWNLOAD_CONCURRENCY downloads at once', async () => {
    deps = createNetDeps({ ...base, DOWNLOAD_CONCURRENCY: 3 });
    const release = hold(deps.limiter, 4, 1);
    expect(deps.limiter.active).toBe(3);
    expect(deps.limiter.waiting).toBe(1);
    await release();
  });

  it('holds DOWNLOAD_CONCURRENCY full-size attachments in memory by default', async () => {
    deps = createNetDeps({ ...base, DOWNLOAD_CONCURRENCY: 3, MAX_ATTACHMENT_MB: 10 });
    // A reservation above the budget is cut to the whole budget: the budget itself shows.
    const release = hold(deps.limiter, 1, 10_000 * MB);
    expect(deps.limiter.reservedBytes).toBe(30 * MB);
    await release();
  });

  it('holds DOWNLOAD_BUFFER_MB instead when it is set', async () => {
    deps = createNetDeps({ ...base, DOWNLOAD_CONCURRENCY: 3, MAX_ATTACHMENT_MB: 10, DOWNLOAD_BUFFER_MB: 7 });
    const release = hold(deps.limiter, 1, 10_000 * MB);
    expect(deps.limiter.reservedBytes).toBe(7 * MB);
    await release();
  });
});
