import type { Config } from '../config.js';
import { WorkLimiter } from '../core/workLimiter.js';
import { DISCORD_CDN_HOSTS, hostsOf, SafeFetcher, type NetDeps, type Resolver } from './safeFetch.js';

const MB = 1024 * 1024;

type NetConfig = Pick<Config, 'SOGNI_BASE_URL' | 'DISCORD_API_URL' | 'DOWNLOAD_CONCURRENCY' | 'DOWNLOAD_BUFFER_MB' | 'MAX_ATTACHMENT_MB'>;

/**
 * The bot's one fetcher and one download limiter. The configured Sogni and Discord hosts and
 * Discord's CDN are trusted where they are (the tests run them on loopback); every other host
 * must be on the public internet. By default the limiter lets DOWNLOAD_CONCURRENCY downloads
 * and decodes run at once, holding at most that many full-size attachments in memory.
 */
export function createNetDeps(config: NetConfig, options: { lookup?: Resolver; onRefused?: (detail: string) => void } = {}): NetDeps {
  return {
    fetcher: new SafeFetcher({
      trustedHosts: [...hostsOf([config.SOGNI_BASE_URL, config.DISCORD_API_URL]), ...DISCORD_CDN_HOSTS],
      ...(options.lookup ? { lookup: options.lookup } : {}),
      ...(options.onRefused ? { onRefused: options.onRefused } : {}),
    }),
    limiter: new WorkLimiter({
      concurrency: config.DOWNLOAD_CONCURRENCY,
      maxBytes: (config.DOWNLOAD_BUFFER_MB ?? config.DOWNLOAD_CONCURRENCY * config.MAX_ATTACHMENT_MB) * MB,
    }),
  };
}
