import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('reports every missing or invalid variable together', () => {
    let error: unknown;
    try {
      loadConfig({ SOGNI_BASE_URL: 'not a url', LOG_LEVEL: 'loud', DEV_GUILD_ID: '12', SOGNI_TIMEOUT_SECONDS: 'soon' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['DISCORD_TOKEN', 'SOGNI_API_KEY', 'SOGNI_BASE_URL', 'LOG_LEVEL', 'DEV_GUILD_ID', 'SOGNI_TIMEOUT_SECONDS']) {
      expect(problems).toContain(name);
    }
  });

  it('fills in the documented defaults and treats blanks as unset', () => {
    const config = loadConfig({ DISCORD_TOKEN: 't', SOGNI_API_KEY: 'k', SOGNI_MODEL: '  ', STORE_URL: '' });
    expect(config).toMatchObject({
      SOGNI_BASE_URL: 'https://api.sogni.ai/v1',
      SOGNI_MODEL: 'qwen3.6-35b-a3b-gguf-iq4xs',
      STORE_URL: 'sqlite://data/bot.sqlite',
      LOG_LEVEL: 'info',
      SOGNI_TIMEOUT_SECONDS: 90,
    });
    expect(config.DEV_GUILD_ID).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('refuses a store URL it cannot open', () => {
    expect(() => loadConfig({ DISCORD_TOKEN: 't', SOGNI_API_KEY: 'k', STORE_URL: 'mysql://db' })).toThrow(/STORE_URL/);
  });
});
