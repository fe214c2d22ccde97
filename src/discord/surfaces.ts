import { ActionRowBuilder, AttachmentBuilder, ButtonBuilder, ButtonStyle, DiscordAPIError, MessageFlags, RESTJSONErrorCodes, type ChatInputCommandInteraction, type Message, type MessageCreateOptions, type ThreadChannel } from 'discord.js';
import type { ChatSurface, MediaOfferPost } from '../chat/chatService.js';
import type { FileAttachment, SendExtras } from '../core/streamRenderer.js';
import type { AnswerRecords, AnswerTracker } from './cleanup.js';
import { MAKE_MEDIA_PREFIX } from './customIds.js';
import { sendMediaMessage, type RenderOptions } from './mediaMessage.js';
import { SAFE_MENTIONS } from './safeMentions.js';

/**
 * An answer to a mention: a reply to the user's message, continued in replies to itself. With
 * `thread` (a thread the bot opened on the message), the answer is posted in the thread instead.
 * With `records`, the answer's last message carries a 🗑️ for the asker (or a moderator).
 */
export function messageReplySurface(trigger: Message, media: RenderOptions = {}, thread?: ThreadChannel, records?: AnswerRecords): ChatSurface<Message> {
  const channel = thread ?? trigger.channel;
  const first = (payload: MessageCreateOptions) => (thread ? thread.send(payload) : trigger.reply({ ...payload, failIfNotExists: false }));
  const tracker = records?.track({ userId: trigger.author.id, scope: trigger.guildId ?? `dm:${trigger.author.id}` }, channel.id);
  return {
    post(content, index, previous, extras) {
      const payload = { content, allowedMentions: SAFE_MENTIONS, ...withFiles(extras), ...tracker?.components(extras?.last) };
      if (index === 0) return tracked(tracker, extras, () => first(payload));
      if (!channel.isSendable()) throw new Error('channel is not sendable');
      return tracked(tracker, extras, () =>
        channel.send({ ...payload, ...(previous ? { reply: { messageReference: previous.id, failIfNotExists: false } } : {}) }),
      );
    },
    async edit(message, content, _index, extras) {
      await tracked(tracker, extras, () => message.edit({ content, allowedMentions: SAFE_MENTIONS, ...withFiles(extras), ...tracker?.components(extras?.last) }));
    },
    async typing() {
      if ('sendTyping' in channel) await channel.sendTyping();
    },
    route(op, _index, message) {
      return op === 'edit' && message ? { method: 'PATCH', path: `/channels/${message.channelId}/messages/${message.id}` } : { method: 'POST', path: `/channels/${channel.id}/messages` };
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
 * With `records`, a public answer's last message carries a 🗑️ (a private one can be dismissed).
 */
export function interactionSurface(
  interaction: ChatInputCommandInteraction,
  ephemeral: boolean,
  media: RenderOptions = {},
  records?: AnswerRecords,
): ChatSurface<Message> {
  /** Interaction messages whose answer continues in a channel message, and those channel messages. */
  const continued = new Map<string, Message>();
  let expired = false;
  const scope = interaction.guildId ?? `dm:${interaction.user.id}`;
  const tracker = ephemeral ? undefined : records?.track({ userId: interaction.user.id, scope }, interaction.channelId);
  const inChannel = async (content: string, extras?: SendExtras): Promise<Message> => {
    const channel = interaction.channel ?? (await interaction.client.channels.fetch(interaction.channelId));
    if (!channel?.isSendable()) throw new Error('the interaction expired and its channel cannot be written to');
    return channel.send({ content, allowedMentions: SAFE_MENTIONS, ...withFiles(extras), ...tracker?.components(extras?.last) });
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
    post(content, index, _previous, extras) {
      const extra = { ...withFiles(extras), ...tracker?.components(extras?.last) };
      return tracked(tracker, extras, () =>
        viaWebhook(
          () =>
            index === 0
              ? interaction.editReply({ content, allowedMentions: SAFE_MENTIONS, ...extra })
              : interaction.followUp({
                  content,
                  allowedMentions: SAFE_MENTIONS,
                  ...(ephemeral ? { flags: MessageFlags.Ephemeral } : {}),
                  ...extra,
                }),
          () => inChannel(content, extras),
        ),
      );
    },
    async edit(message, content, index, extras) {
      const moved = continued.get(message.id);
      if (moved) {
        await tracked(tracker, extras, () => moved.edit({ content, allowedMentions: SAFE_MENTIONS, ...withFiles(extras), ...tracker?.components(extras?.last) }));
        return;
      }
      await tracked(tracker, extras, () =>
        viaWebhook(
          () =>
            interaction.editReply({
              content,
              allowedMentions: SAFE_MENTIONS,
              ...(index === 0 ? {} : { message }),
              ...withFiles(extras),
              ...tracker?.components(extras?.last),
            }),
          async () => {
            const moved = await inChannel(content, extras);
            continued.set(message.id, moved);
            return moved;
          },
        ),
      );
    },
    // Interaction webhooks are limited per token, not per channel: name the call so the pacer counts it there.
    route(op, index, message) {
      const moved = message ? continued.get(message.id) : undefined;
      if (moved) return { method: 'PATCH', path: `/channels/${moved.channelId}/messages/${moved.id}` };
      if (expired) return { method: 'POST', path: `/channels/${interaction.channelId}/messages` };
      const webhook = `/webhooks/${interaction.applicationId}/${interaction.token}`;
      if (op === 'post') return index === 0 ? { method: 'PATCH', path: `${webhook}/messages/@original` } : { method: 'POST', path: webhook };
      return { method: 'PATCH', path: index === 0 || !message ? `${webhook}/messages/@original` : `${webhook}/messages/${message.id}` };
    },
    async postMedia(post) {
      await sendMediaMessage(post, media, (payload) => interaction.followUp({ ...payload, ...(ephemeral ? { flags: MessageFlags.Ephemeral } : {}) }));
    },
    async postOffer(offer) {
      await interaction.followUp({ ...offerMessage(offer), ...(ephemeral ? { flags: MessageFlags.Ephemeral } : {}) });
    },
  };
}

/** The answer's files as discord.js uploads them, to spread into a send or an edit. */
function withFiles(extras: SendExtras | undefined): { files?: AttachmentBuilder[] } {
  const files = extras?.files ?? [];
  return files.length > 0 ? { files: files.map((f: FileAttachment) => new AttachmentBuilder(Buffer.from(f.text, 'utf8'), { name: f.name })) } : {};
}

/** Sends one message of an answer and notes it; once the last one is out, the answer's 🗑️ record is kept. */
async function tracked(tracker: AnswerTracker | undefined, extras: SendExtras | undefined, write: () => Promise<Message>): Promise<Message> {
  const message = await write();
  if (tracker) {
    tracker.note(message);
    await tracker.kept(extras?.last);
  }
  return message;
}

/** An offer's text and its one button. */
function offerMessage(offer: MediaOfferPost) {
  const button = new ButtonBuilder().setCustomId(`${MAKE_MEDIA_PREFIX}${offer.offerId}`).setLabel(offer.label).setEmoji('✨').setStyle(ButtonStyle.Primary);
  return { content: offer.content, components: [new ActionRowBuilder<ButtonBuilder>().addComponents(button)], allowedMentions: SAFE_MENTIONS };
}
