/**
 * Per-person daily limits by role (`/spend role`). Admins give patrons more (or a role
 * nothing) without touching everyone else's allowance.
 */

/** Role id → that role's per-person daily limit, in Spark (0 blocks paid use). */
export type RoleLimits = Readonly<Record<string, number>>;

/** A member's per-person daily limit and where it came from. */
export interface Allowance {
  /** Spark a day; null: no per-person limit. */
  spark: number | null;
  /** `role`: one of the member's roles set it (`roleId`); `server`: none applies, the server's per-person limit does. */
  source: 'server' | 'role';
  roleId?: string;
}

/**
 * The member's allowance: the largest limit among their roles that have one, so a patron
 * keeps the patron allowance whatever other roles they hold; the server's per-person limit
 * when none of their roles has one. A role at 0 blocks paid use only when every role of
 * theirs that has a limit is at 0: one generous role is enough to pay.
 */
export function memberAllowance(serverUserDaily: number | null, roles: RoleLimits, roleIds: readonly string[]): Allowance {
  let best: { roleId: string; spark: number } | undefined;
  for (const roleId of roleIds) {
    const spark = roles[roleId];
    if (spark === undefined || !Number.isFinite(spark)) continue;
    // Ties go to the first role listed, so the answer does not depend on the order of the map.
    if (!best || spark > best.spark) best = { roleId, spark };
  }
  if (!best) return { spark: serverUserDaily, source: 'server' };
  return { spark: Math.max(0, best.spark), source: 'role', roleId: best.roleId };
}
