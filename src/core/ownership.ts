/**
 * Who may act on something paid that someone else started (a result's Reroll, Vary or
 * Cancel, an offer to make media). Every paid action has an owner: the person it was made
 * for, or a manager of the server it was made in, and only from where it was made.
 */

/** What an action belongs to. */
export interface Owned {
  userId: string;
  /** Guild id, or `dm:<userId>`. */
  scope: string;
}

/** Who is pressing, and where. */
export interface Actor {
  userId: string;
  /** Guild id of the place the press came from, or `dm:<userId>` in DMs. */
  scope: string;
  /** Has the permission that lets a member act for others there (Manage Server; Manage Messages for 🗑️); never in DMs. */
  manager: boolean;
}

export type OwnershipDecision = 'allowed' | 'not-owner' | 'other-scope';

/**
 * `managersToo`: a server manager may act for the owner (Reroll, Vary, Cancel). An offer of
 * paid media from a chat answer is the asker's consent alone, so managers are not enough there.
 */
export function decideOwnership(owned: Owned, actor: Actor, { managersToo }: { managersToo: boolean }): OwnershipDecision {
  // A button copied into another server (or a forged custom id) must not spend the first server's budget.
  if (owned.scope !== actor.scope) return 'other-scope';
  if (owned.userId === actor.userId) return 'allowed';
  if (managersToo && actor.manager && !actor.scope.startsWith('dm:')) return 'allowed';
  return 'not-owner';
}
