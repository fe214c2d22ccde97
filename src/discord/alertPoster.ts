import { PermissionFlagsBits, type Client, type GuildBasedChannel } from 'discord.js';
import type { AlertPoster } from '../spend/spendAlerts.js';
import { SAFE_MENTIONS } from './safeMentions.js';

/**
 * Posts spend alerts as plain channel messages, pinging nobody. They are a few a day at most,
 * so they go straight through discord.js's own rate limiting rather than an answer's pacer.
 */
export function channelAlertPoster(client: Client): AlertPoster {
  return async (channelId, content) => {
    const channel = await client.channels.fetch(channelId);
    if (!channel?.isSendable()) throw new Error('that channel is gone or is not one I can post in');
    await channel.send({ content, allowedMentions: SAFE_MENTIONS });
  };
}

/**
 * What the bot lacks to post in `channel` (View Channel, Send Messages, or Send Messages in
 * Threads for a thread), as far as its cached permissions tell; empty when it can post.
 */
export function missingPostPermissions(channel: GuildBasedChannel): string[] {
  const me = channel.guild.members.me;
  const permissions = me ? channel.permissionsFor(me) : null;
  if (!permissions) return [];
  const needed: [bigint, string][] = [
    [PermissionFlagsBits.ViewChannel, 'View Channel'],
    [channel.isThread() ? PermissionFlagsBits.SendMessagesInThreads : PermissionFlagsBits.SendMessages, channel.isThread() ? 'Send Messages in Threads' : 'Send Messages'],
  ];
  return needed.filter(([flag]) => !permissions.has(flag)).map(([, name]) => name);
}
