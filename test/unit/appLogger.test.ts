import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { createAppLogger, createLogger, type Logger } from '../../src/logger.js';

/** Secrets shaped like the real ones: a bot token (base64 id . timestamp . hmac) and a Sogni API key. */
const DISCORD_TOKEN = 'MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GhJkLm.aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5z';
const SOGNI_API_KEY = 'sogni_live_4f7c2a9e8b1d6f3a0c5e7b9d2f4a6c8e';
/** An interaction token: not configured, so only the shapes around it can catch it. */
const INTERACTION_TOKEN = 'aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OTpzZWNyZXQ';

function configWith(env: Record<string, string> = {}): Config {
  return loadConfig({ DISCORD_TOKEN, SOGNI_API_KEY, LOG_LEVEL: 'debug', ...env });
}

/** The logger `src/main.ts` builds, writing into an array of lines. */
function appLogger(config: Config = configWith()): { logger: Logger; text: () => string; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const logger = createAppLogger(config, { destination });
  const text = () => chunks.join('');
  return { logger, text, lines: () => text().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

function expectNoSecret(text: string, ...secrets: string[]): void {
  expect(text.length).toBeGreaterThan(0);
  for (const secret of [DISCORD_TOKEN, SOGNI_API_KEY, ...secrets]) {
    expect(text).not.toContain(secret);
    // Not even a recognisable piece of one (a secret split across a line break, or cut short).
    expect(text).not.toContain(secret.slice(-16));
  }
}

describe('the application logger (as src/main.ts builds it)', () => {
  it('never writes the token or the key from a logged config object, and keeps the rest of it', () => {
    const { logger, text, lines } = appLogger();
    const config = configWith();
    logger.info({ config }, 'starting');
    logger.info(config, 'starting, flattened');
    logger.debug({ settings: { config } }, 'nested');
    expectNoSecret(text());
    const [first, second] = lines();
    expect(first?.['config']).toMatchObject({ DISCORD_TOKEN: '[redacted]', SOGNI_API_KEY: '[redacted]', SOGNI_MODEL: config.SOGNI_MODEL });
    expect(second).toMatchObject({ DISCORD_TOKEN: '[redacted]', SOGNI_API_KEY: '[redacted]', LOG_LEVEL: 'debug' });
  });

  it('never writes an apiKey field, at any depth', () => {
    const { logger, text, lines } = appLogger();
    logger.info({ apiKey: SOGNI_API_KEY }, 'top level');
    logger.info({ sogni: { apiKey: SOGNI_API_KEY, baseURL: 'https://api.sogni.ai/v1' } }, 'one level down');
    logger.info({ client: { _options: { apiKey: SOGNI_API_KEY } } }, 'deep in an SDK client');
    expectNoSecret(text());
    expect(lines()[1]?.['sogni']).toEqual({ apiKey: '[redacted]', baseURL: 'https://api.sogni.ai/v1' });
  });

  it('never writes an Authorization header, whatever its case or depth', () => {
    const { logger, text } = appLogger();
    logger.warn({ headers: { authorization: `Bearer ${SOGNI_API_KEY}` } }, 'lower case');
    logger.warn({ headers: { Authorization: `Bot ${DISCORD_TOKEN}` } }, 'capitalised');
    logger.warn({ request: { headers: { Authorization: `Bearer ${SOGNI_API_KEY}`, 'content-type': 'application/json' } } }, 'in a request');
    logger.warn({ err: { config: { headers: { Authorization: `Bot ${DISCORD_TOKEN}` } } } }, 'in an HTTP client error');
    logger.warn({ authorization: `Bearer ${INTERACTION_TOKEN}` }, 'a token the bot was not configured with');
    expectNoSecret(text(), INTERACTION_TOKEN);
    expect(text()).toContain('application/json');
  });

  it('scrubs a Bearer string inside an error message, its stack and its cause', () => {
    const { logger, text, lines } = appLogger();
    const cause = new Error(`upstream said: invalid header "Authorization: Bearer ${SOGNI_API_KEY}"`);
    logger.error({ err: new Error(`401 Unauthorized for Bearer ${SOGNI_API_KEY}`, { cause }) }, 'sogni request failed');
    logger.error({ err: new Error(`proxy refused Bearer   ${INTERACTION_TOKEN}`) }, 'a bearer token it does not know');
    expectNoSecret(text(), INTERACTION_TOKEN);
    expect((lines()[1]?.['err'] as { message: string }).message).toBe('proxy refused Bearer [redacted]');
    const err = lines()[0]?.['err'] as { message: string; stack: string };
    expect(err.message).toMatch(/^401 Unauthorized for Bearer \[redacted\]: upstream said/);
    expect(err.stack).toContain('Bearer [redacted]');
  });

  it('never writes the Discord token: as a field, in an error, in the message text or in a webhook URL', () => {
    const { logger, text, lines } = appLogger();
    logger.info({ token: DISCORD_TOKEN }, 'a field');
    logger.info({ login: { token: DISCORD_TOKEN } }, 'a nested field');
    logger.error({ err: new Error(`An invalid token was provided: ${DISCORD_TOKEN}`) }, 'login failed');
    logger.warn(`could not log in with ${DISCORD_TOKEN}`);
    logger.warn({ err: new Error(`404 on POST /api/v10/webhooks/123456789012345678/${INTERACTION_TOKEN}/messages/@original`) }, 'edit failed');
    logger.warn({ url: `https://discord.com/api/v10/interactions/123456789012345678/${INTERACTION_TOKEN}/callback` }, 'callback failed');
    expectNoSecret(text(), INTERACTION_TOKEN);
    expect(lines()[3]?.['msg']).toBe('could not log in with [redacted]');
    expect(lines()[5]?.['url']).toBe('https://discord.com/api/v10/interactions/123456789012345678/[redacted]/callback');
  });

  it('redacts secret-named fields even when their values are not the configured ones', () => {
    // A second config (a reload, a test) or a token the bot never saw: the field names alone must hide them.
    const { logger, lines } = appLogger();
    const other = { DISCORD_TOKEN: 'short-t', SOGNI_API_KEY: 'short-k', LOG_LEVEL: 'info' };
    logger.info({ config: other }, 'nested config');
    logger.info(other, 'flat config');
    logger.info({ token: 'tok', apiKey: 'key', authorization: 'auth', Authorization: 'Auth' }, 'top-level names');
    logger.info({ interaction: { token: 'tok', headers: { authorization: 'a', Authorization: 'A' } } }, 'nested names');
    logger.info({ headers: { authorization: 'a', Authorization: 'A' }, sdk: { apiKey: 'k' } }, 'headers and keys');
    const r = '[redacted]';
    expect(lines().map(({ level: _l, time: _t, pid: _p, hostname: _h, msg: _m, ...fields }) => fields)).toEqual([
      { config: { DISCORD_TOKEN: r, SOGNI_API_KEY: r, LOG_LEVEL: 'info' } },
      { DISCORD_TOKEN: r, SOGNI_API_KEY: r, LOG_LEVEL: 'info' },
      { token: r, apiKey: r, authorization: r, Authorization: r },
      { interaction: { token: r, headers: { authorization: r, Authorization: r } } },
      { headers: { authorization: r, Authorization: r }, sdk: { apiKey: r } },
    ]);
  });

  it('scrubs the configured secrets wherever they appear, under any field name', () => {
    const { logger, text, lines } = appLogger();
    logger.info({ attempt: { with: { value: `${SOGNI_API_KEY}` } }, note: `token=${DISCORD_TOKEN};` }, 'odd shapes');
    logger.info([DISCORD_TOKEN, SOGNI_API_KEY].join(' and '));
    expectNoSecret(text());
    expect(lines()[0]).toMatchObject({ attempt: { with: { value: '[redacted]' } }, note: 'token=[redacted];' });
    expect(lines()[1]?.['msg']).toBe('[redacted] and [redacted]');
  });

  it('never writes the password of a STORE_URL', () => {
    const { logger, text } = appLogger(configWith({ STORE_URL: 'redis://bot:s3cr%40t-pa55word@cache.internal:6379/0' }));
    logger.error({ err: new Error('WRONGPASS invalid username-password pair: s3cr@t-pa55word') }, 'store failed');
    expectNoSecret(text(), 's3cr@t-pa55word');
  });

  it('scrubs secrets of 8 characters or more by value, and leaves shorter ones (a test token) to the field names', () => {
    const { logger, lines } = appLogger(configWith({ DISCORD_TOKEN: 't', SOGNI_API_KEY: 'k1234567' }));
    logger.info({ note: 'key k1234567 and the letter t' }, 'short secrets');
    // Scrubbing a one-letter token everywhere would wreck every line; the field-name paths still hide it.
    expect(lines()[0]).toMatchObject({ note: 'key [redacted] and the letter t', msg: 'short secrets' });
  });

  it('writes JSON to a given destination even when asked for pretty lines', () => {
    const chunks: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        chunks.push(String(chunk));
        done();
      },
    });
    createAppLogger(configWith(), { pretty: true, destination }).info({ apiKey: SOGNI_API_KEY }, 'json please');
    expect(JSON.parse(chunks.join(''))).toMatchObject({ msg: 'json please', apiKey: '[redacted]' });
  });

  it('uses the pretty transport only in a terminal, and plain JSON on stdout otherwise', () => {
    const streamOf = (logger: Logger) => (logger as unknown as Record<symbol, { constructor: { name: string }; end?: () => void }>)[pino.symbols.streamSym];
    const pretty = streamOf(createLogger({ level: 'silent', pretty: true }));
    expect(pretty?.constructor.name).toBe('ThreadStream');
    pretty?.end?.();
    expect(streamOf(createLogger({ level: 'silent' }))?.constructor.name).toBe('SonicBoom');
    expect(streamOf(createLogger({ level: 'silent', pretty: false }))?.constructor.name).toBe('SonicBoom');
  });

  it('keeps secrets out of the pretty lines a terminal shows', () => {
    // A separate process: the pretty transport writes to the real stdout from a worker thread.
    const logger = fileURLToPath(new URL('../../src/logger.ts', import.meta.url));
    const script = `
      const { createAppLogger } = await import(${JSON.stringify(logger)});
      const log = createAppLogger({ LOG_LEVEL: 'info', DISCORD_TOKEN: ${JSON.stringify(DISCORD_TOKEN)}, SOGNI_API_KEY: ${JSON.stringify(SOGNI_API_KEY)} }, { pretty: true });
      log.error({ err: new Error('401 for Bearer ${SOGNI_API_KEY}'), deep: { x: { y: ${JSON.stringify(DISCORD_TOKEN)} } } }, 'pretty line');
    `;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('pretty line');
    expect(run.stdout).toContain('Bearer [redacted]');
    expectNoSecret(run.stdout + run.stderr);
  });

  it('writes at the configured level', () => {
    const { logger, lines } = appLogger(configWith({ LOG_LEVEL: 'warn' }));
    logger.info('not shown');
    logger.warn('shown');
    expect(lines().map((l) => l['msg'])).toEqual(['shown']);
  });
});
