import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect as dialTcp, type AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FetchProblem } from '../../src/net/fetchProblem.js';
import { SafeFetcher, type FetchLimits, type Resolver, type SafeFetchOptions } from '../../src/net/safeFetch.js';

/**
 * The rules of the one safe fetch, against a real HTTP server on 127.0.0.1. Where a rule is
 * about public addresses, a fake network (the `connect` option) carries the connection to that
 * server instead and reports the address it was asked for: no test dials the internet.
 */

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
const image: FetchLimits = { maxBytes: 1024, timeoutMs: 5000, accept: ['image'] };

let server: Server;
let port = 0;
let origin = '';
let requests: string[] = [];

function route(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const q = (name: string) => url.searchParams.get(name);
  switch (url.pathname) {
    case '/typed': {
      // Serves the content type it is asked for, or none at all.
      const type = q('type');
      res.writeHead(200, type === null ? {} : { 'content-type': type }).end(PNG);
      return;
    }
    case '/sized': {
      // A body of `n` bytes, its length declared unless `chunked` is asked for.
      const n = Number(q('n'));
      const headers: Record<string, string> = { 'content-type': 'image/png' };
      if (q('chunked') === null) headers['content-length'] = String(n);
      res.writeHead(200, headers);
      for (let sent = 0; sent < n; sent += 256) res.write(Buffer.alloc(Math.min(256, n - sent)));
      res.end();
      return;
    }
    case '/declared-big-then-stall':
      // Declares more than the cap, sends a little and never finishes: only the declared length can stop it in time.
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': '5000' });
      res.write(Buffer.alloc(10));
      return;
    case '/stall':
      res.writeHead(200, { 'content-type': 'image/png' });
      res.write(PNG);
      return;
    case '/redirect-nowhere':
      res.writeHead(302).end();
      return;
    case '/chain': {
      const hops = Number(q('hops'));
      if (hops > 0) res.writeHead(301, { location: `/chain?hops=${hops - 1}` }).end();
      else res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
      return;
    }
    default:
      res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    route(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

let fetchers: SafeFetcher[] = [];
afterEach(async () => {
  await Promise.all(fetchers.map((f) => f.close()));
  fetchers = [];
  requests = [];
  // Stalled responses must not hold the server open for the next test.
  server.closeAllConnections();
});

function make(options: SafeFetchOptions): SafeFetcher {
  const fetcher = new SafeFetcher(options);
  fetchers.push(fetcher);
  return fetcher;
}

/**
 * A stand-in for the network: every connection reaches the test server, and the socket says
 * it is connected to `landsOn` (by default, the address it was asked to dial).
 */
function fakeNetwork(landsOn?: (asked: string) => string | undefined) {
  const dialed: string[] = [];
  const connect: NonNullable<SafeFetchOptions['connect']> = (opts, callback) => {
    dialed.push(opts.hostname);
    const socket = dialTcp(port, '127.0.0.1');
    socket.once('error', (err) => callback(err, null));
    socket.once('connect', () => {
      Object.defineProperty(socket, 'remoteAddress', { value: landsOn ? landsOn(opts.hostname) : opts.hostname });
      callback(null, socket);
    });
  };
  return { dialed, connect };
}

const publicLookup: Resolver = async (hostname) => {
  if (hostname === 'mixed.example.test') return [{ address: '10.0.0.5', family: 4 }, { address: '93.184.216.34', family: 4 }, { address: '1.1.1.1', family: 4 }];
  if (hostname === 'files.example.test') return [{ address: '2606:4700::1111', family: 6 }];
  if (hostname === 'empty.example.test') return [];
  throw new Error(`unexpected lookup of ${hostname}`);
};

async function problemOf(promise: Promise<unknown>): Promise<FetchProblem> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FetchProblem);
  return err as FetchProblem;
}

describe('SafeFetcher: which address it connects to', () => {
  it('connects a name to its first public address, skipping private ones', async () => {
    const net = fakeNetwork();
    const refused: string[] = [];
    const f = make({ lookup: publicLookup, connect: net.connect, onRefused: (d) => refused.push(d) });
    const got = await f.fetchBytes(`http://mixed.example.test:${port}/a.png`, image);
    expect(got.bytes.equals(PNG)).toBe(true);
    expect(got.url).toBe(`http://mixed.example.test:${port}/a.png`);
    expect(net.dialed).toEqual(['93.184.216.34']);
    expect(refused).toEqual([]);
  });

  it('connects to a public IP literal as it is, without resolving it', async () => {
    const net = fakeNetwork();
    const asked: string[] = [];
    const f = make({ lookup: async (h) => (asked.push(h), []), connect: net.connect });
    await expect(f.fetchBytes(`http://93.184.216.34:${port}/a.png`, image)).resolves.toMatchObject({ contentType: 'image/png' });
    await expect(f.fetchBytes(`http://[2606:4700::1111]:${port}/b.png`, image)).resolves.toMatchObject({ contentType: 'image/png' });
    expect(net.dialed).toEqual(['93.184.216.34', '2606:4700::1111']);
    expect(asked).toEqual([]);
  });

  it('refuses a connection that lands on a private address after all, before sending the request', async () => {
    const net = fakeNetwork(() => '10.0.0.5');
    const refused: string[] = [];
    const f = make({ lookup: publicLookup, connect: net.connect, onRefused: (d) => refused.push(d) });
    const problem = await problemOf(f.fetchBytes(`http://files.example.test:${port}/a.png`, image));
    expect(problem.code).toBe('private-address');
    expect(problem.message).toBe('points to a private network address, which I never download from');
    expect(problem.detail).toBe('files.example.test connected to 10.0.0.5, private (10/8)');
    expect(refused).toEqual([problem.detail]);
    expect(requests).toEqual([]);
  });

  it('refuses a connection whose socket has no remote address', async () => {
    const net = fakeNetwork(() => undefined);
    const problem = await problemOf(make({ connect: net.connect }).fetchBytes(`http://93.184.216.34:${port}/a.png`, image));
    expect(problem.code).toBe('private-address');
    expect(problem.detail).toBe('93.184.216.34 connected to no address, not an IP address');
    expect(requests).toEqual([]);
  });

  it('reports a connection that fails as a network failure', async () => {
    const connect: NonNullable<SafeFetchOptions['connect']> = (_opts, callback) => callback(new Error('connect ECONNREFUSED 93.184.216.34:80'), null);
    const refused: string[] = [];
    const problem = await problemOf(make({ connect, onRefused: (d) => refused.push(d) }).fetchBytes('http://93.184.216.34/a.png', image));
    expect(problem.code).toBe('network');
    expect(problem.message).toBe("couldn't be downloaded");
    // The log says why, not just undici's "fetch failed".
    expect(problem.detail).toBe('connect ECONNREFUSED 93.184.216.34:80');
    expect(refused).toEqual([]);
  });

  it('logs why a name could not be resolved', async () => {
    const lookup: Resolver = async (hostname) => {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    };
    const problem = await problemOf(make({ lookup }).fetchBytes('http://nowhere.example.test/a.png', image));
    expect(problem.code).toBe('network');
    expect(problem.detail).toBe('getaddrinfo ENOTFOUND nowhere.example.test');
  });

  it('logs a resolver failure that is not an Error as its text', async () => {
    const lookup: Resolver = () => Promise.reject('resolver offline');
    const problem = await problemOf(make({ lookup }).fetchBytes('http://nowhere.example.test/a.png', image));
    expect(problem.code).toBe('network');
    expect(problem.detail).toBe('resolver offline');
  });

  it('says a name with no addresses could not be downloaded, and is no refusal', async () => {
    const refused: string[] = [];
    const problem = await problemOf(make({ lookup: publicLookup, onRefused: (d) => refused.push(d) }).fetchBytes('http://empty.example.test/a.png', image));
    expect(problem.code).toBe('network');
    expect(problem.message).toBe("couldn't be downloaded");
    expect(problem.detail).toBe('empty.example.test has no address');
    expect(refused).toEqual([]);
  });

  it('resolves names with the system resolver by default, every address of it checked', async () => {
    const problem = await problemOf(make({}).fetchBytes(`http://localhost:${port}/a.png`, image));
    expect(problem.code).toBe('private-address');
    expect(problem.detail).toMatch(/^localhost resolves to (127\.0\.0\.1, loopback \(127\/8\)|::1, loopback \(::1\))$/);
    expect(requests).toEqual([]);
  });

  it('trusts a host whatever the case it was configured in', async () => {
    const f = make({ trustedHosts: [`LocalHost:${port}`], connect: fakeNetwork().connect });
    await expect(f.fetchBytes(`http://localhost:${port}/a.png`, image)).resolves.toMatchObject({ contentType: 'image/png' });
    await expect(f.fetchBytes(`http://LOCALHOST:${port}/b.png`, image)).resolves.toMatchObject({ contentType: 'image/png' });
  });

  it('checks an https link like any other, rather than refusing it as not a link', async () => {
    const problem = await problemOf(make({}).fetchBytes('https://127.0.0.2/x.png', image));
    expect(problem.code).toBe('private-address');
  });

  it('downloads nothing more once closed', async () => {
    // Not made with make(): closed here, once.
    const f = new SafeFetcher({ trustedHosts: [`127.0.0.1:${port}`] });
    await expect(f.fetchBytes(`${origin}/a.png`, image)).resolves.toBeTruthy();
    await f.close();
    const problem = await problemOf(f.fetchBytes(`${origin}/b.png`, image));
    expect(problem.code).toBe('network');
    expect(requests).toEqual(['/a.png']);
  });
});

describe('SafeFetcher: redirects', () => {
  it('says which status a redirect without a location had', async () => {
    const problem = await problemOf(make({ trustedHosts: [`127.0.0.1:${port}`] }).fetchBytes(`${origin}/redirect-nowhere`, image));
    expect(problem.code).toBe('http-status');
    expect(problem.message).toBe("couldn't be downloaded (HTTP 302)");
  });

  it('logs how many redirects were too many, and from where', async () => {
    const problem = await problemOf(make({ trustedHosts: [`127.0.0.1:${port}`] }).fetchBytes(`${origin}/chain?hops=4`, image));
    expect(problem.code).toBe('redirects');
    expect(problem.message).toBe('redirected too many times');
    expect(problem.detail).toBe(`more than 3 redirects from 127.0.0.1:${port}`);
  });

  it('follows only as many redirects as it is told to', async () => {
    const f = make({ trustedHosts: [`127.0.0.1:${port}`], maxRedirects: 1 });
    await expect(f.fetchBytes(`${origin}/chain?hops=1`, image)).resolves.toMatchObject({ url: `${origin}/chain?hops=0` });
    const problem = await problemOf(f.fetchBytes(`${origin}/chain?hops=2`, image));
    expect(problem.detail).toBe(`more than 1 redirects from 127.0.0.1:${port}`);
  });
});

describe('SafeFetcher: content types', () => {
  const typed = (type?: string) => `${origin}/typed${type === undefined ? '' : `?type=${encodeURIComponent(type)}`}`;
  const accepts = async (type: string | undefined, limits: Partial<FetchLimits>) => {
    try {
      return (await make({ trustedHosts: [`127.0.0.1:${port}`] }).fetchBytes(typed(type), { ...image, ...limits })).contentType;
    } catch (err) {
      return err instanceof FetchProblem ? `refused: ${err.message}` : `failed: ${String(err)}`;
    }
  };

  it('takes a response with no type only from callers that check the bytes themselves', async () => {
    expect(await accepts(undefined, { acceptUnlabelled: true })).toBe('');
    expect(await accepts(undefined, {})).toBe('refused: served as an unknown type, not an image');
    expect(await accepts(undefined, { accept: ['text'], acceptTypes: ['text/plain'] })).toBe('refused: served as an unknown type, not text');
  });

  it('takes each family by its own prefix', async () => {
    expect(await accepts('video/mp4', { accept: ['video'] })).toBe('video/mp4');
    expect(await accepts('audio/mpeg', { accept: ['audio'] })).toBe('audio/mpeg');
    expect(await accepts('model/gltf-binary', { accept: ['model'] })).toBe('model/gltf-binary');
    expect(await accepts('application/x-glb', { accept: ['model'] })).toBe('application/x-glb');
    expect(await accepts('image/png', { accept: ['model'] })).toBe('refused: served as image/png, not a 3D model');
    expect(await accepts('application/x-video', { accept: ['video', 'audio'] })).toBe('refused: served as application/x-video, not a video or audio');
  });

  it('takes only text types as text: text/*, the listed application types and +json / +xml', async () => {
    for (const type of ['text/plain', 'application/json', 'application/x-sh', 'application/ld+json', 'application/vnd.api+json', 'application/xhtml+xml']) {
      expect(await accepts(type, { accept: ['text'] }), type).toBe(type);
    }
    for (const type of ['context/plain', 'application/x-shockwave-flash', 'application/jsonx', 'application/geo+json-seq', 'application/+json', 'image/svg+xml']) {
      expect(await accepts(type, { accept: ['text', 'model'] }), type).toBe(`refused: served as ${type}, not text or a 3D model`);
    }
  });

  it('takes a response that any one accepted family or exact type allows', async () => {
    expect(await accepts('text/html', { accept: ['image', 'text'] })).toBe('text/html');
    expect(await accepts('text/html', { acceptTypes: ['text/plain', 'text/html'] })).toBe('text/html');
    expect(await accepts('text/html', { acceptTypes: ['video/mp4'] })).toBe('refused: served as text/html, not an image');
  });

  it('compares types without their parameters, case or spaces', async () => {
    expect(await accepts('Application/X-Thing ; charset=binary', { acceptTypes: ['application/x-thing'] })).toBe('application/x-thing');
    expect(await accepts('application/x-thing', { acceptTypes: ['Application/X-Thing; q=1'] })).toBe('application/x-thing');
  });

  it('names a file when no family is accepted', async () => {
    expect(await accepts('text/html', { accept: [] })).toBe('refused: served as text/html, not a file');
  });
});

describe('SafeFetcher: the byte cap', () => {
  const f = () => make({ trustedHosts: [`127.0.0.1:${port}`] });

  it('takes a body of exactly the cap, declared or streamed', async () => {
    const fetcher = f();
    expect((await fetcher.fetchBytes(`${origin}/sized?n=1024`, image)).bytes.length).toBe(1024);
    expect((await fetcher.fetchBytes(`${origin}/sized?n=1024&chunked`, image)).bytes.length).toBe(1024);
    expect((await fetcher.fetchBytes(`${origin}/sized?n=500`, image)).bytes.length).toBe(500);
  });

  it('refuses one byte over the cap, declared or streamed', async () => {
    const fetcher = f();
    expect((await problemOf(fetcher.fetchBytes(`${origin}/sized?n=1025`, image))).message).toBe('too large (over 1 KB)');
    expect((await problemOf(fetcher.fetchBytes(`${origin}/sized?n=1025&chunked`, image))).message).toBe('too large (over 1 KB)');
  });

  it('refuses by the declared length before waiting for the body', async () => {
    const problem = await problemOf(f().fetchBytes(`${origin}/declared-big-then-stall`, { ...image, timeoutMs: 2000 }));
    expect(problem.code).toBe('too-large');
  });

  it('names the timeout in whole seconds', async () => {
    const problem = await problemOf(f().fetchBytes(`${origin}/stall`, { ...image, timeoutMs: 1600 }));
    expect(problem.code).toBe('timeout');
    expect(problem.message).toBe('took longer than 2 s to download');
  });
});
