import { describe, expect, it } from 'vitest';
import { describeFailure, type UpstreamFailure } from '../../src/core/describeFailure.js';

const http = (status: number, extra: Partial<Extract<UpstreamFailure, { kind: 'http' }>> = {}): UpstreamFailure => ({
  kind: 'http',
  status,
  ...extra,
});

describe('describeFailure', () => {
  it.each([
    ['a bad key (401)', http(401, { code: 'invalid_api_key' }), /API key/],
    ['a forbidden key (403)', http(403), /API key/],
    ['an empty balance (402)', http(402, { code: 'insufficient_balance' }), /out of credit/],
    ['a missing entitlement (402, 4078)', http(402, { code: 4078, type: 'subscription_unavailable' }), /entitled/],
    ['a full queue (402, 4079)', http(402, { code: '4079' }), /queue/],
    ['a plan upgrade (402, 4081)', http(402, { code: 4081 }), /higher Sogni plan/],
    ['a premium model', http(402, { code: 'vendor_model_premium_required' }), /Premium Spark/],
    ['a consent requirement (4103)', http(403, { code: 4103 }), /consent/],
    ['a rate limit with its wait', http(429, { retryAfterSeconds: 7 }), /rate-limiting.*7 s/],
    ['a long rate limit', http(429, { retryAfterSeconds: 600 }), /10 min/],
    ['a server error', http(503), /server error \(503\)/],
    ['a restart', http(503, { code: 'server_restarting' }), /restarting/],
    ['an unknown model', http(404, { message: 'model not found' }), /model/],
    ['a refused request', http(400, { message: 'messages too long' }), /refused the request: messages too long/],
    ['an error inside the stream', http(0, { message: 'backend exploded' }), /stopped the answer with an error: backend exploded/],
    ['a timeout', { kind: 'timeout', seconds: 90 } as const, /90 s/],
    ['a connection failure', { kind: 'connection' } as const, /couldn't reach Sogni/],
    ['a dropped stream', { kind: 'dropped' } as const, /dropped/],
    ['an unreadable stream', { kind: 'malformed' } as const, /couldn't read/],
    ['an empty answer', { kind: 'empty' } as const, /without writing an answer/],
  ])('explains %s in one line', (_name, failure, expected) => {
    const line = describeFailure(failure);
    expect(line).toMatch(expected);
    expect(line).not.toContain('\n');
    expect(line.length).toBeLessThan(220);
    expect(line.startsWith('⚠️ ')).toBe(true);
  });

  it('shortens a long upstream message to one line', () => {
    const line = describeFailure(http(400, { message: `bad\n${'x'.repeat(500)}` }));
    expect(line).not.toContain('\n');
    expect(line.length).toBeLessThan(220);
  });
});
