import type { Logger } from '../logger.js';
import type { MediaItem } from '../sogni/extractMedia.js';

/** Who a media request is for, and where it was asked. */
export interface MediaContext {
  /** Guild id, or `dm:<userId>`. */
  scope: string;
  userId: string;
  /** The member's role ids: a role's per-person daily limit applies to them. */
  roleIds?: readonly string[] | undefined;
  dm: boolean;
  logger: Logger;
  /** Where a chat request's result goes if the bot restarts before the chat answer shows it. */
  channelId?: string | undefined;
  /** Only the asker may see the result. */
  private?: boolean | undefined;
  /** Identifies the request across retries (an interaction or message id): one request, one run. */
  requestId?: string | undefined;
}

export type MediaOutcome =
  | { kind: 'ok'; media: MediaItem[]; text: string; notes: string[]; jobId: string }
  | { kind: 'refused'; line: string }
  | { kind: 'failed'; line: string }
  | { kind: 'empty'; text: string; line: string; notes: string[] };

/** Said when spending cannot be recorded: nothing paid may run then. */
export const LEDGER_DOWN_LINE = "⚠️ I can't record spending right now, so I won't make media. Try again in a moment.";
