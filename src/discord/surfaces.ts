import { MessageFlags, type ChatInputCommandInteraction, type Message } from 'discord.js';
import type { ChatSurface } from '../chat/chatService.js';
import { renderMediaMessage } from './mediaMessage.js';
import { SAFE_MENTIONS } from './safeMentions.js';

/** An answer to a mention: a reply to the user's message, continued in replies to itself. */
export function messageReplySurface(trigger: Message): ChatSurface<Message> {
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
      const payload = await renderMediaMessage(post);
      await trigger.reply({ ...payload, failIfNotExists: false });
    },
  };
}

/** An answer to a deferred slash command: the deferred reply, then follow-ups (ephemeral when asked). */
export function interactionSurface(interaction: ChatInputCommandInteraction, ephemeral: boolean): ChatSurface<Message> {
  return {
    post(content, index) {
      if (index === 0) return interaction.editReply({ content, allowedMentions: SAFE_MENTIONS });
      return interaction.followUp({
        content,
        allowedMentions: SAFE_MENTIONS,
        ...(ephemeral ? { flags: MessageFlags.Ephemeral } : {}),
      });
    },
    async edit(message, content, index) {
      await interaction.editReply({
        content,
        allowedMentions: SAFE_MENTIONS,
        ...(index === 0 ? {} : { message }),
      });
    },
    async postMedia(post) {
      const payload = await renderMediaMessage(post);
      await interaction.followUp({ ...payload, ...(ephemeral ? { flags: MessageFlags.Ephemeral } : {}) });
    },
  };
}
