import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createAppLogger } from '../../src/logger.js';
import { storeSecrets } from '../../src/store/openStore.js';

describe('a STORE_URL password', () => {
  it('is found in redis:// and postgres:// URLs (percent-encoded too), and absent from sqlite://', () => {
    expect(storeSecrets('redis://default:s3cret-pa55word@redis:6379/0')).toEqual(['s3cret-pa55word']);
    expect(storeSecrets('postgres://bot:p%40ss%2Fword-long@db:5432/bot')).toEqual(['p@ss/word-long']);
    expect(storeSecrets('sqlite://data/bot.sqlite')).toEqual([]);
  });

  it('never reaches a log line, even inside a driver error quoting the URL', () => {
    let out = '';
    const destination = new Writable({
      write(chunk, _enc, done) {
        out += String(chunk);
        done();
      },
    });
    const url = 'postgres://bot:hunter2-hunter2@db.internal:5432/bot';
    const logger = createAppLogger({ LOG_LEVEL: 'info', DISCORD_TOKEN: 'discord-token-xxxxxxxx', SOGNI_API_KEY: 'sogni-key-xxxxxxxx', STORE_URL: url }, { destination });
    logger.error({ err: new Error(`connect ECONNREFUSED ${url}`) }, `could not reach ${url}`);
    expect(out).toContain('db.internal');
    expect(out).not.toContain('hunter2-hunter2');
  });
});
