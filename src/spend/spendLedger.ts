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
}

export interface Hold {
  scope: string;
  reservation: Reservation;
  entry: LedgerEntry;
}

export type ReserveResult = { ok: true; hold: Hold } | { ok: false; refusal: Refusal; limits: SpendLimits };

export interface SettleResult {
  warnings: LimitName[];
  state: SpendState;
  limits: SpendLimits;
}

/**
 * The spend ledger: per-scope limits and windows, reservations before anything is sent,
 * settlement with the real cost after. Every change to a scope is a read-modify-write under
 * that scope's lock, so concurrent requests in one guild can never overspend together. (A
 * guild lives on one shard, so an in-process lock is enough when sharding.)
 */
export class SpendLedger {
  readonly #keyv: Keyv<unknown>;
  readonly #defaults: (scope: string) => SpendLimits;
  readonly #locks = new KeyedMutex();
  readonly #now: () => number;

  constructor(keyv: Keyv<unknown>, defaults: (scope: string) => SpendLimits, now: () => number = Date.now) {
    this.#keyv = keyv;
    this.#defaults = defaults;
    this.#now = now;
  }

  async limits(scope: string): Promise<{ limits: SpendLimits; custom: boolean }> {
    const custom = (await this.#keyv.get(`limits:${scope}`)) as Partial<SpendLimits> | undefined;
    return { limits: { ...this.#defaults(scope), ...(custom ?? {}) }, custom: custom !== undefined };
  }

  /** Overrides some of a scope's limits; the others keep their current values. */
  async setLimits(scope: string, changes: Partial<SpendLimits>): Promise<SpendLimits> {
    return this.#locks.run(`limits:${scope}`, async () => {
      const current = (await this.#keyv.get(`limits:${scope}`)) as Partial<SpendLimits> | undefined;
      const next = { ...(current ?? {}), ...changes };
      await this.#keyv.set(`limits:${scope}`, next);
      return { ...this.#defaults(scope), ...next };
    });
  }

  /** Returns a scope to the configured defaults. */
  async clearLimits(scope: string): Promise<SpendLimits> {
    await this.#locks.run(`limits:${scope}`, () => this.#keyv.delete(`limits:${scope}`));
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
  async check(request: Pick<ReserveRequest, 'scope' | 'userId' | 'estimate'>): Promise<Refusal | null> {
    const { limits } = await this.limits(request.scope);
    const now = this.#now();
    const state = rollover(await this.#load(request.scope), now);
    return findRefusal(state, limits, request.userId, roundSpark(Math.max(0, request.estimate)), now);
  }

  /** Holds `estimate` against every limit, or says which limit it would break. Nothing is held on refusal. */
  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    const { limits } = await this.limits(request.scope);
    return this.#locks.run(request.scope, async () => {
      const now = this.#now();
      let state = await this.#expireStale(rollover(await this.#load(request.scope), now), request.scope, now);
      const estimate = roundSpark(Math.max(0, request.estimate));
      const refusal = findRefusal(state, limits, request.userId, estimate, now);
      if (refusal) {
        await this.#save(request.scope, state);
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
      state = applyReserve(state, reservation);
      // The entry first: a reservation the ledger cannot show must not exist.
      await this.#keyv.set(`entry:${request.scope}:${entry.id}`, entry, LEDGER_ENTRY_TTL_MS);
      await this.#save(request.scope, state);
      return { ok: true, hold: { scope: request.scope, reservation, entry } } as const;
    });
  }

  /** Replaces the hold by the real cost. Returns the limits that just passed 80% (each once per window). */
  async settle(hold: Hold, actual: number, kind?: SpendKind): Promise<SettleResult> {
    const { limits } = await this.limits(hold.scope);
    return this.#locks.run(hold.scope, async () => {
      const state = rollover(await this.#load(hold.scope), this.#now());
      const entry: LedgerEntry = { ...hold.entry, ...(kind ? { kind } : {}), actual: roundSpark(Math.max(0, actual)), status: 'settled' };
      if (!state.reservations[hold.reservation.id]) {
        // Already expired or settled: record the cost without double counting the hold.
        await this.#keyv.set(`entry:${hold.scope}:${entry.id}`, entry, LEDGER_ENTRY_TTL_MS);
        return { warnings: [], state, limits };
      }
      const result = applySettle(state, hold.reservation, entry.actual ?? 0, limits, entry);
      await this.#keyv.set(`entry:${hold.scope}:${entry.id}`, entry, LEDGER_ENTRY_TTL_MS);
      await this.#save(hold.scope, result.state);
      return { warnings: result.warnings, state: result.state, limits };
    });
  }

  /** Gives the hold back: the request failed or was cancelled, nothing was spent. */
  async release(hold: Hold): Promise<void> {
    await this.#locks.run(hold.scope, async () => {
      const state = rollover(await this.#load(hold.scope), this.#now());
      const entry: LedgerEntry = { ...hold.entry, actual: 0, status: 'released' };
      await this.#keyv.set(`entry:${hold.scope}:${entry.id}`, entry, LEDGER_ENTRY_TTL_MS);
      if (state.reservations[hold.reservation.id]) await this.#save(hold.scope, applyRelease(state, hold.reservation, entry));
    });
  }

  /** A ledger entry by id (for audits and tests). */
  async entry(scope: string, id: string): Promise<LedgerEntry | undefined> {
    return (await this.#keyv.get(`entry:${scope}:${id}`)) as LedgerEntry | undefined;
  }

  async #expireStale(state: SpendState, scope: string, now: number): Promise<SpendState> {
    let next = state;
    for (const reservation of staleReservations(state, now, STALE_RESERVATION_MS)) {
      const entry = (await this.entry(scope, reservation.id)) ?? null;
      const expired: LedgerEntry = {
        ...(entry ?? { id: reservation.id, at: reservation.at, scope, userId: reservation.userId, kind: 'other', model: '', estimate: reservation.amount }),
        actual: null,
        status: 'expired',
      };
      await this.#keyv.set(`entry:${scope}:${reservation.id}`, expired, LEDGER_ENTRY_TTL_MS);
      next = applyRelease(next, reservation, expired);
    }
    return next;
  }

  async #load(scope: string): Promise<SpendState> {
    return ((await this.#keyv.get(`state:${scope}`)) as SpendState | undefined) ?? emptyState(this.#now());
  }

  async #save(scope: string, state: SpendState): Promise<void> {
    await this.#keyv.set(`state:${scope}`, state);
  }
}
