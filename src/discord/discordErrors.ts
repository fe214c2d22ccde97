import { DiscordAPIError, RESTJSONErrorCodes } from 'discord.js';
import type { SendFailure } from '../core/streamRenderer.js';

/**
 * Discord errors after which an answer cannot be shown any more: retrying is pointless
 * and the upstream request should stop so no more tokens are paid for.
 */
const UNDELIVERABLE = new Set<number>([
  RESTJSONErrorCodes.UnknownChannel,
  RESTJSONErrorCodes.UnknownMessage,
  RESTJSONErrorCodes.UnknownWebhook,
  RESTJSONErrorCodes.UnknownInteraction,
  RESTJSONErrorCodes.InvalidWebhookToken,
  RESTJSONErrorCodes.MissingAccess,
  RESTJSONErrorCodes.MissingPermissions,
  RESTJSONErrorCodes.CannotSendMessagesToThisUser,
  RESTJSONErrorCodes.ThreadLocked,
  RESTJSONErrorCodes.InteractionHasAlreadyBeenAcknowledged,
]);

export function classifySendError(err: unknown): SendFailure {
  if (err instanceof DiscordAPIError) {
    if (typeof err.code === 'number' && UNDELIVERABLE.has(err.code)) return 'gone';
    // Other 4xx answers will not change on a retry (bad form body, too long, …).
    if (err.status >= 400 && err.status < 500 && err.status !== 429) return 'gone';
  }
  return 'retry';
}
