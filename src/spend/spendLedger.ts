import { randomUUID } from 'node:crypto';
import type Keyv from 'keyv';
import { KeyedMutex } from '../core/keyedMutex.js';
import { roundSpark, type SpendKind } from '../core/pricing.js';
import {
  applyRelease,
  applyReserve,
  applySettle,
  emptyState,
  findRefusal,
  rollover,
  staleReservations,
  type LedgerEntry,
  type LimitName,
  type Refusal,
  type Reservation,
  type SpendLimits,
  type SpendState,
} from '../core/spendMath.js';
import { memberAllowance, type Allowance, type RoleLimits } from '../core/roleLimits.js';

/**
 * A request that died with its process leaves a reservation behind; after this long it
 * is released (media jobs take at most a few minutes).
 */
const STALE_RESERVATION_MS = 30 * 60_000;

/** Ledger entries are an audit trail for a year of monthly statements, then pruned (a little over 13 months). */
export const LEDGER_ENTRY_TTL_MS = 400 * 24 * 3600_000;

export interface ReserveRequest {
  /** The guild id, or `dm:<userId>` for direct messages. */
  scope: string;
  userId: string;
  kind: SpendKind;
  model: string;
  estimate: number;
  /** The member's role ids: a role's per-person daily limit (`/spend role`) replaces the server's for them. */
  roleIds?: readonly string[];
}

export interface Hold {
  scope: string;
  reservation: Reservation;
  entry: LedgerEntry;
  /** The per-person daily limit the hold was granted under (the member's roles resolved), for settle's warnings. */
  userDaily?: number | null;
}

export type ReserveResult = { ok: true; hold: Hold } | { ok: false; refusal: Refusal; limits: SpendLimits };

export interface SettleResult {
  warnings: LimitName[];
  state: SpendState;
  limits: SpendLimits;
}

/** Runs a task while holding a key; the store's lock holds it across every process sharing the store. */
export type LedgerLock = <T>(key: string, task: () => Promise<T>) => Promise<T>;

export interface LedgerOptions {
  /** Defaults to an in-process lock (enough for one process on its own SQLite file). */
  lock?: LedgerLock;
}

/** What the ledger tells observers (the alert channel): a request settled, or one refused by a limit. */
export type LedgerEvent =
  | { type: 'settled'; scope: string; entry: LedgerEntry; state: SpendState; limits: SpendLimits }
  | { type: 'refused'; scope: string; request: Omit<ReserveRequest, 'roleIds'>; refusal: Refusal };

/** A scope's stored limits: its own overrides of the defaults, and per-person daily limits by role. */
type StoredLimits = Partial<SpendLimits> & { roles?: Record<string, number> };

/** A scope's state while a batch of changes holds its lock, and what the batch will write. */
interface Batch {
  state: SpendState;
  /** Observers hear of a change only once it is written. */
  events: LedgerEvent[];
  put(key: string, value: unknown, ttl?: number): void;
  /** A key as this batch has it: its own pending write, else the store's. */
  read(key: string): Promise<unknown>;
}

interface BatchItem {
  step: (batch: Batch) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

const entryKey = (scope: string, id: string) => `entry:${scope}:${id}`;

/** How many of a member's latest paid requests are kept for /usage. */
export const USER_RECENT_ENTRIES = 5;

/**
 * The spend ledger: per-scope limits and windows, reservations before anything is sent,
 * settlement with the real cost after. Every change to a scope is a read-modify-write under
 * that scope's lock, so concurrent requests in one guild can never overspend together. The
 * lock is the store's (`Store.lock`), held across processes on Redis and PostgreSQL: a guild's
 * events reach one shard at a time, but around a restart, a respawned shard or a new shard
 * count two processes can serve one guild at once, and money must stay exact then too.
 */
export class SpendLedger {
  readonly #keyv: Keyv<unknown>;
  readonly #defaults: (scope: string) => SpendLimits;
  readonly #lock: LedgerLock;
  readonly #now: () => number;
  readonly #observers: ((event: LedgerEvent) => void)[] = [];
  /** Per scope, the changes waiting for the scope's lock (the next batch). */
  readonly #batches = new Map<string, BatchItem[]>();

  constructor(keyv: Keyv<unknown>, defaults: (scope: string) => SpendLimits, now: () => number = Date.now, options: LedgerOptions = {}) {
    this.#keyv = keyv;
    this.#defaults = defaults;
    this.#now = now;
    const local = new KeyedMutex();
    this.#lock = options.lock ?? ((key, task) => local.run(key, task));
  }

