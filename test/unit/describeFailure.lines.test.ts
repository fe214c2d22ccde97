import { describe, expect, it } from 'vitest';
import { describeFailure, type UpstreamFailure } from '../../src/core/describeFailure.js';

const http = (status: number, extra: Partial<Extract<UpstreamFailure, { kind: 'http' }>> = {}): UpstreamFailure => ({ kind: 'http', status, ...extra });

/** The whole line, so a changed word or a wrong branch shows. */
describe('describeFailure, line by line', () => {
  it.each<[string, UpstreamFailure, string]>([
    ['a timeout', { kind: 'timeout', seconds: 45 }, "Sogni didn't answer for 45 s, so I stopped waiting. Try again in a moment."],
    ['a connection failure', { kind: 'connection' }, "I couldn't reach Sogni. Try again in a moment."],
    ['a dropped stream', { kind: 'dropped' }, 'The connection to Sogni dropped before the answer finished. Try again.'],
    ['an unreadable stream', { kind: 'malformed' }, "Sogni sent a reply I couldn't read. Try again in a moment."],
    ['an empty answer', { kind: 'empty' }, 'The model finished without writing an answer. Try rephrasing.'],
    ['an unknown failure', { kind: 'unknown' }, 'Something went wrong while answering. Try again in a moment.'],
    ['consent by code', http(400, { code: '4103' }), "This model needs the account owner's consent on Sogni before the bot can use it."],
    ['consent by message on 403', http(403, { message: 'Owner CONSENT required' }), "This model needs the account owner's consent on Sogni before the bot can use it."],
    ['consent by type on 401', http(401, { type: 'consent_required' }), "This model needs the account owner's consent on Sogni before the bot can use it."],
    ['consent words without a denial', http(400, { message: 'consent form' }), 'Sogni refused the request: consent form'],
    ['a rejected key', http(401), "Sogni rejected the bot's API key. The bot's owner needs to check SOGNI_API_KEY."],
    ['a missing entitlement', http(402, { code: 4078 }), "Sogni says the Sogni account behind this bot isn't entitled to this model or feature."],
    ['a full queue', http(402, { code: 4079 }), "Sogni says Sogni's queue for this account's plan is full — try again in a minute."],
    ['a renewal', http(402, { code: '4080' }), 'Sogni says the Sogni subscription behind this bot is being renewed — try again shortly.'],
    ['a plan upgrade', http(402, { code: 4081 }), 'Sogni says this needs a higher Sogni plan than the bot has.'],
    ['a premium model', http(400, { code: 'vendor_model_premium_required' }), 'This model needs a Premium Spark balance on the Sogni account.'],
    ['an empty balance', http(402), "The Sogni account behind this bot is out of credit. The bot's owner needs to top it up."],
    ['an empty balance by code', http(400, { code: 'insufficient_balance' }), "The Sogni account behind this bot is out of credit. The bot's owner needs to top it up."],
    ['a subscription problem', http(402, { message: 'Subscription expired' }), "The Sogni subscription behind this bot can't be used right now. The bot's owner needs to check it."],
    ['a rate limit without a wait', http(429), 'Sogni is rate-limiting the bot. Try again in a minute.'],
    ['a rate limit with a zero wait', http(429, { retryAfterSeconds: 0 }), 'Sogni is rate-limiting the bot. Try again in a minute.'],
    ['a rate limit of a fraction of a second', http(429, { retryAfterSeconds: 0.2 }), 'Sogni is rate-limiting the bot. Try again in 1 s.'],
    ['a rate limit just under 90 s', http(429, { retryAfterSeconds: 89.5 }), 'Sogni is rate-limiting the bot. Try again in 90 s.'],
    ['a rate limit of 90 s', http(429, { retryAfterSeconds: 90 }), 'Sogni is rate-limiting the bot. Try again in 2 min.'],
    ['an unknown model', http(404, { code: 'model_not_found' }), "Sogni doesn't know that model. Pick one from the list."],
    ['something else not found', http(404), 'Sogni could not find what was asked for.'],
    ['a restart', http(502, { type: 'server_restarting' }), 'Sogni is restarting. Try again in a few seconds.'],
    ['a lost transport', http(0, { message: 'transport_lost' }), 'Sogni is restarting. Try again in a few seconds.'],
    ['an error inside the stream without words', http(0), 'Sogni stopped the answer with an error. Try again.'],
    ['an error inside the stream', http(0, { message: '  model\n crashed  ' }), 'Sogni stopped the answer with an error: model crashed'],
    ['a server error', http(500), 'Sogni had a server error (500). Try again in a moment.'],
    ['a refusal without words', http(422), 'Sogni refused the request.'],
    ['a too-large request', http(413, { message: 'payload too large' }), 'Sogni refused the request: payload too large'],
    ['any other status', http(418), 'Sogni answered with an error (418). Try again in a moment.'],
    ['a status just under 500', http(499), 'Sogni answered with an error (499). Try again in a moment.'],
  ])('for %s', (_name, failure, line) => {
    expect(describeFailure(failure)).toBe(`⚠️ ${line}`);
  });

  it('keeps upstream detail to 160 characters, cutting longer text with an ellipsis', () => {
    const exactly = 'x'.repeat(160);
    expect(describeFailure(http(400, { message: exactly }))).toBe(`⚠️ Sogni refused the request: ${exactly}`);
    expect(describeFailure(http(400, { message: `${exactly}y` }))).toBe(`⚠️ Sogni refused the request: ${'x'.repeat(157)}…`);
  });
});
