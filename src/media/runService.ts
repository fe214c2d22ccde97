import { randomUUID } from 'node:crypto';
import type Keyv from 'keyv';
import { describeFailure } from '../core/describeFailure.js';
import { roundSpark, toolKind } from '../core/pricing.js';
import { describeOverBudget, mediaWord, previewSpark, reportedRunSpark, splitCharge } from '../core/runCost.js';
import type { RunPhase, RunProgress } from '../core/runProgress.js';
import { describeRefusal, describeWarning, spark, type LimitName, type SpendLimits, type SpendState } from '../core/spendMath.js';
import type { Logger } from '../logger.js';
import { findCostRequest, readProgress, runsFailure, RunsError, TERMINAL_EVENTS, type CostRequest, type CreateRunBody, type RunEvent, type RunSession, type RunState, type SogniRuns } from '../sogni/runs.js';
import type { MediaItem } from '../sogni/extractMedia.js';
import type { SpendLedger } from '../spend/spendLedger.js';
import { JOB_TTL_MS, jobOf, type StoredJob } from './jobs.js';
import { mediaMessages, toolFor, type MediaSpec } from './mediaRequest.js';
import { LEDGER_DOWN_LINE, type MediaContext, type MediaOutcome } from './outcome.js';
import type { Confirmation, FinishedRun, RunRecord, RunStore, RunTarget } from './runStore.js';

/** What the status shows of a run. */
export interface RunView {
  phase: RunPhase;
  /** The ⏹ Cancel button is offered (the run exists and has not ended). */
  cancellable: boolean;
}

/** Shows runs in Discord (src/discord/runPresenter.ts); the service decides what, the presenter how. */
export interface RunPresenter {
  /** The newest state of a run's status; states in between may be skipped. */
  progress(key: string, target: RunTarget, view: RunView): void;
  /** The result, or the line saying why there is none; resolves once shown (or given up). */
  finish(key: string, target: RunTarget, finished: FinishedRun): Promise<void>;
  /** Stops showing a run without a last word (the bot is stopping; the next process finishes it). */
  drop(key: string): Promise<void>;
}

export interface RunServiceDeps {
  runs: SogniRuns;
  ledger: SpendLedger;
  store: RunStore;
  jobs: Keyv<StoredJob>;
  model: string;
  tokenType: string;
  maxSeconds: number;
  logger: Logger;
}

const SHUTDOWN_LINE = '⚠️ The bot is restarting; this will be finished and posted when it is back.';
const EXPIRED_LINE = '⚠️ The price Sogni quoted expired before I could accept it, so nothing was made. Try again.';
const UNREADABLE_PRICE_LINE = "⚠️ Sogni asked me to confirm a price I couldn't read, so I declined and nothing was made.";
const QUESTION_LINE = "⚠️ Sogni asked a question I can't answer here, so I stopped the run.";
const LOST_LINE = '⚠️ I lost track of this run on Sogni, so I stopped waiting for it.';
/** Progress is saved at most this often (each event is replayed harmlessly after a restart). */
const SAVE_PROGRESS_EVERY_MS = 5000;
/** Following a run survives this many failures in a row (Sogni down for a while), a pause apart. */
const FOLLOW_ATTEMPTS = 6;
const FOLLOW_RETRY_MS = 5000;

interface ActiveRun {
  record: RunRecord;
  /** Aborts everything this process does for the run, without writing anything (shutdown). */
  controller: AbortController;
  /** Leaves the queue early when the run is cancelled before its turn. */
  waitController: AbortController;
  session: RunSession | undefined;
  cancelRequested: boolean;
  /** Re-attached after a restart: no caller is waiting to show the result. */
  resumed: boolean;
  progress: RunProgress;
  logger: Logger;
  done: Promise<MediaOutcome>;
}

const NO_PRESENTER: RunPresenter = {
  progress: () => {},
  finish: async () => {},
  drop: async () => {},
};

/**
 * Media as Sogni durable runs. Nothing paid starts unconfirmed: each run asks to confirm every
 * job's price, the price is held atomically against the server's limits before the bot says
 * yes, and the hold is settled with what the run reports it cost when it ends. Every run in
 * progress is in the store, so a new process re-attaches to it, shows it once and charges it once.
 */
