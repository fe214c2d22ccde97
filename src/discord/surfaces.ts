import { DiscordAPIError, MessageFlags, RESTJSONErrorCodes, type ChatInputCommandInteraction, type Message } from 'discord.js';
import type { ChatSurface } from '../chat/chatService.js';
import { sendMediaMessage, type RenderOptions } from './mediaMessage.js';
import { SAFE_MENTIONS } from './safeMentions.js';

/** An answer to a mention: a reply to the user's message, continued in replies to itself. */
export function messageReplySurface(trigger: Message, media: RenderOptions = {}): ChatSurface<Message> {
  return {
    post(content, index, previous) {
      if (index === 0) return trigger.reply({ content, allowedMentions: SAFE_MENTIONS, failIfNotExists: false });
      if (!trigger.channel.isSendable()) throw new Error('channel is not sendable');
      return trigger.channel.send({
        content,
        allowedMentions: SAFE_MENTIONS,
        ...(previous ? { reply: { messageReference: previous.id, failIfNotExists: false } } : {}),
      });
    },
    async edit(message, content) {
      await message.edit({ content, allowedMentions: SAFE_MENTIONS });
    },
    async typing() {
      if ('sendTyping' in trigger.channel) await trigger.channel.sendTyping();
    },
    async postMedia(post) {
      await sendMediaMessage(post, media, (payload) => trigger.reply({ ...payload, failIfNotExists: false }));
    },
  };
}

/**
 * Discord answers this once an interaction token is past its 15 minutes. Interaction
 * webhooks cannot be used after that, but a public answer can go on as channel messages.
 */
function isExpiredToken(err: unknown): boolean {
  return err instanceof DiscordAPIError && (err.code === RESTJSONErrorCodes.InvalidWebhookToken || err.code === RESTJSONErrorCodes.UnknownWebhook);
}

/**
 * An answer to a deferred slash command: the deferred reply, then follow-ups (ephemeral when
 * asked). A public answer that outlives the interaction token continues as channel messages.
 */
export function interactionSurface(interaction: ChatInputCommandInteraction, ephemeral: boolean, media: RenderOptions = {}): ChatSurface<Message> {
  /** Interaction messages whose answer continues in a channel message, and those channel messages. */
  const continued = new Map<string, Message>();
  let expired = false;
  const inChannel = async (content: string): Promise<Message> => {
    const channel = interaction.channel ?? (await interaction.client.channels.fetch(interaction.channelId));
    if (!channel?.isSendable()) throw new Error('the interaction expired and its channel cannot be written to');
    return channel.send({ content, allowedMentions: SAFE_MENTIONS });
  };
  /** Runs a webhook operation; once the token has expired, a public answer moves to the channel. */
  const viaWebhook = async <T>(op: () => Promise<T>, fallback: () => Promise<T>): Promise<T> => {
    if (!expired) {
      try {
        return await op();
      } catch (err) {
        if (ephemeral || !isExpiredToken(err)) throw err;
        expired = true;
      }
    }
    return fallback();
  };
  return {
    post(content, index) {
      return viaWebhook(
        () =>
          index === 0
            ? interaction.editReply({ content, allowedMentions: SAFE_MENTIONS })
            : interaction.followUp({ content, allowedMentions: SAFE_MENTIONS, ...(ephemeral ? { flags: MessageFlags.Ephemeral } : {}) }),
        () => inChannel(content),
      );
    },
    async edit(message, content, index) {
      const moved = continued.get(message.id);
      if (moved) {
        await moved.edit({ content, allowedMentions: SAFE_MENTIONS });
        return;
      }
      await viaWebhook(
        () => interaction.editReply({ content, allowedMentions: SAFE_MENTIONS, ...(index === 0 ? {} : { message }) }),
        async () => {
          continued.set(message.id, await inChannel(content));
          return message;
        },
      );
    },
    async postMedia(post) {
      await sendMediaMessage(post, media, (payload) => interaction.followUp({ ...payload, ...(ephemeral ? { flags: MessageFlags.Ephemeral } : {}) }));
    },
  };
}
