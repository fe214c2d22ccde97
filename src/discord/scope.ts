import type { Deps } from '../deps.js';
import { UserError } from '../userError.js';

/** The spend scope of a request: its guild, or the user's own DMs when DMs are allowed. */
export function spendScope(guildId: string | null, userId: string, deps: Deps): { scope: string; dm: boolean } {
  if (guildId) return { scope: guildId, dm: false };
  if (!deps.config.ALLOW_DMS) throw new UserError('I only work in servers here, not in DMs.');
  return { scope: `dm:${userId}`, dm: true };
}
