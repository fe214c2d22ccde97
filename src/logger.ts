import { pino, stdSerializers, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths that could carry a secret. The token and key live only in config, but discord.js
 * and the openai SDK errors can carry request headers, and a careless `{ config }` must not leak.
 */
const REDACT = [
  'token',
  'apiKey',
  'authorization',
  'headers.authorization',
  '*.headers.authorization',
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

export function createLogger({ level, pretty = false, destination, secrets = [] }: LoggerOptions): Logger {
  const options = {
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    serializers: {
      // discord.js errors carry the request URL, which for interactions holds the token.
      err: (err: Error) => JSON.parse(scrubSecrets(JSON.stringify(stdSerializers.err(err)), secrets)) as unknown,
    },
  };
  if (destination) return pino(options, destination);
  if (pretty && canResolve('pino-pretty')) return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true } } });
  return pino(options);
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
    return false;
  }
}