export class RunService {
  readonly #deps: RunServiceDeps;
  readonly #active = new Map<string, ActiveRun>();
  #presenter: RunPresenter = NO_PRESENTER;
  #closing = false;

  constructor(deps: RunServiceDeps) {
    this.#deps = deps;
  }

  /** The Discord side, known once the client exists. */
  present(presenter: RunPresenter): void {
    this.#presenter = presenter;
  }

  get activeCount(): number {
    return this.#active.size;
  }

  /**
   * Starts a run for `spec` and resolves when it has ended (and, for a status target, been
   * shown). `signal` is the caller's: when it aborts for a shutdown the caller is let go and
   * the run is shown in the channel by whichever process finishes it; for any other reason
   * (its answer was deleted) the run is cancelled.
   */
  async start(spec: MediaSpec, context: MediaContext, target: RunTarget, signal?: AbortSignal): Promise<MediaOutcome> {
    const { logger } = context;
    const key = context.requestId ? `r:${context.requestId}` : `r:${randomUUID()}`;
    const early = async (outcome: FinishedRun): Promise<MediaOutcome> => {
      if (target.surface === 'status') await this.#presenter.finish(key, target, outcome);
      return outcomeOf(outcome, '');
    };
    if (this.#closing) return early({ outcome: 'failed', media: [], text: '', lines: [SHUTDOWN_LINE], notes: [] });
    if (spec.reference?.startsWith('data:')) {
      return early({ outcome: 'failed', media: [], text: '', lines: ['⚠️ That image can only be sent to Sogni as a link. Attach it again.'], notes: [] });
    }
    // A limit of 0 turns paid use off: no run is started at all.
    try {
      const off = await this.#deps.ledger.check({ scope: context.scope, userId: context.userId, estimate: 0, ...(context.roleIds ? { roleIds: context.roleIds } : {}) });
      if (off) return early({ outcome: 'refused', media: [], text: '', lines: [describeRefusal(off, Date.now(), context.dm)], notes: [] });
    } catch (err) {
      logger.error({ err }, 'could not read the spend limits; not asking Sogni');
      return early({ outcome: 'failed', media: [], text: '', lines: [LEDGER_DOWN_LINE], notes: [] });
    }
    const tool = toolFor(spec);
    const body: CreateRunBody = {
      messages: mediaMessages(spec, this.#deps.maxSeconds),
      model: this.#deps.model,
      // The member's choice (or the tool the chat model already named) is what is paid for.
      tool_choice: { type: 'function', function: { name: tool } },
      ...(spec.reference ? { media_references: [{ kind: 'image' as const, url: spec.reference }] } : {}),
      confirm_cost: true,
      runtime_config: { requireJobConfirmation: true, jobConfirmationThresholdUsd: 0 },
      token_type: this.#deps.tokenType,
      client_message_id: key,
      app_source: 'sogni-discord-bot',
    };
    const record: RunRecord = {
      key,
      scope: context.scope,
      userId: context.userId,
      ...(context.roleIds ? { roleIds: [...context.roleIds] } : {}),
      dm: context.dm,
      spec,
      body,
      target,
      lastSequence: 0,
      confirmations: [],
      jobId: randomUUID(),
      startedAt: Date.now(),
    };
    try {
      // Recorded before anything is sent: a crash after the create is found again by its key.
      await this.#deps.store.add(record);
    } catch (err) {
      logger.error({ err }, 'could not record the run; not asking Sogni');
      return early({ outcome: 'failed', media: [], text: '', lines: [LEDGER_DOWN_LINE], notes: [] });
    }
    const done = this.#launch(record, logger, false);
    return signal ? this.#unlessAbandoned(key, done, signal) : done;
  }

  #unlessAbandoned(key: string, done: Promise<MediaOutcome>, signal: AbortSignal): Promise<MediaOutcome> {
    return new Promise((resolve) => {
      const abandon = () => {
        const active = this.#active.get(key);
        if (active && signal.reason === 'shutdown') active.resumed = true;
        else if (active) void this.cancel(key, undefined);
        resolve({ kind: 'failed', line: SHUTDOWN_LINE });
      };
      if (signal.aborted) abandon();
      else signal.addEventListener('abort', abandon, { once: true });
      void done.then((outcome) => {
        signal.removeEventListener('abort', abandon);
        resolve(outcome);
      });
    });
  }

  /**
   * Re-attaches to every run a previous process left unfinished (those `mine` accepts: with
   * shards, the runs of the guilds this shard serves); they finish in the background.
   */
  async resumeAll(mine: (record: RunRecord) => boolean = () => true): Promise<number> {
    let records: RunRecord[];
    try {
      records = await this.#deps.store.unfinished();
    } catch (err) {
      this.#deps.logger.error({ err }, 'could not read the unfinished media runs');
      return 0;
    }
    let resumed = 0;
    for (const record of records) {
      if (this.#active.has(record.key) || this.#closing || !mine(record)) continue;
      const logger = this.#deps.logger.child({ runKey: record.key, runId: record.runId, userId: record.userId, scope: record.scope });
      logger.info({ lastSequence: record.lastSequence }, 're-attaching to a media run');
      void this.#launch(record, logger, true);
      resumed += 1;
    }
    return resumed;
  }

  /** Who a run belongs to (for its Cancel button); undefined once it has ended. */
  async owner(key: string): Promise<{ userId: string; scope: string } | undefined> {
    const active = this.#active.get(key);
    if (active) return active.record.finished ? undefined : { userId: active.record.userId, scope: active.record.scope };
    const record = await this.#deps.store.get(key).catch(() => undefined);
    return record && !record.finished ? { userId: record.userId, scope: record.scope } : undefined;
  }

  /** Asks Sogni to stop a run; the run's own end (run_cancelled) shows it and settles it. */
  async cancel(key: string, byUserId: string | undefined): Promise<'cancelling' | 'not-running'> {
    const active = this.#active.get(key);
    if (!active || active.record.finished) return 'not-running';
    const { record } = active;
    if (!active.cancelRequested) {
      active.cancelRequested = true;
      if (byUserId) record.cancelledBy = byUserId;
      await this.#save(active);
    }
    this.#show(active, { kind: 'cancelling' });
    active.waitController.abort('cancelled');
    if (active.session && record.runId) {
      try {
        await active.session.cancel(record.runId, 'cancelled from Discord', active.controller.signal);
      } catch (err) {
        active.logger.warn({ err }, 'could not cancel the run on Sogni');
      }
    }
    return 'cancelling';
  }

  /**
   * Stops following every run without writing anything, as if the process had died: the
   * next process re-attaches from what is already in the store.
   */
  async detach(): Promise<void> {
    this.#closing = true;
    const all = [...this.#active.values()];
    for (const active of all) active.controller.abort('shutdown');
    await Promise.allSettled(all.map((a) => a.done));
    await Promise.allSettled(all.map((a) => this.#presenter.drop(a.record.key)));
  }

  #launch(record: RunRecord, logger: Logger, resumed: boolean): Promise<MediaOutcome> {
    const active: ActiveRun = {
      record,
      controller: new AbortController(),
      waitController: new AbortController(),
      session: undefined,
      cancelRequested: record.cancelledBy !== undefined,
      resumed,
      progress: {},
      logger,
      done: Promise.resolve({ kind: 'failed', line: SHUTDOWN_LINE }),
    };
    this.#active.set(record.key, active);
    active.done = this.#drive(active).finally(() => {
      active.session?.close();
      this.#active.delete(record.key);
    });
    return active.done;
  }

  /** One run from wherever it is to shown: create (or find), follow, settle, show, forget. */
  async #drive(active: ActiveRun): Promise<MediaOutcome> {
    const { record, controller, logger } = active;
    const signal = controller.signal;
    try {
      if (!record.finished) {
        this.#show(active, { kind: 'starting' });
        try {
          active.session = await this.#deps.runs.open(record.userId, {
            // Cancel may end the wait for a turn only while nothing exists on Sogni's side yet.
            signal: record.runId ? signal : AbortSignal.any([signal, active.waitController.signal]),
            onWait: (ahead) => this.#show(active, { kind: 'waiting', ahead }),
          });
        } catch (err) {
          if (signal.aborted) return { kind: 'failed', line: SHUTDOWN_LINE };
          if (!active.cancelRequested) throw err;
        }
        if (!record.runId && active.cancelRequested) {
          record.finished = { outcome: 'cancelled', media: [], text: '', lines: [cancelledLine(record, 0)], notes: [] };
          await this.#save(active);
        } else {
          await this.#createAndFollow(active);
        }
      }
      if (signal.aborted || !record.finished) return { kind: 'failed', line: SHUTDOWN_LINE };
      return await this.#deliver(active, record.finished);
    } catch (err) {
      if (signal.aborted) return { kind: 'failed', line: SHUTDOWN_LINE };
      logger.error({ err }, 'media run failed');
      const finished: FinishedRun = { outcome: 'failed', media: [], text: '', lines: [], notes: [] };
      try {
        await this.#giveUp(active, err, finished);
      } catch (e) {
        logger.error({ err: e }, 'could not settle a failed media run');
      }
      record.finished = finished;
      return this.#deliver(active, finished);
    }
  }

  async #createAndFollow(active: ActiveRun): Promise<void> {
    const { record, controller } = active;
    const session = active.session as RunSession;
    if (!record.runId) {
      const { run, idempotent } = await session.create(record.body, record.key, controller.signal);
      if (!run.runId) throw new Error('Sogni created a run without an id');
      record.runId = run.runId;
      active.logger.info({ runId: run.runId, idempotent }, 'media run created');
      await this.#save(active);
    } else if (active.cancelRequested) {
      // Cancelled before a restart: the request may not have reached Sogni.
      await session.cancel(record.runId, 'cancelled from Discord', controller.signal);
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#follow(active, session);
        return;
      } catch (err) {
        const status = err instanceof RunsError ? err.status : 0;
        const fatal = status === 401 || status === 403 || status === 404 || controller.signal.aborted;
        if (fatal || attempt >= FOLLOW_ATTEMPTS) throw err;
        active.logger.warn({ err, attempt }, 'lost the run for a moment; following it again');
        await pause(FOLLOW_RETRY_MS, controller.signal);
      }
    }
  }

  async #follow(active: ActiveRun, session: RunSession): Promise<void> {
    const { record, controller } = active;
    let savedAt = Date.now();
    for await (const event of session.follow(record.runId as string, record.lastSequence, controller.signal)) {
      if (TERMINAL_EVENTS.has(event.type)) {
        await this.#settle(active, session, event);
        record.lastSequence = event.sequence;
        await this.#save(active);
        return;
      }
      await this.#onEvent(active, session, event);
      if (controller.signal.aborted) return;
      record.lastSequence = event.sequence;
      if (event.type !== 'tool_call_progress' || Date.now() - savedAt > SAVE_PROGRESS_EVERY_MS) {
        await this.#save(active);
        savedAt = Date.now();
      }
    }
  }

  async #onEvent(active: ActiveRun, session: RunSession, event: RunEvent): Promise<void> {
    switch (event.type) {
      case 'tool_call_dispatched':
        if (!active.cancelRequested) this.#show(active, { kind: 'working', progress: active.progress });
        return;
      case 'tool_call_progress':
        active.progress = { ...active.progress, ...readProgress(event.payload) };
        if (!active.cancelRequested) this.#show(active, { kind: 'working', progress: active.progress });
        return;
      case 'run_awaiting_cost_confirmation':
        await this.#confirm(active, session, findCostRequest(event.payload));
        return;
      case 'run_waiting_for_user': {
        const asked = findCostRequest(event.payload);
        if (asked) {
          await this.#confirm(active, session, asked);
          return;
        }
        const run = await session.get(active.record.runId as string, active.controller.signal);
        const cost = run.waiting ? findCostRequest({ waiting: run.waiting }) : undefined;
        if (cost || /cost|price|billing/i.test(run.waiting?.reason ?? '')) {
          await this.#confirm(active, session, cost);
          return;
        }
        await this.#stop(active, session, QUESTION_LINE, 'failed');
        return;
      }
      default:
    }
  }

  /**
   * A job's price, checked against the limits: held atomically and confirmed with the
   * preview copied back, or declined with the price and what is left. A confirmation seen
   * again (a replay after a restart) is not held twice.
   */
  async #confirm(active: ActiveRun, session: RunSession, fromEvent: CostRequest | undefined): Promise<void> {
    const { record, controller, logger } = active;
    const runId = record.runId as string;
    this.#show(active, { kind: 'pricing' });
    let request = fromEvent;
    if (!request) {
      const run = await session.get(runId, controller.signal);
      request = findCostRequest({ waiting: run.waiting }, run.raw);
    }
    if (!request) {
      await this.#stop(active, session, UNREADABLE_PRICE_LINE, 'failed');
      return;
    }
    const seen = record.confirmations.find((c) => sameRequest(c, request));
    if (seen && seen.state !== 'reserved') return;
    const decline = async (line: string | undefined, outcome: 'refused' | 'failed') => {
      const answer = await session.confirmCost(runId, { ...idOf(request), decision: 'cancel', preview: request.preview }, controller.signal);
      if (answer === 'conflict') logger.info('the declined price had already expired');
      if (line) await this.#stop(active, session, line, outcome);
    };
    if (active.cancelRequested) {
      await decline(undefined, 'failed');
      return;
    }
    let confirmation = seen;
    if (!confirmation) {
      const price = previewSpark(request.preview);
      if (price === undefined) {
        logger.warn({ preview: request.preview }, 'a cost preview without a readable price');
        await decline(UNREADABLE_PRICE_LINE, 'failed');
        return;
      }
      const tool = request.toolName ?? toolFor(record.spec);
      let reserved: Awaited<ReturnType<SpendLedger['reserve']>>;
      try {
        reserved = await this.#deps.ledger.reserve({ scope: record.scope, userId: record.userId, ...(record.roleIds ? { roleIds: record.roleIds } : {}), kind: toolKind(tool), model: this.#deps.model, estimate: price });
      } catch (err) {
        logger.error({ err }, 'could not hold the previewed price; declining');
        await decline(LEDGER_DOWN_LINE, 'failed');
        return;
      }
      if (!reserved.ok) {
        logger.info({ limit: reserved.refusal.limit, price }, 'previewed price over the limit; declined');
        await decline(describeOverBudget(mediaWord(tool), price, reserved.refusal, record.dm), 'refused');
        return;
      }
      confirmation = { ...idOf(request), ...(request.toolName ? { toolName: request.toolName } : {}), spark: price, preview: request.preview, hold: reserved.hold, state: 'reserved' };
      record.confirmations.push(confirmation);
      await this.#save(active);
    }
    const answer = await session.confirmCost(runId, { ...idOf(request), decision: 'confirm', preview: confirmation.preview }, controller.signal);
    if (answer === 'ok') {
      confirmation.state = 'confirmed';
      logger.info({ spark: confirmation.spark, tool: confirmation.toolName }, 'previewed price held and confirmed');
    } else if (seen && (await this.#movedOn(active, session, confirmation))) {
      // A replay after a restart: the first process's confirmation had landed.
      confirmation.state = 'confirmed';
    } else {
      await this.#deps.ledger.release(confirmation.hold).catch((err: unknown) => logger.error({ err }, 'could not release a spend hold'));
      confirmation.state = 'released';
      if (!active.cancelRequested) await this.#stop(active, session, EXPIRED_LINE, 'failed');
    }
    await this.#save(active);
    if (!active.cancelRequested && !record.stopLine) this.#show(active, { kind: 'working', progress: active.progress });
  }

  /** After a 409 on a replayed confirmation: true when the run is no longer waiting for it (it was accepted). */
  async #movedOn(active: ActiveRun, session: RunSession, confirmation: Confirmation): Promise<boolean> {
    const run = await session.get(active.record.runId as string, active.controller.signal).catch(() => undefined);
    if (!run || ['failed', 'cancelled', 'canceled'].includes(run.status)) return false;
    const waiting = run.status === 'waiting_for_user' ? findCostRequest({ waiting: run.waiting }) : undefined;
    return !waiting || !sameRequest(confirmation, waiting);
  }

  /** The bot stops the run itself, with the one line that says why. */
  async #stop(active: ActiveRun, session: RunSession, line: string, outcome: 'refused' | 'failed'): Promise<void> {
    const { record } = active;
    record.stopLine ??= line;
    record.stopOutcome ??= outcome;
    await this.#save(active);
    await session.cancel(record.runId as string, 'stopped by the bot', active.controller.signal);
  }

  /** The run ended: its holds become what it cost, its result is kept to be shown. */
  async #settle(active: ActiveRun, session: RunSession, event: RunEvent): Promise<void> {
    const { record, logger } = active;
    const run: RunState | undefined = await session.get(record.runId as string, active.controller.signal).catch((err: unknown) => {
      logger.warn({ err }, 'could not read the finished run; using its last event');
      return undefined;
    });
    const status = statusOf(event.type);
    const media = run?.media.length ? run.media : [];
    const reported = run?.reportedSpark ?? reportedRunSpark(event.payload);
    const confirmed = record.confirmations.filter((c) => c.state === 'confirmed');
    const paidFor = roundSpark(confirmed.reduce((sum, c) => sum + c.spark, 0));
    // The reported cost wins; else what was confirmed, unless the run ended with nothing to show for it.
    const charge = reported ?? (status === 'completed' || status === 'partial' || media.length > 0 ? paidFor : 0);
    const notes = await this.#charge(active, charge);
    const failure = run?.failureReason ?? failureText(event.payload);
    // The bot's own reason for stopping comes first; the run's end is then only said if it adds something.
    const lines: string[] = record.stopLine ? [record.stopLine] : [];
    let outcome: FinishedRun['outcome'];
    if (record.stopLine && status !== 'completed' && status !== 'partial') {
      outcome = record.stopOutcome ?? 'failed';
    } else if (status === 'cancelled') {
      outcome = 'cancelled';
      lines.push(record.cancelledBy ? cancelledLine(record, charge) : `⏹ The run was cancelled on Sogni's side.${charge > 0 ? '' : ' Nothing was charged.'}`);
    } else if (status === 'failed') {
      outcome = 'failed';
      lines.push(`⚠️ Sogni couldn't make it: ${oneLine(failure ?? 'the run failed')}`);
    } else if (status === 'partial') {
      outcome = 'partial';
      lines.push(`⚠️ Part of it failed: ${oneLine(failure ?? 'one of the jobs failed')}`);
    } else {
      outcome = media.length > 0 ? 'ok' : 'empty';
      if (media.length === 0) lines.push('⚠️ Sogni finished without producing any media.');
    }
    const finished: FinishedRun = { outcome, media, text: run?.text ?? '', lines, notes };
    if (media.length > 0) {
      finished.jobId = record.jobId;
      try {
        await this.#deps.jobs.set(record.jobId, jobOf(record.spec, media, record), JOB_TTL_MS);
      } catch (err) {
        // The media is made and paid for: show it; only its buttons will not work.
        logger.error({ err }, 'could not save the media job for its buttons');
      }
    }
    logger.info({ status, media: media.length, charge, reported: reported !== undefined, confirmed: paidFor }, 'media run finished');
    record.finished = finished;
  }

  /**
   * Settles the run's holds so they add up to `charge`, releases those never confirmed, and
   * records a charge no hold covered. Settling again (a replay after a restart) changes nothing.
   */
  async #charge(active: ActiveRun, charge: number): Promise<string[]> {
    const { record, logger } = active;
    const { ledger } = this.#deps;
    const warnings: { name: LimitName; state: SpendState; limits: SpendLimits }[] = [];
    const confirmed = record.confirmations.filter((c) => c.state === 'confirmed');
    for (const c of record.confirmations.filter((c) => c.state === 'reserved')) {
      await ledger.release(c.hold).catch((err: unknown) => logger.error({ err }, 'could not release a spend hold'));
      c.state = 'released';
    }
    try {
      if (confirmed.length === 0) {
        if (charge > 0) {
          // Sogni charged work no confirmation covered: it still counts.
          logger.warn({ charge }, 'a run charged without a confirmed price');
          const held = await ledger.reserve({ scope: record.scope, userId: record.userId, kind: toolKind(toolFor(record.spec)), model: this.#deps.model, estimate: 0 });
          if (held.ok) {
            const settled = await ledger.settle(held.hold, charge);
            for (const name of settled.warnings) warnings.push({ name, state: settled.state, limits: settled.limits });
          }
        }
      } else {
        const shares = splitCharge(charge, confirmed.map((c) => c.spark));
        for (const [i, c] of confirmed.entries()) {
          const share = shares[i] ?? 0;
          if (share > 0) {
            const settled = await ledger.settle(c.hold, share, c.toolName ? toolKind(c.toolName) : undefined);
            for (const name of settled.warnings) warnings.push({ name, state: settled.state, limits: settled.limits });
          } else {
            await ledger.release(c.hold);
          }
        }
      }
    } catch (err) {
      // The holds stay and expire; the next reservation still sees them until then.
      logger.error({ err, charge }, 'could not settle the media run');
    }
    return warnings.map((w) => describeWarning(w.name, w.state, w.limits, record.userId));
  }

  /** Following the run failed for good: holds confirmed are counted (the jobs may have run), the rest released. */
  async #giveUp(active: ActiveRun, err: unknown, finished: FinishedRun): Promise<void> {
    const { record } = active;
    const confirmed = roundSpark(record.confirmations.filter((c) => c.state === 'confirmed').reduce((s, c) => s + c.spark, 0));
    finished.notes = await this.#charge(active, confirmed);
    const failure = runsFailure(err);
    finished.lines = [record.runId && !(err instanceof RunsError && err.status !== 404) ? LOST_LINE : describeFailure(failure)];
    if (confirmed > 0) finished.lines.push(`-# ${spark(confirmed)} was confirmed for it and is counted.`);
    if (record.runId) await active.session?.cancel(record.runId, 'the bot lost track of it', active.controller.signal).catch(() => {});
    await this.#save(active);
  }

  /** Shows the result (if this process owns its showing), then forgets the run. */
  async #deliver(active: ActiveRun, finished: FinishedRun): Promise<MediaOutcome> {
    const { record, logger } = active;
    const outcome = outcomeOf(finished, record.jobId);
    if (record.target.surface === 'status' || active.resumed) {
      try {
        await this.#presenter.finish(record.key, record.target, finished);
      } catch (err) {
        logger.error({ err }, 'could not show the media run');
      }
    }
    try {
      await this.#deps.store.remove(record.key);
    } catch (err) {
      logger.error({ err }, 'could not forget the finished media run');
    }
    return outcome;
  }

  #show(active: ActiveRun, phase: RunPhase): void {
    const { record } = active;
    if (record.target.surface !== 'status' || active.controller.signal.aborted) return;
    const cancellable = record.runId !== undefined && !record.finished && !active.cancelRequested;
    this.#presenter.progress(record.key, record.target, { phase, cancellable });
  }

  async #save(active: ActiveRun): Promise<void> {
    // A process that is stopping writes nothing more: the next one starts from what is stored.
    if (active.controller.signal.aborted) return;
    try {
      await this.#deps.store.save(active.record);
    } catch (err) {
      active.logger.error({ err }, 'could not save the media run');
    }
  }
}

