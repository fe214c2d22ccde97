import { MessageFlags, type Interaction, type RepliableInteraction } from 'discord.js';
import type { Deps } from '../deps.js';
import { UNEXPECTED_LINE, UserError } from '../userError.js';
import type { Registry } from './command.js';
import { SAFE_MENTIONS } from './safeMentions.js';
import { RESTARTING_LINE } from '../ops/lifecycle.js';

/**
 * The one place interactions are dispatched and errors caught: a UserError is shown as
 * written; anything else is logged with context and shown as one generic line.
 */
export function createInteractionHandler(deps: Deps, registry: Registry) {
  return async (interaction: Interaction): Promise<void> => {
    if (interaction.isAutocomplete()) {
      const command = registry.commands.get(interaction.commandName);
      try {
        await command?.autocomplete?.(interaction, deps);
      } catch (err) {
        deps.logger.warn({ err, command: interaction.commandName }, 'autocomplete failed');
      }
      return;
    }
    if (interaction.isButton()) {
      const button = registry.buttons.find((b) => interaction.customId.startsWith(b.prefix));
      if (!button) return;
      await guarded(interaction, deps, { button: button.prefix }, () => button.execute(interaction, deps));
      return;
    }
    if (interaction.isModalSubmit()) {
      const modal = registry.modals.find((m) => interaction.customId.startsWith(m.prefix));
      if (!modal) return;
      await guarded(interaction, deps, { modal: modal.prefix }, () => modal.execute(interaction, deps));
      return;
    }
    if (!interaction.isChatInputCommand()) return;
    const command = registry.commands.get(interaction.commandName);
    if (!command) {
      deps.logger.warn({ command: interaction.commandName, guildId: interaction.guildId }, 'unknown command');
      await tell(interaction, '⚠️ I don’t know that command any more. It may have been removed.').catch(() => {});
      return;
    }
    await guarded(interaction, deps, { command: interaction.commandName }, () => command.execute(interaction, deps));
  };
}

/** Runs a handler; a UserError is shown as written, anything else is logged and shown as one generic line. */
async function guarded(interaction: RepliableInteraction, deps: Deps, context: Record<string, string | undefined>, run: () => Promise<void>) {
  const logger = deps.logger.child({ ...context, guildId: interaction.guildId, channelId: interaction.channelId, userId: interaction.user.id, requestId: interaction.id });
  // Shutting down: say so rather than start work the grace period may not cover.
  if (deps.lifecycle.draining) return void (await tell(interaction, RESTARTING_LINE).catch(() => {}));
  try {
    await run();
  } catch (err) {
    if (err instanceof UserError) {
      logger.info({ reason: err.message }, 'request refused');
      await tell(interaction, err.message).catch((e: unknown) => logger.warn({ err: e }, 'could not tell the user'));
      return;
    }
    if ((err as { code?: unknown }).code === 'CommandInteractionOptionType') {
      // A forged or stale client sent an option of the wrong type.
      logger.warn({ err }, 'option of the wrong type');
      await tell(interaction, '⚠️ One of the options had the wrong type. Run the command again from the menu.').catch(() => {});
      return;
    }
    logger.error({ err }, 'handler failed');
    await tell(interaction, UNEXPECTED_LINE).catch((e: unknown) => logger.warn({ err: e }, 'could not tell the user'));
  }
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
