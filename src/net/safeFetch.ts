import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Agent, buildConnector, fetch } from 'undici';
import type { WorkLimiter } from '../core/workLimiter.js';
import { blockedRange } from './addressPolicy.js';
import { FetchProblem, formatMB } from './fetchProblem.js';

/**
 * The one way the bot downloads anything a user or the model pointed at (attachments, media
 * to re-upload): every connection is checked against the address policy at connect time, so
 * a name that resolves to 10.0.0.5, or a redirect to 127.0.0.2, is refused before a byte is
 * sent there. The SDK clients (Sogni, Discord's REST) talk to configured hosts and do not
 * come through here.
 */

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a host name to its addresses (dns.lookup by default; tests inject their own). */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** Redirects followed per download; each hop is checked like the first request. */
export const MAX_REDIRECTS = 3;

/** Discord's CDN hosts, where attachments live (trusted like the configured APIs). */
export const DISCORD_CDN_HOSTS = ['cdn.discordapp.com', 'media.discordapp.net'] as const;

export type ContentFamily = 'image' | 'video' | 'audio' | 'text' | 'model';

export interface FetchLimits {
  /** Largest body accepted, checked against the declared length first, then while streaming. */
  maxBytes: number;
  /** For the whole download: every redirect and the body included. */
  timeoutMs: number;
  /** What the response must be; anything else is refused before its body is read. */
  accept: readonly ContentFamily[];
  /** Also takes `application/octet-stream` or no type at all, for callers that check the bytes themselves. */
  acceptUnlabelled?: boolean;
  /** Exact types also accepted (say, the type Discord declared for the attachment). */
  acceptTypes?: readonly string[];
}

export interface Fetched {
  bytes: Buffer;
  /** The response's media type, without parameters ("image/png"), or "" when it had none. */
  contentType: string;
  /** Where the bytes finally came from, after redirects. */
  url: string;
}

export interface SafeFetchOptions {
  /**
   * Exact host[:port] values (as `new URL(...).host` spells them) that may be on a private or
   * loopback address: the configured Sogni and Discord APIs and Discord's CDN. Every other
   * host, including one a trusted host redirects to, must be on the public internet.
   */
  trustedHosts?: Iterable<string>;
  lookup?: Resolver;
  maxRedirects?: number;
  /** Told of every refused address (for a log line: a link into the bot's network is worth knowing about). */
  onRefused?: (detail: string) => void;
  /**
   * Opens the connection once the address is checked (undici's own connector by default).
   * Tests stand a fake network in here, so no test ever dials a public address.
   */
  connect?: buildConnector.connector;
}

/** Downloads and the limiter that bounds them, as handed down from createBot. */
export interface NetDeps {
  fetcher: SafeFetcher;
  limiter: WorkLimiter;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const TEXT_TYPE = /^(text\/|application\/(json|xml|x-yaml|yaml|javascript|x-javascript|ecmascript|x-sh|sql|toml|x-python|x-ndjson)$|application\/[\w.+-]+\+(json|xml)$)/;
const FAMILY_TEST: Record<ContentFamily, (type: string) => boolean> = {
  image: (t) => t.startsWith('image/'),
  video: (t) => t.startsWith('video/'),
  audio: (t) => t.startsWith('audio/'),
  text: (t) => TEXT_TYPE.test(t),
  model: (t) => t.startsWith('model/') || t === 'application/x-glb',
};
const FAMILY_WORDS: Record<ContentFamily, string> = { image: 'an image', video: 'a video', audio: 'audio', text: 'text', model: 'a 3D model' };

const mediaType = (header: string | null | undefined) => (header ?? '').replace(/;.*/s, '').trim().toLowerCase();

function typeAccepted(type: string, limits: FetchLimits): boolean {
  if (type === '' || type === 'application/octet-stream') return limits.acceptUnlabelled === true;
  if (limits.acceptTypes?.some((t) => mediaType(t) === type)) return true;
  return limits.accept.some((family) => FAMILY_TEST[family](type));
}

function listWords(families: readonly ContentFamily[]): string {
  const words = families.map((f) => FAMILY_WORDS[f]);
  const last = words.pop() ?? 'a file';
  return words.length === 0 ? last : `${words.join(', ')} or ${last}`;
}

/** The host:port forms of configured URLs, for `trustedHosts`; unparseable or missing ones are skipped. */
export function hostsOf(urls: readonly (string | undefined)[]): string[] {
  return urls.flatMap((u) => {
    if (!u) return [];
    try {
      return [new URL(u).host];
    } catch {
      return [];
    }
  });
}

const PRIVATE_LINK = 'points to a private network address, which I never download from';

export class SafeFetcher {
  readonly #trusted: ReadonlySet<string>;
  readonly #lookup: Resolver;
  readonly #maxRedirects: number;
  readonly #onRefused: (detail: string) => void;
  readonly #base: buildConnector.connector;
  readonly #agent: Agent;

  constructor(options: SafeFetchOptions = {}) {
    // Stryker disable next-line ArrayDeclaration: a placeholder entry has spaces, so no URL's host can ever match it
    this.#trusted = new Set([...(options.trustedHosts ?? [])].map((h) => h.toLowerCase()));
    // Every address, in the order the system gives them (verbatim is Node's default).
    this.#lookup = options.lookup ?? ((hostname) => dnsLookup(hostname, { all: true }));
    this.#base = options.connect ?? buildConnector({});
    this.#maxRedirects = options.maxRedirects ?? MAX_REDIRECTS;
    this.#onRefused = options.onRefused ?? (() => undefined);
    this.#agent = new Agent({ connect: (opts, callback) => this.#connect(opts, callback) });
  }