function idOf(request: CostRequest | Confirmation): { toolCallId?: string } {
  return request.toolCallId ? { toolCallId: request.toolCallId } : {};
}

function sameRequest(a: Confirmation, b: CostRequest): boolean {
  if (a.toolCallId && b.toolCallId) return a.toolCallId === b.toolCallId;
  return JSON.stringify(a.preview) === JSON.stringify(b.preview);
}

function statusOf(type: string): 'completed' | 'partial' | 'failed' | 'cancelled' {
  if (type === 'run_partial_failure') return 'partial';
  if (type === 'run_failed') return 'failed';
  if (type === 'run_cancelled') return 'cancelled';
  return 'completed';
}

function failureText(payload: Record<string, unknown>): string | undefined {
  const error = payload['error'];
  const text = typeof error === 'object' && error !== null ? (error as Record<string, unknown>)['message'] : error ?? payload['reason'] ?? payload['message'];
  return typeof text === 'string' && text ? text : undefined;
}

function cancelledLine(record: RunRecord, charge: number): string {
  const who = record.cancelledBy ? ` by <@${record.cancelledBy}>` : '';
  return charge > 0 ? `⏹ Cancelled${who}. ${spark(charge)} was charged for work already done.` : `⏹ Cancelled${who}. Nothing was charged.`;
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 160 ? `${line.slice(0, 157)}…` : line;
}

/** What the caller (a chat answer) is told. */
function outcomeOf(finished: FinishedRun, jobId: string): MediaOutcome {
  if (finished.media.length > 0) {
    return { kind: 'ok', media: finished.media, text: finished.text, notes: [...finished.lines, ...finished.notes], jobId: finished.jobId ?? jobId };
  }
  const line = finished.lines.join('\n') || '⚠️ Sogni finished without producing any media.';
  if (finished.outcome === 'refused') return { kind: 'refused', line };
  if (finished.outcome === 'empty') return { kind: 'empty', text: finished.text, line, notes: finished.notes };
  return { kind: 'failed', line: [line, ...finished.notes].join('\n') };
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

export type { MediaItem };
