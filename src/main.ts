import { createBot } from './bot.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger } from './logger.js';
import { loadDotEnv } from './dotenv.js';

loadDotEnv();
let config: Config;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`${err.message}\nSee .env.example for every variable.`);
  process.exit(1);
}

const logger = createLogger({
  level: config.LOG_LEVEL,
  pretty: process.stdout.isTTY,
  secrets: [config.DISCORD_TOKEN, config.SOGNI_API_KEY],
});
process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
process.on('uncaughtException', (err) => {
  // State may be broken past this point: log and exit so a supervisor restarts a clean process.
  logger.fatal({ err }, 'uncaught exception');
  process.exit(1);
});

const bot = createBot(config, logger);
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    bot.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}

try {
  await bot.start();
} catch (err) {
  logger.fatal({ err }, 'could not start the bot');
  await bot.stop().catch(() => {});
  process.exit(1);
}
