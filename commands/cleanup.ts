import { DiscordAPIError, MessageFlags, PermissionFlagsBits, RESTJSONErrorCodes, type ButtonInteraction } from 'discord.js';
import type { Deps } from '../src/deps.js';
import type { Button } from '../src/discord/command.js';
import { DELETE_ANSWER_PREFIX, DELETE_MEDIA_PREFIX } from '../src/discord/cleanup.js';
import { actorOf, ensureOwner } from '../src/discord/ownership.js';
import type { Logger } from '../src/logger.js';

/**
 * 🗑️ under chat answers and media results: the requester, or a member with Manage Messages
 * (who could delete them by hand anyway), removes the bot's messages for it. Nothing is
 * refunded: the work was done and paid for, and /usage still counts it.
 */

const TOO_OLD = 'I no longer know whose this is, so only a member with Manage Messages can delete it.';
const STILL_SAVING = '⏳ This answer is still being saved. Try again in a moment.';
/**
 * The 🗑️ is on the last message before its record is written (the record lists every message
 * id, the last one included); a press in between is too early, not too late.
 */
const SAVING_WINDOW_MS = 30_000;
const SOME_LEFT = '⚠️ I could not delete every message of it; a moderator can remove the rest.';

function isGone(err: unknown): boolean {
  return err instanceof DiscordAPIError && (err.code === RESTJSONErrorCodes.UnknownMessage || err.code === RESTJSONErrorCodes.UnknownChannel);
}

/**
 * Deletes the message the button is on, through the press's own interaction (works for private
 * messages too, and without access to the channel); else as the bot's own channel message.
 */
async function deleteButtonMessage(interaction: ButtonInteraction, logger: Logger): Promise<boolean> {
  try {
    await interaction.deleteReply();
    return true;
  } catch (err) {
    if (isGone(err)) return true;
    logger.warn({ err }, 'could not delete the message with the 🗑️ through the interaction');
  }
  if (interaction.message.flags.has(MessageFlags.Ephemeral)) return false;
  try {
    await interaction.message.delete();
    return true;
  } catch (err) {
    if (isGone(err)) return true;
    logger.warn({ err }, 'could not delete the message with the 🗑️');
    return false;
  }
}

/** Deletes the bot's own channel messages by id; returns how many could not be deleted. */
async function deleteChannelMessages(interaction: ButtonInteraction, channelId: string, ids: readonly string[], logger: Logger): Promise<number> {
  if (ids.length === 0) return 0;
  const channel = await interaction.client.channels.fetch(channelId).catch(() => null);
  if (!channel || !('messages' in channel)) return ids.length;
  let failed = 0;
  for (const id of ids) {
    try {
      await channel.messages.delete(id);
    } catch (err) {
      if (isGone(err)) continue;
      failed += 1;
      logger.warn({ err, messageId: id }, 'could not delete a message of the answer');
    }
  }
  return failed;
}

async function pressDeleteAnswer(interaction: ButtonInteraction, deps: Deps): Promise<void> {
  const id = interaction.customId.slice(DELETE_ANSWER_PREFIX.length);
  const logger = deps.logger.child({ button: 'delete-answer', answerId: id, guildId: interaction.guildId, userId: interaction.user.id });
  const record = await deps.answers.get(id);
  if (!record && !actorOf(interaction, PermissionFlagsBits.ManageMessages).manager) {
    const young = Date.now() - interaction.message.createdTimestamp < SAVING_WINDOW_MS;
    await interaction.reply({ content: young ? STILL_SAVING : TOO_OLD, flags: MessageFlags.Ephemeral });
    return;
  }
  if (record && !(await ensureOwner(interaction, record, { verb: 'delete', managersToo: true, permission: PermissionFlagsBits.ManageMessages, logger }))) return;
  await interaction.deferUpdate();
  const others = (record?.messageIds ?? []).filter((m) => m !== interaction.message.id);
  const failed = await deleteChannelMessages(interaction, record?.channelId ?? interaction.channelId, others, logger);
  const own = await deleteButtonMessage(interaction, logger);
  if (record) await deps.answers.forget(id).catch((err: unknown) => logger.warn({ err }, 'could not forget the answer record'));
  logger.info({ messages: others.length + 1, failed: failed + (own ? 0 : 1), byOwner: record?.userId === interaction.user.id }, 'answer deleted with 🗑️');
  if (failed > 0 || !own) await interaction.followUp({ content: SOME_LEFT, flags: MessageFlags.Ephemeral });
}

async function pressDeleteMedia(interaction: ButtonInteraction, deps: Deps): Promise<void> {
  const jobId = interaction.customId.slice(DELETE_MEDIA_PREFIX.length);
  const logger = deps.logger.child({ button: 'delete-media', jobId, guildId: interaction.guildId, userId: interaction.user.id });
  const job = await deps.media.job(jobId);
  if (!job && !actorOf(interaction, PermissionFlagsBits.ManageMessages).manager) {
    await interaction.reply({ content: TOO_OLD, flags: MessageFlags.Ephemeral });
    return;
  }
  if (job && !(await ensureOwner(interaction, job, { verb: 'delete', managersToo: true, permission: PermissionFlagsBits.ManageMessages, logger }))) return;
  await interaction.deferUpdate();
  const deleted = await deleteButtonMessage(interaction, logger);
  logger.info({ deleted, byOwner: job?.userId === interaction.user.id }, 'media result deleted with 🗑️');
  if (!deleted) await interaction.followUp({ content: SOME_LEFT, flags: MessageFlags.Ephemeral });
}

export const cleanupButtons: readonly Button[] = [
  { prefix: DELETE_ANSWER_PREFIX, execute: pressDeleteAnswer },
  { prefix: DELETE_MEDIA_PREFIX, execute: pressDeleteMedia },
];
