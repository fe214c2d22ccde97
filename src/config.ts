import { z } from 'zod';

const snowflake = z.string().regex(/^\d{17,20}$/, 'must be a Discord id (17-20 digits)');

const DEFAULT_SYSTEM_PROMPT = [
  'You are a helpful assistant in a Discord server, powered by Sogni Intelligence.',
  'Several people may talk to you in one channel; each user message starts with the speaker\'s name.',
  'Answer in Discord markdown. Be concise unless asked for detail.',
].join(' ');

const spark = (fallback: number) =>
  z.coerce.number({ error: 'must be a number of Spark' }).min(0, 'must be 0 or more').max(10_000_000, 'must be at most 10,000,000').default(fallback);
const price = (fallback: number) =>
  z.coerce.number({ error: 'must be a number of Spark' }).min(0, 'must be 0 or more').max(1_000_000, 'must be at most 1,000,000').default(fallback);
const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const schema = z.object({
  DISCORD_TOKEN: z.string({ error: 'is required' }).min(1, 'is required'),
  SOGNI_API_KEY: z.string({ error: 'is required' }).min(1, 'is required'),
  SOGNI_BASE_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).default('https://api.sogni.ai/v1'),
  SOGNI_MODEL: z.string().min(1).default('qwen3.6-35b-a3b-gguf-iq4xs'),
  SOGNI_TIMEOUT_SECONDS: z.coerce
    .number({ error: 'must be a number of seconds' })
    .int('must be a whole number of seconds')
    .min(5, 'must be at least 5')
    .max(600, 'must be at most 600')
    .default(90),
  SOGNI_RATE_LIMIT: z.coerce.number({ error: 'must be a number of requests' }).int('must be a whole number').min(1, 'must be at least 1').max(100_000, 'must be at most 100,000').default(60),
  USER_MAX_ACTIVE: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(1000, 'must be at most 1000').default(2),
  STORE_URL: z
    .string()
    .regex(/^(sqlite|rediss?|postgres(ql)?):\/\/.+/, 'must be a sqlite://, redis:// or postgres:// URL such as sqlite://data/bot.sqlite')
    .default('sqlite://data/bot.sqlite'),
  SHARDS: z.union([z.literal('auto'), z.coerce.number().int("must be 'auto' or a whole number").min(1, "must be 'auto' or at least 1").max(10_000, 'must be at most 10,000')], { error: "must be 'auto' or a number of shards" }).optional(),
  SHARD_IDS: z.string().regex(/^\d+(-\d+)?(,\d+(-\d+)?)*$/, 'must be shard ids such as 0,1,2 or 0-3').optional(),
  SHARD_COUNT: z.coerce.number({ error: 'must be a number of shards' }).int('must be a whole number').min(1, 'must be at least 1').max(10_000).optional(),
  HEALTH_PORT: z.coerce.number({ error: 'must be a port number' }).int('must be a port number').min(1, 'must be 1-65535').max(65_535, 'must be 1-65535').optional(),
  HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
  SHUTDOWN_GRACE_SECONDS: z.coerce.number({ error: 'must be a number of seconds' }).int('must be a whole number of seconds').min(0, 'must be 0 or more').max(600, 'must be at most 600').default(20),
  SYSTEM_PROMPT: z.string().max(8000, 'must be at most 8000 characters').default(DEFAULT_SYSTEM_PROMPT),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DEV_GUILD_ID: snowflake.optional(),
  TOKEN_TYPE: z.enum(['auto', 'spark', 'sogni'], { error: 'must be auto, spark or sogni' }).default('auto'),
  MEDIA_TIMEOUT_SECONDS: z.coerce
    .number({ error: 'must be a number of seconds' })
    .int('must be a whole number of seconds')
    .min(10, 'must be at least 10')
    .max(900, 'must be at most 900')
    .default(300),
  MEDIA_MODE: z.enum(['runs', 'completions'], { error: 'must be runs or completions' }).default('runs'),
  MAX_VIDEO_SECONDS: z.coerce.number({ error: 'must be a number of seconds' }).int('must be a whole number of seconds').min(1, 'must be at least 1').max(120, 'must be at most 120').default(10),
  MEDIA_IN_CHAT: flag.default(true),
  CHAT_MEDIA_AUTO_SPARK: spark(10),
  THREADS: z.enum(['on', 'off'], { error: 'must be on or off' }).default('off'),
  ALLOW_DMS: flag.default(false),
  DEFAULT_DAILY_SPARK: spark(1000),
  DEFAULT_MONTHLY_SPARK: spark(10_000),
  DEFAULT_USER_DAILY_SPARK: z
    .union([z.literal('none'), z.coerce.number({ error: "must be a number of Spark or 'none'" }).min(0, 'must be 0 or more').max(10_000_000)])
    .default(250),
  REASONING: z.enum(['hide', 'attach'], { error: 'must be hide or attach' }).default('hide'),
  PRICE_CHAT_INPUT_PER_M: price(20),
  PRICE_CHAT_OUTPUT_PER_M: price(60),
  PRICE_IMAGE: price(4),
  PRICE_VIDEO_PER_SECOND: price(10),
  PRICE_AUDIO_PER_SECOND: price(1),
  MAX_ATTACHMENT_MB: z.coerce
    .number({ error: 'must be a number of megabytes' })
    .positive('must be more than 0')
    .max(500, 'must be at most 500')
    .default(25),
  MAX_IMAGES: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(0, 'must be 0 or more').max(20, 'must be at most 20 (Sogni’s limit per request)').default(4),
  MAX_ANSWER_MESSAGES: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(20, 'must be at most 20').default(6),
  MAX_HISTORY_IMAGES: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(0, 'must be 0 or more').max(16, 'must be at most 16').default(4),
  DOWNLOAD_CONCURRENCY: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(32, 'must be at most 32').default(4),
  DOWNLOAD_BUFFER_MB: z.coerce.number({ error: 'must be a number of megabytes' }).positive('must be more than 0').max(8000, 'must be at most 8000').optional(),
  DISCORD_API_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
});

export type Config = Readonly<z.infer<typeof schema>>;

/** Every problem with the environment, reported together. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Parses and validates the environment once. Empty strings count as unset, so a
 * `.env` copied from `.env.example` with blanks falls back to the defaults.
 */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const present = Object.fromEntries(
    Object.keys(schema.shape)
      .map((key) => [key, env[key]?.trim()] as const)
      .filter(([, value]) => value !== undefined && value !== ''),
  );
  const result = schema.safeParse(present);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.') || '(env)'} ${issue.message}`));
  }
  return Object.freeze(result.data);
}
