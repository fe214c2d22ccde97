import { APIError } from 'openai';
import { describe, expect, it } from 'vitest';
import { retryHint } from '../../src/sogni/toFailure.js';

const apiError = (status: number, error: Record<string, unknown>, headers: Record<string, string> = {}) =>
  APIError.generate(status, { error }, undefined, new Headers(headers));

describe('retryHint', () => {
  it('waits as long as a 429 says, from the header or the body', () => {
    expect(retryHint(apiError(429, { code: 'rate_limit_exceeded' }, { 'retry-after': '3' }))).toEqual({ kind: 'rate-limited', afterSeconds: 3 });
    expect(retryHint(apiError(429, { retryAfter: 4 }))).toEqual({ kind: 'rate-limited', afterSeconds: 4 });
    expect(retryHint(apiError(429, { retry_after: 5 }))).toEqual({ kind: 'rate-limited', afterSeconds: 5 });
    expect(retryHint(apiError(429, {}))).toEqual({ kind: 'rate-limited', afterSeconds: undefined });
  });

  it('sends again when Sogni is restarting or lost the transport, by code or type, in a response or in the stream', () => {
    expect(retryHint(apiError(503, { code: 'server_restarting', message: 'restarting' }))).toEqual({ kind: 'restarting' });
    // How the SDK reports an error event inside an open stream.
    expect(retryHint(new APIError(undefined, { type: 'transport_lost', message: 'lost' }, undefined, new Headers()))).toEqual({ kind: 'restarting' });
  });

  it('leaves everything else to the user line', () => {
    expect(retryHint(apiError(500, { code: 'internal', message: 'server_restarting soon' }))).toBeUndefined();
    expect(retryHint(apiError(402, { code: 'insufficient_balance' }))).toBeUndefined();
    expect(retryHint(new TypeError('terminated'))).toBeUndefined();
  });
});
