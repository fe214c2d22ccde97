import {
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  MessageFlags,
  PermissionFlagsBits,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import { privateHistoryKey } from '../src/chat/chatService.js';
import type { Command } from '../src/discord/command.js';
import { UserError } from '../src/userError.js';

export const data = {
  name: 'forget',
  description: "Clear this channel's conversation with the bot (your private one too)",
  type: ApplicationCommandType.ChatInput,
  contexts: [InteractionContextType.Guild, InteractionContextType.BotDM],
  integration_types: [ApplicationIntegrationType.GuildInstall],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

/** Answers still streaming when /forget arrives are waited for this long before clearing anyway. */
const WAIT_FOR_ANSWERS_MS = 60_000;

export const forget: Command = {
  data,
  async execute(interaction, deps) {
    if (!interaction.channelId || (!interaction.inGuild() && !deps.config.ALLOW_DMS)) throw new UserError('/forget works in servers only.');
    const channelId = interaction.channelId;
    // The shared conversation is everyone's: in a server only those who may manage messages clear it.
    const mayClearChannel = !interaction.inGuild() || (interaction.memberPermissions?.has(PermissionFlagsBits.ManageMessages) ?? false);
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    // An answer in progress would save its turns after the clear: let it finish first.
    const idle = await deps.chat.idle(channelId, WAIT_FOR_ANSWERS_MS);
    await deps.history.clear(privateHistoryKey(channelId, interaction.user.id));
    if (mayClearChannel) await deps.history.clear(channelId);
    deps.logger.info(
      { guildId: interaction.guildId, channelId, userId: interaction.user.id, channel: mayClearChannel, waited: !idle ? 'timed out' : 'ok' },
      'history cleared',
    );
    await interaction.editReply({
      content: mayClearChannel
        ? 'Done: I forgot this channel’s conversation and your private one here. The next message starts fresh.'
        : 'Done: I forgot your private conversation here. Clearing the channel’s shared conversation needs the Manage Messages permission.',
    });
  },
};
