import { createBot } from './bot.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createAppLogger } from './logger.js';
import { loadDotEnv } from './dotenv.js';
import { StoreLockedError } from './store/fileLock.js';

loadDotEnv();
let config: Config;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`${err.message}\nSee .env.example for every variable.`);
  process.exit(1);
}

const logger = createAppLogger(config, { pretty: process.stdout.isTTY });
process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
process.on('uncaughtException', (err) => {
  // State may be broken past this point: log and exit so a supervisor restarts a clean process.
  logger.fatal({ err }, 'uncaught exception');
  process.exit(1);
});

let bot: ReturnType<typeof createBot>;
try {
  bot = createBot(config, logger);
} catch (err) {
  if (!(err instanceof StoreLockedError)) throw err;
  // One writer per SQLite file: say which file and why, then stop before connecting anywhere.
  logger.fatal({ store: err.path, pid: err.pid }, err.message);
  console.error(err.message);
  process.exit(1);
}
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
