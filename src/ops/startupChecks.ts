import type { Client } from 'discord.js';
import type { Logger } from '../logger.js';
import { MESSAGE_CONTENT_FIX, MESSAGE_CONTENT_PROBLEM, messageContentEnabled, missingPermissions, permissionsFix } from './checks.js';

/**
 * Once connected: the same intent and permission problems `npm run doctor` reports, as
 * warnings with their fix (the bot still answers where it can). Never throws.
 */
export async function warnAboutSetup(client: Client<true>, logger: Logger): Promise<void> {
  try {
    const application = await client.application.fetch();
    if (!messageContentEnabled(application.flags.bitfield)) logger.warn({ fix: MESSAGE_CONTENT_FIX }, MESSAGE_CONTENT_PROBLEM);
  } catch (err) {
    logger.warn({ err }, 'could not read the application to check its intents');
  }
  for (const guild of client.guilds.cache.values()) {
    const me = guild.members.me;
    if (!me) continue;
    const missing = missingPermissions(me.permissions.bitfield);
    if (missing.length > 0) {
      logger.warn({ guildId: guild.id, missing, fix: permissionsFix(client.application.id) }, `missing permissions in a server: ${missing.join(', ')}`);
    }
  }
}
