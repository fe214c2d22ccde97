import { REST, Routes, type APIApplication } from 'discord.js';
import { definitionsFor } from '../commands/index.js';
import { ConfigError, loadConfig } from './config.js';
import { registerCommands } from './discord/registerCommands.js';
import { loadDotEnv } from './dotenv.js';
import { createAppLogger } from './logger.js';
import { StoreLockedError } from './store/fileLock.js';
import { openStore } from './store/openStore.js';

/** `npm run deploy-commands`: registers the slash commands now (the bot also does it at start when they change). */
loadDotEnv();
try {
  const config = loadConfig(process.env);
  const logger = createAppLogger(config, { pretty: process.stdout.isTTY });
  const rest = new REST(config.DISCORD_API_URL ? { api: config.DISCORD_API_URL } : {}).setToken(config.DISCORD_TOKEN);
  const application = (await rest.get(Routes.currentApplication())) as APIApplication;
  // A running bot holds a SQLite store for itself: register anyway, and leave the hash for its next start to record.
  let store: ReturnType<typeof openStore> | undefined;
  try {
    store = openStore(config.STORE_URL);
  } catch (err) {
    if (!(err instanceof StoreLockedError)) throw err;
    logger.info({ store: err.path }, 'the bot is running on this store; registering without recording it (its next start registers once more)');
  }
  await registerCommands({
    rest,
    applicationId: application.id,
    guildId: config.DEV_GUILD_ID,
    definitions: definitionsFor(config),
    ...(store ? { meta: store.namespace<string>('meta') } : {}),
    logger,
    force: true,
  });
  await store?.close();
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : `Could not register commands: ${(err as Error).message}`);
  process.exit(1);
}
