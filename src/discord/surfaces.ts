import { ActionRowBuilder, AttachmentBuilder, ButtonBuilder, ButtonStyle, DiscordAPIError, MessageFlags, RESTJSONErrorCodes, type ChatInputCommandInteraction, type Message, type MessageCreateOptions, type ThreadChannel } from 'discord.js';
import type { ChatSurface, MediaOfferPost } from '../chat/chatService.js';
import type { FileAttachment } from '../core/streamRenderer.js';
import { MAKE_MEDIA_PREFIX } from './customIds.js';
import { sendMediaMessage, type RenderOptions } from './mediaMessage.js';
import { SAFE_MENTIONS } from './safeMentions.js';

/**
 * An answer to a mention: a reply to the user's message, continued in replies to itself. With
 * `thread` (a thread the bot opened on the message), the answer is posted in the thread instead.
 */
export function messageReplySurface(trigger: Message, media: RenderOptions = {}, thread?: ThreadChannel): ChatSurface<Message> {
  const channel = thread ?? trigger.channel;
  const first = (payload: MessageCreateOptions) => (thread ? thread.send(payload) : trigger.reply({ ...payload, failIfNotExists: false }));
  return {
    post(content, index, previous, attachment) {
      if (index === 0) return first({ content, allowedMentions: SAFE_MENTIONS, ...withFile(attachment) });
      if (!channel.isSendable()) throw new Error('channel is not sendable');
      return channel.send({
        content,
        allowedMentions: SAFE_MENTIONS,
        ...(previous ? { reply: { messageReference: previous.id, failIfNotExists: false } } : {}),
        ...withFile(attachment),
      });
    },
    async edit(message, content, _index, attachment) {
      await message.edit({ content, allowedMentions: SAFE_MENTIONS, ...withFile(attachment) });
    },
    async typing() {
      if ('sendTyping' in channel) await channel.sendTyping();
    },
    async postMedia(post) {
      await sendMediaMessage(post, media, (payload) => first(payload));
    },
    async postOffer(offer) {
      await first(offerMessage(offer));
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
  const inChannel = async (content: string, attachment?: FileAttachment): Promise<Message> => {
    const channel = interaction.channel ?? (await interaction.client.channels.fetch(interaction.channelId));
    if (!channel?.isSendable()) throw new Error('the interaction expired and its channel cannot be written to');
    return channel.send({ content, allowedMentions: SAFE_MENTIONS, ...withFile(attachment) });
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
    post(content, index, _previous, attachment) {
      return viaWebhook(
        () =>
          index === 0
            ? interaction.editReply({ content, allowedMentions: SAFE_MENTIONS, ...withFile(attachment) })
            : interaction.followUp({
                content,
                allowedMentions: SAFE_MENTIONS,
                ...(ephemeral ? { flags: MessageFlags.Ephemeral } : {}),
                ...withFile(attachment),
              }),
        () => inChannel(content, attachment),
      );
    },
    async edit(message, content, index, attachment) {
      const moved = continued.get(message.id);
      if (moved) {
        await moved.edit({ content, allowedMentions: SAFE_MENTIONS, ...withFile(attachment) });
        return;
      }
      await viaWebhook(
        () => interaction.editReply({ content, allowedMentions: SAFE_MENTIONS, ...(index === 0 ? {} : { message }), ...withFile(attachment) }),
        async () => {
          continued.set(message.id, await inChannel(content, attachment));
          return message;
        },
      );
    },
    async postMedia(post) {
      await sendMediaMessage(post, media, (payload) => interaction.followUp({ ...payload, ...(ephemeral ? { flags: MessageFlags.Ephemeral } : {}) }));
    },
    async postOffer(offer) {
      await interaction.followUp({ ...offerMessage(offer), ...(ephemeral ? { flags: MessageFlags.Ephemeral } : {}) });
    },
  };
}

/** The answer file as discord.js uploads it, to spread into a send or an edit. */
function withFile(attachment: FileAttachment | undefined): { files?: AttachmentBuilder[] } {
  return attachment ? { files: [new AttachmentBuilder(Buffer.from(attachment.text, 'utf8'), { name: attachment.name })] } : {};
}

/** An offer's text and its one button. */
function offerMessage(offer: MediaOfferPost) {
  const button = new ButtonBuilder().setCustomId(`${MAKE_MEDIA_PREFIX}${offer.offerId}`).setLabel(offer.label).setEmoji('✨').setStyle(ButtonStyle.Primary);
  return { content: offer.content, components: [new ActionRowBuilder<ButtonBuilder>().addComponents(button)], allowedMentions: SAFE_MENTIONS };
}
