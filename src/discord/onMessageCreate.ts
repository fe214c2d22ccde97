import type { Message } from 'discord.js';
import type { Deps } from '../deps.js';
import { attachmentsFor, displayName, hasVisibleText, isAddressedToBot, promptFromMessage, promptTooLong } from './prompt.js';
import { SAFE_MENTIONS } from './safeMentions.js';
import { messageReplySurface } from './surfaces.js';
import { sogniHost } from './mediaMessage.js';

const EMPTY_MENTION_HINT = 'Hi! Mention me with a question, for example: “@me what is a good name for a cat?”, or use `/ask`.';

/** Answers messages that mention the bot or reply to it, in guild text channels and threads. */
export function createMessageHandler(deps: Deps) {
  return async (message: Message): Promise<void> => {
    const botId = message.client.user.id;
    if (message.author.bot || message.webhookId || message.system) return;
    // In DMs every message is for the bot; in servers only mentions and replies to it.
    if (!message.inGuild() && !deps.config.ALLOW_DMS) return;
    if (message.inGuild() && !isAddressedToBot(message, botId)) return;

    const logger = deps.logger.child({
      guildId: message.guildId,
      channelId: message.channelId,
      userId: message.author.id,
      messageId: message.id,
    });
    try {
      const raw = promptFromMessage(message, botId);
      const text = hasVisibleText(raw) ? raw : '';
      const attachments = await attachmentsFor(message);
      const refusal = text ? promptTooLong(text) : attachments.length === 0 ? EMPTY_MENTION_HINT : null;
      if (refusal) {
        logger.info({ chars: text.length }, 'mention refused before asking Sogni');
        await message.reply({ content: refusal, allowedMentions: SAFE_MENTIONS, failIfNotExists: false });
        return;
      }
      await deps.chat.answer({
        channelId: message.channelId,
        guildId: message.guildId ?? null,
        userId: message.author.id,
        userName: displayName(message.member, message.author),
        text,
        attachments,
        model: deps.config.SOGNI_MODEL,
        surface: messageReplySurface(message, { trustedHost: sogniHost(deps) }),
        logger,
      });
    } catch (err) {
      logger.error({ err }, 'mention handler failed');
    }
  };
}
