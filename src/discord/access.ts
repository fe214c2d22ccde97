import { GuildMember, type APIInteractionGuildMember, type Channel, type Interaction } from 'discord.js';
import { decideAccess, type EffectiveSettings } from '../core/settings.js';
import type { Deps } from '../deps.js';
import { UserError } from '../userError.js';

/** The line a slash command or button gets where the bot is off, or the member lacks an allowed role. */
export const NOT_AVAILABLE = 'The bot is not available to you here. A server manager can change this with /settings.';

/** Role ids of a member, whether discord.js has cached them or the interaction carried them raw. */
export function memberRoleIds(member: GuildMember | APIInteractionGuildMember | null | undefined): string[] {
  if (!member) return [];
  return member instanceof GuildMember ? [...member.roles.cache.keys()] : member.roles;
}

/**
 * Role ids of whoever pays for a press: the presser's own, or, when a manager presses for
 * someone else, that member's (fetched; none if they left), so their role allowance applies.
 */
export async function ownerRoleIds(interaction: Interaction, ownerId: string): Promise<string[]> {
  if (!interaction.inGuild()) return [];
  if (interaction.user.id === ownerId) return memberRoleIds(interaction.member);
  const member = await interaction.guild?.members.fetch(ownerId).catch(() => null);
  return memberRoleIds(member);
}

/** The channel whose settings a thread inherits. */
export function parentOf(channel: Channel | null | undefined): string | null {
  return channel?.isThread() ? channel.parentId : null;
}

/** The settings in force where an interaction happened. */
export function settingsFor(interaction: Interaction, deps: Deps): Promise<EffectiveSettings> {
  return deps.settings.effective(interaction.guildId, interaction.channelId ?? '', parentOf(interaction.channel));
}

/**
 * Refuses (one private line) a slash command or button in a place where the bot is disabled
 * or for a member without an allowed role; nothing is sent to Sogni or charged. Returns the
 * settings in force otherwise.
 */
export async function ensureAvailable(interaction: Interaction, deps: Deps): Promise<EffectiveSettings> {
  const settings = await settingsFor(interaction, deps);
  if (!interaction.inGuild()) return settings;
  const decision = decideAccess(settings, memberRoleIds(interaction.member));
  if (decision !== 'allowed') {
    deps.logger.info({ guildId: interaction.guildId, channelId: interaction.channelId, userId: interaction.user.id, decision }, 'not available here');
    throw new UserError(NOT_AVAILABLE);
  }
  return settings;
}
