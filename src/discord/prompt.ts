import { cleanContent, GuildMember, type APIInteractionGuildMember, type Attachment, type Message, type User } from 'discord.js';
import type { AttachmentRef } from '../vision/readAttachments.js';

/** Longest display name passed to the model; names are user-controlled text. */
const MAX_NAME = 40;

/** The name the model sees for a speaker: one line, no control characters, bounded. */
export function displayName(member: GuildMember | APIInteractionGuildMember | null | undefined, user: User): string {
  const raw =
    member instanceof GuildMember ? member.displayName : (member?.nick ?? user.globalName ?? user.username);
  const clean = raw.replace(/[\p{Cc}\p{Cf}]/gu, '').replace(/\s+/g, ' ').replace(/:/g, '').trim();
  return (clean || user.username).slice(0, MAX_NAME);
}

/** True when a message is for the bot: it mentions the bot itself, or replies to one of its messages. */
export function isAddressedToBot(message: Message, botId: string): boolean {
  return message.mentions.users.has(botId) || message.mentions.repliedUser?.id === botId;
}

/**
 * The prompt a message carries: the bot's own mention removed, other mentions turned into
 * names (so the model reads "@Alice", not an id), @everyone and @here defused.
 */
export function promptFromMessage(message: Message, botId: string): string {
  const withoutBot = message.content.replace(new RegExp(`<@!?${botId}>`, 'g'), ' ');
  return cleanContent(withoutBot, message.channel).trim();
}

export function toAttachmentRef(attachment: Attachment): AttachmentRef {
  return { name: attachment.name, url: attachment.url, size: attachment.size, contentType: attachment.contentType };
}

/** Files on the message and on the message it replies to (asking about an earlier photo). */
export async function attachmentsFor(message: Message): Promise<AttachmentRef[]> {
  const own = [...message.attachments.values()].map(toAttachmentRef);
  if (!message.reference?.messageId) return own;
  const referenced = await message.fetchReference().catch(() => null);
  return [...own, ...[...(referenced?.attachments.values() ?? [])].map(toAttachmentRef)];
}