  async limits(scope: string): Promise<{ limits: SpendLimits; custom: boolean }> {
    const { roles: _roles, ...custom } = ((await this.#keyv.get(`limits:${scope}`)) as StoredLimits | undefined) ?? {};
    return { limits: { ...this.#defaults(scope), ...custom }, custom: Object.keys(custom).length > 0 };
  }

  /** Per-person daily limits by role id (`/spend role`). */
  async roleLimits(scope: string): Promise<RoleLimits> {
    return ((await this.#keyv.get(`limits:${scope}`)) as StoredLimits | undefined)?.roles ?? {};
  }

  /** Sets a role's per-person daily limit (0 blocks the role's paid use), or removes it (null). */
  async setRoleLimit(scope: string, roleId: string, spark: number | null): Promise<RoleLimits> {
    // Stryker disable next-line StringLiteral: the lock's key only has to be the same for every change to one server's limits
    return this.#lock(`limits:${scope}`, async () => {
      const current = ((await this.#keyv.get(`limits:${scope}`)) as StoredLimits | undefined) ?? {};
      const { [roleId]: _old, ...others } = current.roles ?? {};
      const roles = spark === null ? others : { ...others, [roleId]: spark };
      const { roles: _roles, ...own } = current;
      const next: StoredLimits = Object.keys(roles).length > 0 ? { ...own, roles } : own;
      if (Object.keys(next).length === 0) await this.#keyv.delete(`limits:${scope}`);
      else await this.#keyv.set(`limits:${scope}`, next);
      return roles;
    });
  }

  /** A member's per-person daily limit here, their roles' limits resolved (for /usage; reserve decides). */
  async allowance(scope: string, roleIds: readonly string[]): Promise<Allowance> {
    const [{ limits }, roles] = await Promise.all([this.limits(scope), this.roleLimits(scope)]);
    return memberAllowance(limits.userDaily, roles, roleIds);
  }

  /** A member's latest paid requests in a scope, newest first (at most USER_RECENT_ENTRIES). */
  async userRecent(scope: string, userId: string): Promise<LedgerEntry[]> {
    return ((await this.#keyv.get(`recent:${scope}:${userId}`)) as LedgerEntry[] | undefined) ?? [];
  }

  /** Calls `observer` after every settlement and every refusal; it must not throw or block. */
  observe(observer: (event: LedgerEvent) => void): void {
    this.#observers.push(observer);
  }

  /** Overrides some of a scope's limits; the others keep their current values. */
  async setLimits(scope: string, changes: Partial<SpendLimits>): Promise<SpendLimits> {
    // Stryker disable next-line StringLiteral: the lock's key only has to be the same for every change to one server's limits
    return this.#lock(`limits:${scope}`, async () => {
      const current = (await this.#keyv.get(`limits:${scope}`)) as Partial<SpendLimits> | undefined;
      const next = { ...(current ?? {}), ...changes };
      await this.#keyv.set(`limits:${scope}`, next);
      const { roles: _roles, ...own } = next as StoredLimits;
      return { ...this.#defaults(scope), ...own };
    });
  }

  /** Returns a scope to the configured defaults. */
  async clearLimits(scope: string): Promise<SpendLimits> {
    const key = `limits:${scope}`;
    // Stryker disable next-line StringLiteral: the lock's key only has to be the same for every change to one server's limits
    await this.#lock(`limits:${scope}`, () => this.#keyv.delete(key));
    return this.#defaults(scope);
  }

  /** The scope's spend now (windows rolled over), for /spend status. */
  async state(scope: string): Promise<SpendState> {
    return rollover(await this.#load(scope), this.#now());
  }

  /**
   * Which limit `estimate` would break now, without holding anything (null: it fits today).
   * Only a preview: reserve decides, atomically, when the request really runs.
   */
  async check(request: Pick<ReserveRequest, 'scope' | 'userId' | 'estimate' | 'roleIds'>): Promise<Refusal | null> {
    const limits = this.#forMember(await this.#configured(request.scope), request.roleIds);
    const now = this.#now();
    const state = rollover(await this.#load(request.scope), now);
    return findRefusal(state, limits, request.userId, roundSpark(Math.max(0, request.estimate)), now);
  }

  /** Holds `estimate` against every limit, or says which limit it would break. Nothing is held on refusal. */
  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    const configured = await this.#configured(request.scope);
    return this.#inBatch(request.scope, async (batch) => {
      // The member's allowance is decided here, under the lock, against their spend as it stands.
      const limits = this.#forMember(configured, request.roleIds);
      const now = this.#now();
      const estimate = roundSpark(Math.max(0, request.estimate));
      const refusal = findRefusal(batch.state, limits, request.userId, estimate, now);
      if (refusal) {
        const { roleIds: _roleIds, ...asked } = request;
        batch.events.push({ type: 'refused', scope: request.scope, request: { ...asked, estimate }, refusal });
        return { ok: false, refusal, limits } as const;
      }
      const reservation: Reservation = { id: randomUUID(), userId: request.userId, amount: estimate, at: now };
      const entry: LedgerEntry = {
        id: reservation.id,
        at: now,
        scope: request.scope,
        userId: request.userId,
        kind: request.kind,
        model: request.model,
        estimate,
        actual: null,
        status: 'reserved',
      };
      // The entry goes in the same write as the reservation: a reservation the ledger cannot show must not exist.
      batch.state = applyReserve(batch.state, reservation);
      batch.put(entryKey(request.scope, entry.id), entry, LEDGER_ENTRY_TTL_MS);
      return { ok: true, hold: { scope: request.scope, reservation, entry, ...(request.roleIds?.length ? { userDaily: limits.userDaily } : {}) } } as const;
    });
  }

  /** Replaces the hold by the real cost. Returns the limits that just passed 80% (each once per window). */
  async settle(hold: Hold, actual: number, kind?: SpendKind): Promise<SettleResult> {
    const { limits: scopeLimits } = await this.limits(hold.scope);
    // Warnings about the member's own limit speak of the allowance their roles gave them.
    const limits = hold.userDaily === undefined ? scopeLimits : { ...scopeLimits, userDaily: hold.userDaily };
    return this.#inBatch(hold.scope, async (batch) => {
      const entry: LedgerEntry = { ...hold.entry, ...(kind ? { kind } : {}), actual: roundSpark(Math.max(0, actual)), status: 'settled' };
      const recentKey = `recent:${hold.scope}:${hold.entry.userId}`;
      const recent = ((await batch.read(recentKey)) as LedgerEntry[] | undefined) ?? [];
      let reservation = hold.reservation;
      let held = batch.state;
      if (!held.reservations[hold.reservation.id]) {
        const previous = (await batch.read(entryKey(hold.scope, hold.entry.id))) as LedgerEntry | undefined;
        // Settled or released already (a replay after a restart): nothing changes.
        if (previous?.status === 'settled' || previous?.status === 'released') return { warnings: [], state: held, limits };
        // The hold expired while its work ran on (a long media run): the late cost still counts.
        reservation = { ...hold.reservation, amount: 0 };
        held = applyReserve(held, reservation);
      }
      const result = applySettle(held, reservation, entry.actual ?? 0, limits, entry);
      batch.state = result.state;
      batch.put(entryKey(hold.scope, entry.id), entry, LEDGER_ENTRY_TTL_MS);
      // Each hold settles once (a replay returned above), so its entry is not in the list yet.
      batch.put(recentKey, [entry, ...recent].slice(0, USER_RECENT_ENTRIES), LEDGER_ENTRY_TTL_MS);
      batch.events.push({ type: 'settled', scope: hold.scope, entry, state: result.state, limits: scopeLimits });
      return { warnings: result.warnings, state: result.state, limits };
    });
  }

  /** Gives the hold back: the request failed or was cancelled, nothing was spent. */
  async release(hold: Hold): Promise<void> {
    await this.#inBatch(hold.scope, async (batch) => {
      const entry: LedgerEntry = { ...hold.entry, actual: 0, status: 'released' };
      if (batch.state.reservations[hold.reservation.id]) {
        batch.state = applyRelease(batch.state, hold.reservation, entry);
      } else if (((await batch.read(entryKey(hold.scope, hold.entry.id))) as LedgerEntry | undefined)?.status === 'settled') {
        // A hold already settled stays settled (a replay after a restart).
        return;
      }
      batch.put(entryKey(hold.scope, entry.id), entry, LEDGER_ENTRY_TTL_MS);
    });
  }

  /** A ledger entry by id (for audits and tests). */
  async entry(scope: string, id: string): Promise<LedgerEntry | undefined> {
    return (await this.#keyv.get(entryKey(scope, id))) as LedgerEntry | undefined;
  }

  /**
   * Runs `step` on the scope's state under its lock, together with every other change to the
   * scope that queued while this one waited for the lock: one read of the state and one write
   * for the whole batch, instead of one of each per request. On a busy server every answer
   * reserves at once; one at a time, each a read and a durable write, the last of 25 waited
   * longer than the lock allows. Steps run in the order they came, each seeing the state the
   * ones before it left, exactly as if each had held the lock alone. A step that throws changes
   * nothing (steps make their changes only after their last await); a failed write fails them all.
   */
  #inBatch<T>(scope: string, step: (batch: Batch) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiting = this.#batches.get(scope);
      const item = { step: step as (batch: Batch) => Promise<unknown>, resolve: resolve as (value: unknown) => void, reject };
      if (waiting) {
        waiting.push(item);
        return;
      }
      const queued = [item];
      this.#batches.set(scope, queued);
      this.#lock(scope, async () => {
        // From here on, newcomers start the next batch (it waits for this lock).
        this.#batches.delete(scope);
        return this.#runBatch(scope, queued);
      }).then(
        (outcomes) => outcomes.forEach((outcome, i) => (outcome.ok ? queued[i]?.resolve(outcome.value) : queued[i]?.reject(outcome.error))),
        (error: unknown) => {
          // The lock failed before the batch ran: newcomers must not join a batch that will never run.
          // Stryker disable next-line ConditionalExpression: dropping a newer batch's entry only makes later arrivals start their own; every waiter still runs
          if (this.#batches.get(scope) === queued) this.#batches.delete(scope);
          for (const waiter of queued) waiter.reject(error);
        },
      );
    });
  }

