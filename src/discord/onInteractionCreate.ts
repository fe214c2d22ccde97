import { MessageFlags, type Interaction, type RepliableInteraction } from 'discord.js';
import { commandsByName } from '../../commands/index.js';
import type { Deps } from '../deps.js';
import { UserError } from '../userError.js';
import { SAFE_MENTIONS } from './safeMentions.js';

const UNEXPECTED = '⚠️ Something went wrong on my side. Try again in a moment.';

/**
 * The one place interactions are dispatched and errors caught: a UserError is shown as
 * written; anything else is logged with context and shown as one generic line.
 */
export function createInteractionHandler(deps: Deps) {
  return async (interaction: Interaction): Promise<void> => {
    if (interaction.isAutocomplete()) {
      const command = commandsByName.get(interaction.commandName);
      try {
        await command?.autocomplete?.(interaction, deps);
      } catch (err) {
        deps.logger.warn({ err, command: interaction.commandName }, 'autocomplete failed');
      }
      return;
    }
    if (!interaction.isChatInputCommand()) return;
    const command = commandsByName.get(interaction.commandName);
    const logger = deps.logger.child({
      command: interaction.commandName,
      guildId: interaction.guildId,
      channelId: interaction.channelId,
      userId: interaction.user.id,
    });
    if (!command) {
      logger.warn('unknown command');
      await tell(interaction, '⚠️ I don’t know that command any more. It may have been removed.').catch(() => {});
      return;
    }
    try {
      await command.execute(interaction, deps);
    } catch (err) {
      if (err instanceof UserError) {
        logger.info({ reason: err.message }, 'command refused');
        await tell(interaction, err.message).catch((e: unknown) => logger.warn({ err: e }, 'could not tell the user'));
        return;
      }
      logger.error({ err }, 'command failed');
      await tell(interaction, UNEXPECTED).catch((e: unknown) => logger.warn({ err: e }, 'could not tell the user'));
    }
  };
}

/** Replies, edits the deferred reply, or follows up, whichever the interaction's state allows. */
async function tell(interaction: RepliableInteraction, content: string): Promise<void> {
  if (interaction.deferred && !interaction.replied) {
    await interaction.editReply({ content, allowedMentions: SAFE_MENTIONS });
  } else if (interaction.replied) {
    await interaction.followUp({ content, allowedMentions: SAFE_MENTIONS, flags: MessageFlags.Ephemeral });
  } else {
    await interaction.reply({ content, allowedMentions: SAFE_MENTIONS, flags: MessageFlags.Ephemeral });
  }
}
