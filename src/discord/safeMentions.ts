import type { MessageMentionOptions } from 'discord.js';

/**
 * Sent with every message the bot creates or edits: nothing in it pings anyone, whatever
 * the model wrote (@everyone, @here, roles, users) and not even the person it replies to.
 */
export const SAFE_MENTIONS = { parse: [], repliedUser: false } as const satisfies MessageMentionOptions;