  async #runBatch(scope: string, queued: readonly BatchItem[]): Promise<({ ok: true; value: unknown } | { ok: false; error: unknown })[]> {
    const now = this.#now();
    const writes = new Map<string, { key: string; value: unknown; ttl?: number }>();
    const batch: Batch = {
      state: rollover(await this.#load(scope), now),
      events: [],
      put: (key, value, ttl) => writes.set(key, { key, value, ...(ttl === undefined ? {} : { ttl }) }),
      read: async (key) => (writes.has(key) ? writes.get(key)?.value : this.#keyv.get(key)),
    };
    await this.#expireStale(batch, scope, now);
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    for (const { step } of queued) {
      try {
        outcomes.push({ ok: true, value: await step(batch) });
      } catch (error) {
        outcomes.push({ ok: false, error });
      }
    }
    // The state with every entry it changed, in one `setMany`: one statement on SQLite and
    // PostgreSQL, one MULTI on Redis, so a crash keeps all of them or none.
    await this.#keyv.setMany([...writes.values(), { key: `state:${scope}`, value: batch.state }]);
    for (const event of batch.events) this.#emit(event);
    return outcomes;
  }

  /** Releases reservations left by requests that died with their process (called under the scope's lock). */
  async #expireStale(batch: Batch, scope: string, now: number): Promise<void> {
    for (const reservation of staleReservations(batch.state, now, STALE_RESERVATION_MS)) {
      const entry = ((await batch.read(entryKey(scope, reservation.id))) as LedgerEntry | undefined) ?? null;
      const expired: LedgerEntry = {
        ...(entry ?? { id: reservation.id, at: reservation.at, scope, userId: reservation.userId, kind: 'other', model: '', estimate: reservation.amount }),
        actual: null,
        status: 'expired',
      };
      batch.put(entryKey(scope, reservation.id), expired, LEDGER_ENTRY_TTL_MS);
      batch.state = applyRelease(batch.state, reservation, expired);
    }
  }

  /** The scope's limits and role limits, from one read. */
  async #configured(scope: string): Promise<{ limits: SpendLimits; roles: RoleLimits }> {
    const { roles = {}, ...own } = ((await this.#keyv.get(`limits:${scope}`)) as StoredLimits | undefined) ?? {};
    return { limits: { ...this.#defaults(scope), ...own }, roles };
  }

  /** The scope's limits with the per-person one replaced by what the member's roles give them. */
  #forMember(configured: { limits: SpendLimits; roles: RoleLimits }, roleIds: readonly string[] | undefined): SpendLimits {
    if (!roleIds?.length) return configured.limits;
    return { ...configured.limits, userDaily: memberAllowance(configured.limits.userDaily, configured.roles, roleIds).spark };
  }

  #emit(event: LedgerEvent): void {
    for (const observer of this.#observers) {
      try {
        observer(event);
      } catch {
        // An observer's failure must never change what the ledger decided.
      }
    }
  }

  async #load(scope: string): Promise<SpendState> {
    return ((await this.#keyv.get(`state:${scope}`)) as SpendState | undefined) ?? emptyState(this.#now());
  }

}
