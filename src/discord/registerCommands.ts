import { createHash } from 'node:crypto';
import { Routes, type REST, type RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord.js';
import type Keyv from 'keyv';
import type { Logger } from '../logger.js';

export interface RegisterOptions {
  rest: REST;
  applicationId: string;
  /** Register on this guild only (instant, for development) instead of globally. */
  guildId?: string | undefined;
  definitions: readonly RESTPostAPIChatInputApplicationCommandsJSONBody[];
  /** Where the hash of the last registration is kept (absent: not recorded, so the bot's next start registers again). */
  meta?: Keyv<string>;
  logger: Logger;
  /** Register even if nothing changed (the deploy script). */
  force?: boolean;
}

/**
 * Registers the slash commands, skipping the call when the same definitions were already
 * registered for the same scope: Discord rate-limits command updates (200 a day per guild).
 */
export async function registerCommands(options: RegisterOptions): Promise<'registered' | 'unchanged'> {
  const { rest, applicationId, guildId, definitions, meta, logger } = options;
  const scope = guildId ? `guild:${guildId}` : 'global';
  const key = `commands:${applicationId}:${scope}`;
  const hash = createHash('sha256').update(JSON.stringify(definitions)).digest('hex');
  if (!options.force && meta && (await meta.get(key)) === hash) {
    logger.info({ scope, commands: definitions.length }, 'slash commands unchanged; not registering');
    return 'unchanged';
  }
  const route = guildId ? Routes.applicationGuildCommands(applicationId, guildId) : Routes.applicationCommands(applicationId);
  await rest.put(route, { body: definitions });
  await meta?.set(key, hash);
  logger.info({ scope, commands: definitions.length }, 'slash commands registered');
  return 'registered';
}
