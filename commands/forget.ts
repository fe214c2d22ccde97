import {
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  MessageFlags,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import type { Command } from '../src/discord/command.js';
import { UserError } from '../src/userError.js';

export const data = {
  name: 'forget',
  description: "Clear this channel's conversation history with the bot",
  type: ApplicationCommandType.ChatInput,
  contexts: [InteractionContextType.Guild, InteractionContextType.BotDM],
  integration_types: [ApplicationIntegrationType.GuildInstall],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

export const forget: Command = {
  data,
  async execute(interaction, deps) {
    if (!interaction.channelId || (!interaction.inGuild() && !deps.config.ALLOW_DMS)) throw new UserError('/forget works in servers only.');
    await deps.history.clear(interaction.channelId);
    deps.logger.info({ guildId: interaction.guildId, channelId: interaction.channelId, userId: interaction.user.id }, 'history cleared');
    await interaction.reply({
      content: 'Done: I forgot this channel’s conversation. The next message starts fresh.',
      flags: MessageFlags.Ephemeral,
    });
  },
};
