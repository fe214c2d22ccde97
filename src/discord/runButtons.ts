import { ActionRowBuilder, ButtonBuilder, ButtonStyle } from 'discord.js';

/** The ⏹ Cancel button under a media run's status; the run's key follows. */
export const CANCEL_PREFIX = 'media:cancel:';

export function cancelRow(key: string): ActionRowBuilder<ButtonBuilder> {
  const button = new ButtonBuilder().setCustomId(`${CANCEL_PREFIX}${key}`).setLabel('Cancel').setEmoji('⏹').setStyle(ButtonStyle.Secondary);
  return new ActionRowBuilder<ButtonBuilder>().addComponents(button);
}
