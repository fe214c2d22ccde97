import {
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  MessageFlags,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import { describeUsage } from '../src/core/usage.js';
import type { Command } from '../src/discord/command.js';
import { memberRoleIds } from '../src/discord/access.js';
import { SAFE_MENTIONS } from '../src/discord/safeMentions.js';
import { spendScope } from '../src/discord/scope.js';

export const data = {
  name: 'usage',
  description: 'What you have spent on Sogni here, and what is left of your allowance',
  type: ApplicationCommandType.ChatInput,
  contexts: [InteractionContextType.Guild, InteractionContextType.BotDM],
  integration_types: [ApplicationIntegrationType.GuildInstall],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

/**
 * Every member sees their own spend, allowance and last paid requests, and the server's
 * headroom, before they ask: only to them, and nothing about anyone else.
 */
export const usage: Command = {
  data,
  async execute(interaction, deps) {
    const { scope, dm } = spendScope(interaction.guildId, interaction.user.id, deps);
    const userId = interaction.user.id;
    const [{ limits }, state, allowance, recent] = await Promise.all([
      deps.ledger.limits(scope),
      deps.ledger.state(scope),
      deps.ledger.allowance(scope, dm ? [] : memberRoleIds(interaction.member)),
      deps.ledger.userRecent(scope, userId),
    ]);
    const content = describeUsage({ dm, userId, state, limits, allowance, recent }, Date.now());
    await interaction.reply({ content, flags: MessageFlags.Ephemeral, allowedMentions: SAFE_MENTIONS });
  },
};
