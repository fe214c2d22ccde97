import { MessageFlags } from 'discord.js';
import type { Button } from '../src/discord/command.js';
import { MAKE_MEDIA_PREFIX } from '../src/discord/customIds.js';
import { memberRoleIds } from '../src/discord/access.js';
import { ensureAvailable } from '../src/discord/access.js';
import { ensureOwner } from '../src/discord/ownership.js';
import { runMediaJob } from '../src/discord/runMediaJob.js';


const GONE = 'That offer has expired or was already used (offers last 10 minutes). Ask again if you still want it.';

/**
 * Accepting an offer is the asker's consent to pay for it, so only the asker may press it
 * (a manager cannot consent for them). The offer's message becomes the job's status and result.
 */
export const makeMediaButton: Button = {
  prefix: MAKE_MEDIA_PREFIX,
  async execute(interaction, deps) {
    const offerId = interaction.customId.slice(MAKE_MEDIA_PREFIX.length);
    const logger = deps.logger.child({ button: 'make', offerId, guildId: interaction.guildId, userId: interaction.user.id });
    const offer = await deps.media.peekOffer(offerId);
    if (!offer) {
      await interaction.reply({ content: GONE, flags: MessageFlags.Ephemeral });
      return;
    }
    if (!(await ensureOwner(interaction, offer, { verb: 'make', managersToo: false, logger }))) return;
    await ensureAvailable(interaction, deps);
    const claimed = await deps.media.claimOffer(offerId);
    if (!claimed) {
      await interaction.reply({ content: GONE, flags: MessageFlags.Ephemeral });
      return;
    }
    await interaction.deferUpdate();
    await runMediaJob(interaction, deps, claimed.spec, {
      scope: claimed.scope,
      dm: claimed.scope.startsWith('dm:'),
      userId: claimed.userId,
      // Only the asker may accept, so the presser's roles are the asker's.
      roleIds: memberRoleIds(interaction.member),
      private: claimed.private,
      logger,
    });
  },
};
