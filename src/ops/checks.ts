import { ApplicationFlags, PermissionFlagsBits } from 'discord.js';

/**
 * What the bot needs from Discord, stated once: `npm run doctor` reports it and the bot warns
 * about it at start, with the same words and the same fixes.
 */

/** The permissions the bot uses in a server, with the names Discord's settings show. */
export const REQUIRED_PERMISSIONS: readonly { bit: bigint; name: string }[] = [
  { bit: PermissionFlagsBits.ViewChannel, name: 'View Channels' },
  { bit: PermissionFlagsBits.SendMessages, name: 'Send Messages' },
  { bit: PermissionFlagsBits.SendMessagesInThreads, name: 'Send Messages in Threads' },
  { bit: PermissionFlagsBits.EmbedLinks, name: 'Embed Links' },
  { bit: PermissionFlagsBits.AttachFiles, name: 'Attach Files' },
  { bit: PermissionFlagsBits.ReadMessageHistory, name: 'Read Message History' },
  { bit: PermissionFlagsBits.UseApplicationCommands, name: 'Use Application Commands' },
];

/** The names of the required permissions `granted` lacks (none with Administrator). */
export function missingPermissions(granted: bigint): string[] {
  if ((granted & PermissionFlagsBits.Administrator) !== 0n) return [];
  return REQUIRED_PERMISSIONS.filter((p) => (granted & p.bit) === 0n).map((p) => p.name);
}

/** The invite link that asks for exactly the required permissions, with slash commands. */
export function inviteUrl(applicationId: string): string {
  const permissions = REQUIRED_PERMISSIONS.reduce((sum, p) => sum | p.bit, 0n);
  return `https://discord.com/oauth2/authorize?client_id=${applicationId}&scope=bot+applications.commands&permissions=${permissions}`;
}

export function permissionsFix(applicationId: string): string {
  return `give the bot's role these permissions in Server Settings → Roles (channel overrides can still deny them), or re-invite it with ${inviteUrl(applicationId)}`;
}

/** True when the application may receive message content (verified bots, or bots under 100 servers). */
export function messageContentEnabled(flags: number): boolean {
  return (flags & (ApplicationFlags.GatewayMessageContent | ApplicationFlags.GatewayMessageContentLimited)) !== 0;
}

export const MESSAGE_CONTENT_PROBLEM = 'the Message Content intent is off, so mentions arrive without their text and the bot cannot answer them';
export const MESSAGE_CONTENT_FIX =
  'turn on Message Content Intent in the Developer Portal (your application → Bot → Privileged Gateway Intents), then restart the bot';

/** A login Discord refused for an intent (close code 4014): the most common reason a new bot "doesn't answer". */
export function isDisallowedIntents(err: unknown): boolean {
  return err instanceof Error && /disallowed intent/i.test(err.message);
}
