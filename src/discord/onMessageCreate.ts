import { ChannelType, DiscordAPIError, RESTJSONErrorCodes, type Message, type ThreadChannel } from 'discord.js';
import { decideAccess, threadName } from '../core/settings.js';
import type { Deps } from '../deps.js';
import type { Logger } from '../logger.js';
import { memberRoleIds, parentOf } from './access.js';
import { attachmentsFor, displayName, hasVisibleText, isAddressedToBot, promptFromMessage, promptTooLong } from './prompt.js';
import { SAFE_MENTIONS } from './safeMentions.js';
import { RESTARTING_LINE } from '../ops/lifecycle.js';
import { messageReplySurface } from './surfaces.js';

const EMPTY_MENTION_HINT = 'Hi! Mention me with a question, for example: “@me what is a good name for a cat?”, or use `/ask`.';

/** Threads the bot opens are archived after a day without messages (Discord's 1440-minute option). */
const THREAD_ARCHIVE_MINUTES = 1440;

/**
 * Answers messages that mention the bot or reply to it, and every member's message in a
 * thread the bot started. Where the bot is disabled, or for members without an allowed role,
 * it stays silent, as admins expect.
 */
export function createMessageHandler(deps: Deps) {
  /** Guilds where opening a thread was refused for lack of permission: logged once each. */
  const noThreadPermission = new Set<string>();
  return async (message: Message): Promise<void> => {
    const botId = message.client.user.id;
    if (message.author.bot || message.webhookId || message.system) return;
    // In DMs every message is for the bot; in servers only mentions and replies to it, and messages in its own threads.
    if (!message.inGuild() && !deps.config.ALLOW_DMS) return;
    const inOwnThread = message.channel.isThread() && message.channel.ownerId === botId;
    // @everyone, @here or a role the bot happens to hold is not a question for it (other bots burned tokens on those).
    const pingsOthers = message.mentions.everyone || message.mentions.roles.size > 0;
    if (message.inGuild() && !isAddressedToBot(message, botId) && !(inOwnThread && !pingsOthers)) return;

    const logger = deps.logger.child({
      guildId: message.guildId,
      channelId: message.channelId,
      userId: message.author.id,
      messageId: message.id,
      requestId: message.id,
    });
    try {
      const settings = await deps.settings.effective(message.guildId, message.channelId, parentOf(message.channel));
      if (message.inGuild()) {
        const decision = decideAccess(settings, memberRoleIds(message.member));
        if (decision !== 'allowed') {
          logger.debug({ decision }, 'not answering here');
          return;
        }
      }
      // Shutting down: say so rather than start an answer the grace period may not cover.
      if (deps.lifecycle.draining) return void (await message.reply({ content: RESTARTING_LINE, allowedMentions: SAFE_MENTIONS, failIfNotExists: false }));
      const raw = promptFromMessage(message, botId);
      const text = hasVisibleText(raw) ? raw : '';
      const attachments = await attachmentsFor(message);
      const refusal = text ? promptTooLong(text) : attachments.length === 0 ? EMPTY_MENTION_HINT : null;
      if (refusal) {
        logger.info({ chars: text.length }, 'mention refused before asking Sogni');
        await message.reply({ content: refusal, allowedMentions: SAFE_MENTIONS, failIfNotExists: false });
        return;
      }
      if (message.channel.isThread() && message.channel.archived) {
        // Someone wrote in an archived thread: bring it back so the answer can be posted.
        await message.channel.setArchived(false).catch((err: unknown) => logger.warn({ err }, 'could not unarchive the thread'));
      }
      const thread = settings.threads ? await openThread(message, text, logger, noThreadPermission) : undefined;
      await deps.chat.answer({
        // A thread's conversation is its own: its id keys its history.
        channelId: thread?.id ?? message.channelId,
        guildId: message.guildId ?? null,
        userId: message.author.id,
        roleIds: memberRoleIds(message.member),
        userName: displayName(message.member, message.author),
        text,
        attachments,
        model: settings.model,
        systemPrompt: settings.persona,
        offerMedia: settings.media,
        surface: messageReplySurface(message, { net: deps.net }, thread, deps.answers),
        logger,
      });
    } catch (err) {
      logger.error({ err }, 'mention handler failed');
    }
  };
}

/**
 * Opens a public thread on a mention in a text channel, named from the question. Undefined
 * where threads do not apply (already in a thread, DMs, forums) or the bot may not create
 * them: then the answer is a reply in the channel, as with threads off.
 */
async function openThread(message: Message, text: string, logger: Logger, noPermission: Set<string>): Promise<ThreadChannel | undefined> {
  if (!message.inGuild() || message.channel.type !== ChannelType.GuildText) return undefined;
  try {
    return await message.startThread({ name: threadName(text), autoArchiveDuration: THREAD_ARCHIVE_MINUTES });
  } catch (err) {
    const missing = err instanceof DiscordAPIError && err.code === RESTJSONErrorCodes.MissingPermissions;
    if (!missing || !noPermission.has(message.guildId)) {
      logger.warn({ err }, missing ? 'no Create Public Threads permission here; answering in the channel' : 'could not open a thread; answering in the channel');
    }
    if (missing) noPermission.add(message.guildId);
    return undefined;
  }
}
