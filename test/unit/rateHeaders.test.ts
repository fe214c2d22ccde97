import { describe, expect, it } from 'vitest';
import { readRateHeaders, routeOf } from '../../src/core/rateHeaders.js';

const CHANNEL = '111111111111111111';
const GUILD = '222222222222222222';
const APP = '333333333333333333';
const MESSAGE = '444444444444444444';

/** A header getter over a plain record, answering null for a missing header as fetch's Headers.get does. */
const from =
  (record: Record<string, string>) =>
  (name: string): string | null =>
    record[name] ?? null;

describe('routeOf: route keys as discord.js buckets them', () => {
  it('keys a channel route by its template and the channel', () => {
    expect(routeOf('POST', `/channels/${CHANNEL}/messages`)).toEqual({
      template: 'POST /channels/:id/messages',
      major: CHANNEL,
      key: `POST /channels/:id/messages ${CHANNEL}`,
    });
  });

  it('keys a guild route by the guild', () => {
    expect(routeOf('GET', `/guilds/${GUILD}/members/${MESSAGE}`)).toEqual({
      template: 'GET /guilds/:id/members/:id',
      major: GUILD,
      key: `GET /guilds/:id/members/:id ${GUILD}`,
    });
  });

  it('keys an interaction webhook by application and token, the token hidden from the template', () => {
    expect(routeOf('PATCH', `/webhooks/${APP}/tok-en/messages/@original`)).toEqual({
      template: 'PATCH /webhooks/:id/:token/messages/@original',
      major: `${APP}/tok-en`,
      key: `PATCH /webhooks/:id/:token/messages/@original ${APP}/tok-en`,
    });
  });

  it('keys a webhook without a token by its id alone', () => {
    expect(routeOf('GET', `/webhooks/${APP}`)).toMatchObject({ template: 'GET /webhooks/:id', major: APP });
  });

  it('takes the major parameter only from the start of the path', () => {
    // Guild commands are bucketed globally by discord.js: the guild later in the path is not the major parameter.
    expect(routeOf('PUT', `/applications/${APP}/guilds/${GUILD}/commands`)).toEqual({
      template: 'PUT /applications/:id/guilds/:id/commands',
      major: 'global',
      key: 'PUT /applications/:id/guilds/:id/commands global',
    });
    expect(routeOf('POST', `/applications/${APP}/webhooks/${APP}/tok-en`)).toMatchObject({ major: 'global' });
  });

  it('keys a route with no major parameter as global', () => {
    expect(routeOf('GET', '/gateway/bot')).toEqual({ template: 'GET /gateway/bot', major: 'global', key: 'GET /gateway/bot global' });
  });

  it('treats only 17 to 19 digits as an id', () => {
    expect(routeOf('GET', '/channels/1234567890123456/messages')).toEqual({
      template: 'GET /channels/1234567890123456/messages',
      major: 'global',
      key: 'GET /channels/1234567890123456/messages global',
    });
    expect(routeOf('GET', '/channels/12345678901234567/messages')).toMatchObject({ template: 'GET /channels/:id/messages', major: '12345678901234567' });
    expect(routeOf('GET', '/channels/1234567890123456789/messages')).toMatchObject({ template: 'GET /channels/:id/messages', major: '1234567890123456789' });
    // Longer numbers are read as discord.js reads them (its first 19 digits), so the keys still match its buckets.
    expect(routeOf('GET', '/channels/12345678901234567890/messages')).toMatchObject({ template: 'GET /channels/:id0/messages', major: '1234567890123456789' });
  });

  it('replaces every id in the path, not only the first', () => {
    expect(routeOf('DELETE', `/channels/${CHANNEL}/messages/${MESSAGE}`).template).toBe('DELETE /channels/:id/messages/:id');
  });

  it('counts every reaction of a message as one route, whatever the emoji and what follows it', () => {
    const thumbs = routeOf('PUT', `/channels/${CHANNEL}/messages/${MESSAGE}/reactions/%F0%9F%91%8D/@me`);
    const heart = routeOf('PUT', `/channels/${CHANNEL}/messages/${MESSAGE}/reactions/%E2%9D%A4/@me`);
    expect(thumbs.template).toBe('PUT /channels/:id/messages/:id/reactions/:reaction');
    expect(heart).toEqual(thumbs);
  });

  it('upper-cases the method and ignores the query string', () => {
    expect(routeOf('patch', `/channels/${CHANNEL}/messages/${MESSAGE}?wait=true`)).toEqual(routeOf('PATCH', `/channels/${CHANNEL}/messages/${MESSAGE}`));
  });

  it('unescapes @original as discord.js reports it, and keeps a path it cannot unescape as it is', () => {
    expect(routeOf('PATCH', `/webhooks/${APP}/tok/messages/%40original`).template).toBe('PATCH /webhooks/:id/:token/messages/@original');
    expect(routeOf('GET', `/channels/${CHANNEL}/messages/%E0%A4%A`)).toEqual({
      template: 'GET /channels/:id/messages/%E0%A4%A',
      major: CHANNEL,
      key: `GET /channels/:id/messages/%E0%A4%A ${CHANNEL}`,
    });
  });
});

describe('readRateHeaders: what a response says about rate limits', () => {
  it('reads every rate-limit header, times in ms', () => {
    const headers = readRateHeaders(
      from({
        'x-ratelimit-limit': '5',
        'x-ratelimit-remaining': '4',
        'x-ratelimit-reset-after': '1.250',
        'x-ratelimit-reset': '1700000000.5',
        'x-ratelimit-bucket': 'abc',
        'retry-after': '2',
        'x-ratelimit-scope': 'Shared',
        'x-ratelimit-global': 'true',
      }),
    );
    expect(headers).toEqual({
      limit: 5,
      remaining: 4,
      resetAfterMs: 1250,
      resetAtMs: 1_700_000_000_500,
      bucket: 'abc',
      retryAfterMs: 2000,
      scope: 'shared',
      global: true,
    });
  });

  it('leaves out every header that is missing (null)', () => {
    expect(readRateHeaders(() => null)).toEqual({ global: false });
  });

  it('leaves out every header that is missing (undefined)', () => {
    expect(readRateHeaders(() => undefined)).toEqual({ global: false });
  });

  it('leaves out headers that are empty or not numbers, never reading them as 0', () => {
    const empty = readRateHeaders(() => '');
    expect(empty).toEqual({ global: false });
    const junk = readRateHeaders(from({ 'x-ratelimit-limit': 'five', 'x-ratelimit-remaining': 'Infinity', 'retry-after': 'NaN' }));
    expect(junk).toEqual({ global: false });
  });

  it('reads a remaining of 0 as 0', () => {
    expect(readRateHeaders(from({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': '0' }))).toEqual({ remaining: 0, resetAfterMs: 0, global: false });
  });

  it('is global only when X-RateLimit-Global says true, in any case', () => {
    expect(readRateHeaders(from({ 'x-ratelimit-global': 'TRUE' })).global).toBe(true);
    expect(readRateHeaders(from({ 'x-ratelimit-global': 'false' })).global).toBe(false);
    expect(readRateHeaders(from({ 'x-ratelimit-global': 'yes' })).global).toBe(false);
  });
});
