import { MessageFlags, PermissionFlagsBits, type ButtonInteraction } from 'discord.js';
import { decideOwnership, type Actor, type Owned } from '../core/ownership.js';
import type { Logger } from '../logger.js';
import { SAFE_MENTIONS } from './safeMentions.js';

/** Who pressed a button, and where: the spend scope it came from and whether they hold `permission` there (Manage Server by default). */
export function actorOf(interaction: ButtonInteraction, permission: bigint = PermissionFlagsBits.ManageGuild): Actor {
  const scope = interaction.guildId ?? `dm:${interaction.user.id}`;
  // In a server Discord always sends the member's permissions (inGuild() narrows them to non-null).
  const manager = interaction.inGuild() && interaction.memberPermissions.has(permission);
  return { userId: interaction.user.id, scope, manager };
}

/** How a refusal names those who may act for the owner. */
function managersWord(permission: bigint): string {
  return permission === PermissionFlagsBits.ManageMessages ? 'a member with Manage Messages' : 'a server manager';
}

/**
 * Answers a press by anyone but the owner (or, with `managersToo`, a member holding
 * `permission`: Manage Server unless said otherwise) with one private line and returns false;
 * nothing runs for them. `verb` completes "can … this".
 */
export async function ensureOwner(
  interaction: ButtonInteraction,
  owned: Owned,
  options: { verb: string; managersToo: boolean; logger: Logger; permission?: bigint },
): Promise<boolean> {
  const permission = options.permission ?? PermissionFlagsBits.ManageGuild;
  const decision = decideOwnership(owned, actorOf(interaction, permission), { managersToo: options.managersToo });
  if (decision === 'allowed') return true;
  options.logger.info({ decision, ownerId: owned.userId, ownerScope: owned.scope }, 'button press refused');
  const content =
    decision === 'other-scope'
      ? 'That button belongs to something made somewhere else, so it does nothing here.'
      : options.managersToo
        ? `Only <@${owned.userId}> or ${managersWord(permission)} can ${options.verb} this.`
        : `Only <@${owned.userId}> can ${options.verb} this.`;
  await interaction.reply({ content, allowedMentions: SAFE_MENTIONS, flags: MessageFlags.Ephemeral });
  return false;
}