  /**
   * Downloads `url` into memory within `limits`, following up to three redirects itself.
   * Every failure is a FetchProblem whose message is a short reason for the user.
   */
  async fetchBytes(url: string, limits: FetchLimits): Promise<Fetched> {
    const signal = AbortSignal.timeout(limits.timeoutMs);
    try {
      let current = parseLink(url);
      for (let hop = 0; ; hop++) {
        const response = await fetch(current, { dispatcher: this.#agent, redirect: 'manual', signal });
        if (REDIRECT_STATUSES.has(response.status)) {
          await response.body?.cancel();
          const location = response.headers.get('location');
          if (!location) throw new FetchProblem('http-status', `couldn't be downloaded (HTTP ${response.status})`);
          if (hop >= this.#maxRedirects) throw new FetchProblem('redirects', 'redirected too many times', `more than ${this.#maxRedirects} redirects from ${new URL(url).host}`);
          current = parseLink(new URL(location, current).href);
          continue;
        }
        if (!response.ok || !response.body) {
          await response.body?.cancel();
          throw new FetchProblem('http-status', `couldn't be downloaded (HTTP ${response.status})`);
        }
        const type = mediaType(response.headers.get('content-type'));
        if (!typeAccepted(type, limits)) {
          await response.body.cancel();
          throw new FetchProblem('content-type', `served as ${type || 'an unknown type'}, not ${listWords(limits.accept)}`);
        }
        const bytes = await readCapped(response.body, Number(response.headers.get('content-length') ?? NaN), limits.maxBytes);
        return { bytes, contentType: type, url: current.href };
      }
    } catch (err) {
      const problem = findProblem(err);
      if (problem) throw problem;
      if (signal.aborted) throw new FetchProblem('timeout', `took longer than ${Math.round(limits.timeoutMs / 1000)} s to download`);
      // undici only says "fetch failed": the log wants the reason under it (ECONNREFUSED, ENOTFOUND, ...).
      const reason = err instanceof Error && err.cause instanceof Error ? err.cause : err;
      throw new FetchProblem('network', "couldn't be downloaded", reason instanceof Error ? reason.message : String(reason));
    }
  }

  /** Closes idle connections (on shutdown). */
  async close(): Promise<void> {
    await this.#agent.close();
  }

  /**
   * Every TCP connection goes through here. A trusted host connects as configured; any other
   * host is resolved, private answers are dropped, and the connection goes to a public address
   * only, which is checked once more on the connected socket.
   */
  #connect(opts: buildConnector.Options, callback: buildConnector.Callback): void {
    // undici always passes the URL's host (host[:port], as `trustedHosts` spells it).
    if (opts.host !== undefined && this.#trusted.has(opts.host.toLowerCase())) {
      this.#base(opts, callback);
      return;
    }
    this.#publicAddress(opts.hostname).then(
      (address) => {
        this.#base({ ...opts, hostname: address }, (err, socket) => {
          if (err) {
            callback(err, null);
            return;
          }
          const remote = socket.remoteAddress ?? 'no address';
          const range = blockedRange(remote);
          if (range) {
            socket.destroy();
            callback(this.#refuse(`${opts.hostname} connected to ${remote}, ${range}`), null);
            return;
          }
          callback(null, socket);
        });
      },
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err)), null),
    );
  }

  /** The first public address of `hostname` (itself when it is an address), or a refusal. */
  async #publicAddress(hostname: string): Promise<string> {
    if (isIP(hostname)) {
      const range = blockedRange(hostname);
      if (range) throw this.#refuse(`${hostname} is ${range}`);
      return hostname;
    }
    const addresses = await this.#lookup(hostname);
    const usable = addresses.find((a) => !blockedRange(a.address));
    if (usable) return usable.address;
    const first = addresses[0];
    if (!first) throw new FetchProblem('network', "couldn't be downloaded", `${hostname} has no address`);
    // No usable address, so the first one is blocked and blockedRange names why.
    throw this.#refuse(`${hostname} resolves to ${first.address}, ${blockedRange(first.address)}`);
  }

  #refuse(detail: string): FetchProblem {
    this.#onRefused(detail);
    return new FetchProblem('private-address', PRIVATE_LINK, detail);
  }
}

function parseLink(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new FetchProblem('not-a-link', 'not a link I can download');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new FetchProblem('not-a-link', 'not a link I can download');
  return parsed;
}

/** Reads a body into memory, refusing as soon as it passes `maxBytes` (the declared length is checked first). */
async function readCapped(body: ReadableStream<Uint8Array>, declared: number, maxBytes: number): Promise<Buffer> {
  const tooLarge = () => new FetchProblem('too-large', `too large (over ${formatMB(maxBytes)})`);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await body.cancel();
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** Ours, thrown directly, or from the connector, which undici wraps once as `TypeError('fetch failed', { cause })`. */
function findProblem(err: unknown): FetchProblem | undefined {
  if (err instanceof FetchProblem) return err;
  const cause = err instanceof Error ? err.cause : undefined;
  return cause instanceof FetchProblem ? cause : undefined;
}
