import { cleanContent, GuildMember, type APIInteractionGuildMember, type Attachment, type Message, type User } from 'discord.js';
import type { AttachmentRef } from '../vision/readAttachments.js';

/** Longest prompt accepted from a message or a command (Discord's own message limit with Nitro). */
export const MAX_PROMPT_CHARS = 4000;

/** A refusal for a prompt that is too long, or null. */
export function promptTooLong(text: string): string | null {
  if (text.length <= MAX_PROMPT_CHARS) return null;
  return `⚠️ That is ${text.length.toLocaleString('en-US')} characters; keep questions under ${MAX_PROMPT_CHARS.toLocaleString('en-US')} (attach longer text as a file).`;
}

/** False for text that shows nothing: only spaces, zero-width or combining characters. */
export function hasVisibleText(text: string): boolean {
  return text.replace(/[\p{Z}\p{Cc}\p{Cf}\p{M}\s]/gu, '').length > 0;
}

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
