/**
 * How Discord names a request for its rate limits (route template and major parameter, as
 * discord.js derives them) and what a response's rate-limit headers say. Pure.
 */

/** A route as Discord rate-limits it. `key` contains an interaction token: never log it. */
export interface Route {
  /** Method and route with ids replaced, e.g. `PATCH /channels/:id/messages/:id`. */
  template: string;
  /** The major parameter: a channel or guild id, `applicationId/token` for webhooks, else `global`. */
  major: string;
  key: string;
}

/** A send as its caller names it: what discord.js will request. */
export interface SendRoute {
  method: string;
  path: string;
}

/** The same major parameter and route template discord.js derives, so our keys match its buckets. */
const MAJOR = /(?:^\/webhooks\/(\d{17,19}\/[^/?]+))|(?:^\/(?:channels|guilds|webhooks)\/(\d{17,19}))/;

export function routeOf(method: string, path: string): Route {
  // discord.js reports `@original` escaped (`%40original`); callers name it plainly.
  const endpoint = decode(path.split('?')[0] ?? path);
  const match = MAJOR.exec(endpoint);
  const major = match?.[2] ?? match?.[1] ?? 'global';
  const route = endpoint
    .replaceAll(/\d{17,19}/g, ':id')
    .replace(/\/reactions\/(.*)/, '/reactions/:reaction')
    .replace(/\/webhooks\/:id\/[^/?]+/, '/webhooks/:id/:token');
  const template = `${method.toUpperCase()} ${route}`;
  return { template, major, key: `${template} ${major}` };
}

/** What one response said about rate limits. Times in ms. */
export interface RateHeaders {
  limit?: number;
  remaining?: number;
  resetAfterMs?: number;
  /** `X-RateLimit-Reset`: when the bucket resets, on Discord's clock (ms since epoch). */
  resetAtMs?: number;
  bucket?: string;
  retryAfterMs?: number;
  /** `X-RateLimit-Global` was set: the whole bot is limited, not one bucket. */
  global: boolean;
  /** `user`, `global` or `shared` (a limit on the resource, shared with other apps). */
  scope?: string;
}

export function readRateHeaders(get: (name: string) => string | null | undefined): RateHeaders {
  const num = (name: string, scale = 1) => {
    const raw = get(name);
    // Number('') and Number(null) are 0: a missing or empty header must not read as an empty bucket.
    const value = raw ? Number(raw) : NaN;
    return Number.isFinite(value) ? value * scale : undefined;
  };
  const headers: RateHeaders = { global: get('x-ratelimit-global')?.toLowerCase() === 'true' };
  const limit = num('x-ratelimit-limit');
  const remaining = num('x-ratelimit-remaining');
  const resetAfterMs = num('x-ratelimit-reset-after', 1000);
  const resetAtMs = num('x-ratelimit-reset', 1000);
  const retryAfterMs = num('retry-after', 1000);
  const bucket = get('x-ratelimit-bucket');
  const scope = get('x-ratelimit-scope');
  if (limit !== undefined) headers.limit = limit;
  if (remaining !== undefined) headers.remaining = remaining;
  if (resetAfterMs !== undefined) headers.resetAfterMs = resetAfterMs;
  if (resetAtMs !== undefined) headers.resetAtMs = resetAtMs;
  if (retryAfterMs !== undefined) headers.retryAfterMs = retryAfterMs;
  if (bucket) headers.bucket = bucket;
  if (scope) headers.scope = scope.toLowerCase();
  return headers;
}

function decode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
