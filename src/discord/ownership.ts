import { MessageFlags, PermissionFlagsBits, type ButtonInteraction } from 'discord.js';
import { decideOwnership, type Actor, type Owned } from '../core/ownership.js';
import type { Logger } from '../logger.js';
import { SAFE_MENTIONS } from './safeMentions.js';

/** Who pressed a button, and where: the spend scope it came from and whether they manage that server. */
export function actorOf(interaction: ButtonInteraction): Actor {
  const scope = interaction.guildId ?? `dm:${interaction.user.id}`;
  const manager = interaction.inGuild() && (interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ?? false);
  return { userId: interaction.user.id, scope, manager };
}

/**
 * Answers a press by anyone but the owner (or, with `managersToo`, a server manager) with one
 * private line and returns false; nothing paid runs for them. `verb` completes "can … this".
 */
export async function ensureOwner(
  interaction: ButtonInteraction,
  owned: Owned,
  options: { verb: string; managersToo: boolean; logger: Logger },
): Promise<boolean> {
  const decision = decideOwnership(owned, actorOf(interaction), { managersToo: options.managersToo });
  if (decision === 'allowed') return true;
  options.logger.info({ decision, ownerId: owned.userId, ownerScope: owned.scope }, 'button press refused');
  const content =
    decision === 'other-scope'
      ? 'That button belongs to something made somewhere else, so it does nothing here.'
      : options.managersToo
        ? `Only <@${owned.userId}> or a server manager can ${options.verb} this.`
        : `Only <@${owned.userId}> can ${options.verb} this.`;
  await interaction.reply({ content, allowedMentions: SAFE_MENTIONS, flags: MessageFlags.Ephemeral });
  return false;
}
