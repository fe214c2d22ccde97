import { pino, type Logger } from 'pino';
import type { Config } from './config.js';
import { storeSecrets } from './store/storeUrl.js';

export type { Logger } from 'pino';

/**
 * Paths that could carry a secret. The token and key live only in config, but discord.js
 * and the openai SDK errors can carry request headers, and a careless `{ config }` must not leak.
 */
const REDACT = [
  'token',
  'apiKey',
  'authorization',
  'Authorization',
  'headers.authorization',
  'headers.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  'config.DISCORD_TOKEN',
  'config.SOGNI_API_KEY',
  'DISCORD_TOKEN',
  'SOGNI_API_KEY',
  '*.token',
  '*.apiKey',
];

export interface LoggerOptions {
  level: string;
  /** Pretty, human-readable lines (local development). */
  pretty?: boolean;
  /** Where to write; defaults to stdout. */
  destination?: NodeJS.WritableStream;
  /** Values that must never appear in a log line (the bot token, the API key). */
  secrets?: readonly string[];
}

// Stryker disable next-line ArrayDeclaration: a logger given no secrets scrubs none; a placeholder secret would only match itself
export function createLogger({ level, pretty, destination, secrets = [] }: LoggerOptions): Logger {
  const options = {
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    hooks: {
      // The last word on every line, whatever its shape: a secret under a field name the paths
      // miss (`Authorization`, a deeply nested `apiKey`), in an error's message or stack, in
      // the message text, or in a Discord URL carrying an interaction token. It runs before
      // the pretty transport too.
      streamWrite: (line: string) => scrubSecrets(line, secrets),
    },
  };
  // A terminal gets readable lines; a given destination (a file, a test) always gets JSON.
  if (pretty && !destination && canResolve('pino-pretty')) {
    // Stryker disable next-line ObjectLiteral,BooleanLiteral: colours are cosmetic, and the worker thread's output is read only by a subprocess test
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true } } });
  }
  return pino(options, destination);
}

/**
 * The bot's logger, exactly as `src/main.ts` and the deploy script build it: the configured
 * level, and the bot token and the Sogni API key never written.
 */
export function createAppLogger(
  config: Pick<Config, 'LOG_LEVEL' | 'DISCORD_TOKEN' | 'SOGNI_API_KEY'> & Partial<Pick<Config, 'STORE_URL'>>,
  output: Pick<LoggerOptions, 'pretty' | 'destination'> = {},
): Logger {
  // A redis:// or postgres:// STORE_URL can carry a password; driver errors can quote it.
  // Stryker disable next-line ArrayDeclaration: without a STORE_URL there is no password; a placeholder secret would only scrub itself
  const secrets = [config.DISCORD_TOKEN, config.SOGNI_API_KEY, ...(config.STORE_URL ? storeSecrets(config.STORE_URL) : [])];
  return createLogger({ ...output, level: config.LOG_LEVEL, secrets });
}

/**
 * Removes anything that looks like a secret from free text (error messages can quote a
 * URL containing an interaction token, or an Authorization header).
 */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 8) out = out.split(secret).join('[redacted]');
  return out
    .replace(/(Bearer|Bot)\s+[A-Za-z0-9._~+/=-]{16,}/g, '$1 [redacted]')
    .replace(/(\/(?:webhooks|interactions)\/\d+\/)[A-Za-z0-9._-]{20,}/g, '$1[redacted]');
}

/** pino-pretty is a dev dependency: a production install without it logs plain JSON. */
function canResolve(specifier: string): boolean {
  try {
    import.meta.resolve(specifier);
    return true;
  } catch {
    // Stryker disable next-line BooleanLiteral: only a production install without dev dependencies gets here, never a test run
    return false;
  }
}
