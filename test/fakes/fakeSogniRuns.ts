import type { IncomingMessage, ServerResponse } from 'node:http';
import { isDeepStrictEqual } from 'node:util';
import type { ChatCall, Script } from './fakeSogni.js';

/**
 * Sogni's durable runs (`/v1/chat/runs`) as sogni-api.md documents them, strict like the real
 * thing: 202 on create, idempotent on the Idempotency-Key; `data:` media references refused;
 * numbered events, an SSE stream resumed with Last-Event-ID or ?after=, polling; confirm-cost
 * (400 without the preview, 409 on a changed or expired one); cancel.
 *
 * The model behind it is greedy: it makes the most expensive thing it is allowed. A run whose
 * request leaves the tool open and whose prompt mentions video makes a video. It charges only
 * work that was confirmed (or, in completions mode, executed), and `charged` records it: tests
 * assert on what Sogni charged, not on the bot's own books.
 */

/** One priced job the fake model runs. */
export interface FakeJob {
  tool: string;
  spark: number;
  args?: Record<string, unknown>;
}

/** How one run goes; the default is the greedy model's plan for the request. */
export interface RunPlan {
  jobs: FakeJob[];
  /** tool_call_progress payloads sent while each job renders. */
  progress?: Record<string, unknown>[];
  /** Pause between events, in ms. */
  stepMs?: number;
  /** Waits before finishing its last job until `finish(runId)` (or a cancel). */
  hold?: boolean;
  outcome?: 'completed' | 'failed' | 'partial_failure';
  failureReason?: string;
  text?: string;
  /** Where the cost preview is: in the event and the run (default), or only in the run record. */
  previewIn?: 'event' | 'run-only';
  /** How the preview states its price. */
  previewShape?: 'spark' | 'usd';
  /** Whether the finished run reports its cost (default true). */
  reportCost?: boolean;
  /** The artifact URL of each job (default: files the fake serves). */
  mediaUrls?: string[];
}

export interface FakeRunEvent {
  sequence: number;
  type: string;
  at: string;
  payload: Record<string, unknown>;
}

export interface Charge {
  runId?: string;
  tool: string;
  spark: number;
}

interface Pending {
  toolCallId: string;
  preview: Record<string, unknown>;
  resolve(decision: 'confirm' | 'cancel'): void;
}

export interface FakeRun {
  id: string;
  key: string | undefined;
  body: Record<string, unknown>;
  plan: RunPlan;
  status: string;
  events: FakeRunEvent[];
  waiting: Record<string, unknown> | null;
  artifacts: Record<string, unknown>[];
  finalResponse: Record<string, unknown> | null;
  failureReason: string | null;
  charged: number;
  pending: Pending | undefined;
  /** Resolves a held run. */
  release: (() => void) | undefined;
  cancelled: boolean;
  listeners: Set<(event: FakeRunEvent) => void>;
}

/** A request the runs API received. */
export interface RunsRequest {
  method: string;
  path: string;
  lastEventId: string | undefined;
  after: string | null;
  status: number;
}

const PRICES = { image: 4, videoPerSecond: 10, audioPerSecond: 1 };
const TERMINAL = new Set(['run_completed', 'run_failed', 'run_partial_failure', 'run_cancelled']);

function textOf(body: Record<string, unknown>): string {
  const messages = Array.isArray(body['messages']) ? (body['messages'] as { role?: string; content?: unknown }[]) : [];
  return messages
    .filter((m) => m.role === 'user')
    .map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content)))
    .join('\n');
}

function forcedTool(body: Record<string, unknown>): string | undefined {
  const choice = body['tool_choice'] as { function?: { name?: string } } | undefined;
  return typeof choice === 'object' ? choice?.function?.name : undefined;
}

/**
 * The greedy model's choice: the forced tool if the request names one, else the most
 * expensive tool the prompt can be read as asking for; a video as long as it says (10 s
 * otherwise), as many variations as it says.
 */
export function greedyJob(body: Record<string, unknown>): FakeJob {
  const text = textOf(body);
  const tool =
    forcedTool(body) ??
    (/video|clip|movie|animat/i.test(text) ? 'generate_video' : /music|song/i.test(text) ? 'generate_music' : /speech|say |voice/i.test(text) ? 'generate_speech' : 'generate_image');
  const seconds = Number(/"duration"\s*:\s*(\d+)/.exec(text)?.[1] ?? /(\d+)[- ]?(?:s\b|sec|second)/i.exec(text)?.[1] ?? (/video/.test(tool) ? 10 : 30));
  const variations = Number(/"numberOfVariations"\s*:\s*(\d+)/.exec(text)?.[1] ?? 1);
  if (/video|animate/.test(tool)) return { tool, spark: seconds * PRICES.videoPerSecond, args: { duration: seconds } };
  if (/music|speech/.test(tool)) return { tool, spark: seconds * PRICES.audioPerSecond, args: { duration: seconds } };
  return { tool, spark: variations * PRICES.image, args: { numberOfVariations: variations } };
}

const EXT: Record<string, string> = { video: 'mp4', audio: 'mp3', image: 'png' };
const mediaTypeOf = (tool: string) => (/video|animate/.test(tool) ? 'video' : /music|speech/.test(tool) ? 'audio' : 'image');

export class FakeRuns {
  /** Decides each new run's plan; the default is the greedy model's one job, with a little progress. */
  plan: (body: Record<string, unknown>, index: number) => RunPlan = (body) => ({
    jobs: [greedyJob(body)],
    progress: [
      { progress: 0.3, etaSeconds: 20, stepLabel: 'Rendering' },
      { progress: 0.7, etaSeconds: 6, stepLabel: 'Rendering' },
    ],
  });
  readonly runs = new Map<string, FakeRun>();
  /** Every run created (idempotent repeats not counted), in order. */
  readonly created: FakeRun[] = [];
  readonly requests: RunsRequest[] = [];
  readonly charged: Charge[] = [];
  /** The next stream connections are cut after this many event frames (one connection per count). */
  dropStreams: { afterFrames: number; count: number } | undefined;
  /** The SSE endpoint answers 404: clients must poll. */
  streamUnavailable = false;
  /** How long a cost preview may be confirmed. */
  confirmationTtlMs = 60_000;
  /** The next this-many requests are answered 429 with a Retry-After of 1 s (Sogni's per-key limit). */
  rateLimitNext = 0;
  /** The next create is refused with this answer (once). */
  createFailure: { status: number; body: unknown } | undefined;
  readonly #origin: () => string;
  #next = 0;

  constructor(origin: () => string) {
    this.#origin = origin;
  }

  chargedTotal(): number {
    return this.charged.reduce((sum, c) => sum + c.spark, 0);
  }

  /** Lets a held run finish its last job. */
  finish(runId: string): void {
    const run = this.runs.get(runId);
    run?.release?.();
  }

  run(index = 0): FakeRun | undefined {
    return this.created[index];
  }

  /** Events of a run of a given type. */
  eventsOf(run: FakeRun, type: string): FakeRunEvent[] {
    return run.events.filter((e) => e.type === type);
  }

  /** A completions-mode script of the same greedy model: it runs the tool at once and charges it. */
  completionScript(body: Record<string, unknown>, index: number): Script {
    const job = greedyJob(body);
    this.charged.push({ tool: job.tool, spark: job.spark });
    const kind = mediaTypeOf(job.tool);
    const url = `${this.#origin()}/media/completion-${index + 1}.${EXT[kind]}`;
    return {
      kind: 'json',
      body: {
        id: 'chatcmpl-media',
        object: 'chat.completion',
        created: 0,
        model: 'qwen3.6-35b-a3b-gguf-iq4xs',
        choices: [{ index: 0, message: { role: 'assistant', content: `Here is your ${kind}.` }, finish_reason: 'stop' }],
        sogni_tool_results: [
          { ok: true, tool: job.tool, status: 'completed', output_assets: [{ asset_id: 'a1', type: kind, url }], estimated_cost: { spark: job.spark, usd: job.spark * 0.005 } },
        ],
      },
    };
  }

  /** Handles a /v1/chat/runs request; returns false for any other path. */
  async handle(req: IncomingMessage, url: URL, raw: Buffer, res: ServerResponse): Promise<boolean> {
    const path = url.pathname;
    if (!path.startsWith('/v1/chat/runs')) return false;
    const parts = path.split('/').filter(Boolean); // v1 chat runs :id action
    const method = req.method ?? 'GET';
    const lastEventId = typeof req.headers['last-event-id'] === 'string' ? req.headers['last-event-id'] : undefined;
    const record = (status: number) => this.requests.push({ method, path, lastEventId, after: url.searchParams.get('after'), status });
    const json = (status: number, payload: unknown) => {
      record(status);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    const error = (status: number, message: string, code: string) => json(status, { error: { message, type: 'invalid_request_error', code } });
    let body: Record<string, unknown> = {};
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      } catch {
        error(400, 'Body is not JSON', 'invalid_json');
        return true;
      }
    }
    if (this.rateLimitNext > 0) {
      this.rateLimitNext -= 1;
      record(429);
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end(JSON.stringify({ error: { message: 'Rate limit exceeded. Slow down.', type: 'rate_limit_error', code: 'rate_limit_exceeded' } }));
      return true;
    }
    const id = parts[3];
    const action = parts.slice(4).join('/');
    if (method === 'POST' && parts.length === 3) {
      this.#create(req, body, json, error);
      return true;
    }
    const run = id ? this.runs.get(id) : undefined;
    if (!run) {
      error(404, 'Run not found', 'run_not_found');
      return true;
    }
    if (method === 'GET' && action === '') json(200, { status: 'ok', data: { run: this.#view(run) } });
    else if (method === 'GET' && action === 'events') {
      const after = Number(url.searchParams.get('after') ?? 0);
      json(200, { status: 'ok', data: { events: run.events.filter((e) => e.sequence > after) } });
    } else if (method === 'GET' && action === 'events/stream') {
      if (this.streamUnavailable) {
        error(404, 'Not found', 'not_found');
        return true;
      }
      record(200);
      this.#stream(run, Number(lastEventId ?? url.searchParams.get('after') ?? 0), res);
    } else if (method === 'POST' && action === 'confirm-cost') this.#confirm(run, body, json, error);
    else if (method === 'POST' && action === 'cancel') {
      this.#cancel(run, typeof body['reason'] === 'string' ? body['reason'] : 'cancelled');
      json(200, { status: 'ok', data: { run: this.#view(run) } });
    } else error(404, 'Not found', 'not_found');
    return true;
  }

  #create(req: IncomingMessage, body: Record<string, unknown>, json: (s: number, p: unknown) => void, error: (s: number, m: string, c: string) => void): void {
    const key = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : undefined;
    const existing = key ? [...this.runs.values()].find((r) => r.key === key) : undefined;
    if (existing) {
      json(202, { status: 'accepted', data: { run: this.#view(existing), idempotent: true } });
      return;
    }
    if (this.createFailure) {
      const { status, body: failure } = this.createFailure;
      this.createFailure = undefined;
      json(status, failure);
      return;
    }
    if (!Array.isArray(body['messages']) || body['messages'].length === 0) {
      error(400, 'messages is required', 'invalid_request');
      return;
    }
    const refs = Array.isArray(body['media_references']) ? (body['media_references'] as { url?: unknown }[]) : [];
    if (refs.some((r) => typeof r.url !== 'string' || !/^https?:\/\//.test(r.url))) {
      error(400, 'media_references must be HTTP(S) URLs on runs; data: URIs are not accepted', 'invalid_media_reference');
      return;
    }
    const index = this.created.length;
    const run: FakeRun = {
      id: `run_${++this.#next}_${Math.random().toString(36).slice(2, 8)}`,
      key,
      body,
      plan: this.plan(body, index),
      status: 'queued',
      events: [],
      waiting: null,
      artifacts: [],
      finalResponse: null,
      failureReason: null,
      charged: 0,
      pending: undefined,
      release: undefined,
      cancelled: false,
      listeners: new Set(),
    };
    this.runs.set(run.id, run);
    this.created.push(run);
    this.#emit(run, 'run_created', { runId: run.id });
    json(202, { status: 'accepted', data: { run: this.#view(run) } });
    void this.#execute(run);
  }

  #view(run: FakeRun) {
    return {
      runId: run.id,
      status: run.status,
      finalResponse: run.finalResponse,
      artifacts: run.artifacts,
      childWorkflowIds: [],
      waiting: run.waiting,
      failureReason: run.failureReason,
      ...(run.plan.reportCost === false || !['completed', 'partial_failure', 'failed', 'cancelled'].includes(run.status)
        ? {}
        : { cost: { spark: run.charged, usd: run.charged * 0.005 } }),
    };
  }

  #emit(run: FakeRun, type: string, payload: Record<string, unknown>): void {
    const event: FakeRunEvent = { sequence: run.events.length + 1, type, at: new Date().toISOString(), payload };
    run.events.push(event);
    for (const listener of run.listeners) listener(event);
  }

  #needsConfirmation(run: FakeRun, spark: number): boolean {
    const config = run.body['runtime_config'] as { requireJobConfirmation?: boolean; jobConfirmationThresholdUsd?: number } | undefined;
    if (run.body['confirm_cost'] === true) return true;
    return config?.requireJobConfirmation === true && spark * 0.005 > (config.jobConfirmationThresholdUsd ?? 0);
  }

  async #execute(run: FakeRun): Promise<void> {
    const { plan } = run;
    const pause = () => new Promise((r) => setTimeout(r, plan.stepMs ?? 20));
    await pause();
    if (run.cancelled) return;
    run.status = 'running';
    this.#emit(run, 'llm_round_started', { round: 1 });
    const failAt = plan.outcome === 'failed' ? 0 : plan.outcome === 'partial_failure' ? plan.jobs.length - 1 : -1;
    for (const [i, job] of plan.jobs.entries()) {
      const toolCallId = `call_${i + 1}`;
      this.#emit(run, 'tool_call_dispatched', { toolCallId, toolName: job.tool, arguments: job.args ?? {} });
      if (this.#needsConfirmation(run, job.spark)) {
        const decision = await this.#awaitConfirmation(run, toolCallId, job);
        if (run.cancelled) return;
        this.#emit(run, 'run_cost_confirmation_resolved', { toolCallId, decision });
        if (decision === 'cancel') {
          this.#end(run, 'cancelled', 'run_cancelled', { reason: 'cost declined' });
          return;
        }
        run.status = 'running';
        run.waiting = null;
      }
      for (const step of plan.progress ?? []) {
        await pause();
        if (run.cancelled) return;
        this.#emit(run, 'tool_call_progress', { toolCallId, status: 'processing', ...step });
      }
      if (plan.hold && i === plan.jobs.length - 1) {
        await new Promise<void>((resolve) => {
          run.release = resolve;
        });
        run.release = undefined;
      }
      await pause();
      if (run.cancelled) return;
      if (i === failAt) {
        this.#emit(run, 'tool_call_resolved', { toolCallId, ok: false, jobError: plan.failureReason ?? 'the worker failed' });
        break;
      }
      // Charged when the job is done: confirmed (or unconfirmed, if the request allowed that) work only.
      run.charged += job.spark;
      this.charged.push({ runId: run.id, tool: job.tool, spark: job.spark });
      const kind = mediaTypeOf(job.tool);
      const url = plan.mediaUrls?.[i] ?? `${this.#origin()}/media/${run.id}-${i + 1}.${EXT[kind]}`;
      run.artifacts.push({ id: `art_${i + 1}`, url, mediaType: kind, modelKey: 'fake-model', modelDisplayName: 'Fake', toolName: job.tool });
      this.#emit(run, 'tool_call_resolved', { toolCallId, ok: true, mediaUrls: [url] });
    }
    run.finalResponse = { content: plan.text ?? 'Here you go.', finishReason: 'stop' };
    if (plan.outcome === 'failed') {
      run.failureReason = plan.failureReason ?? 'the worker failed';
      this.#end(run, 'failed', 'run_failed', { error: { message: run.failureReason } });
    } else if (plan.outcome === 'partial_failure') {
      run.failureReason = plan.failureReason ?? 'one job failed';
      this.#end(run, 'partial_failure', 'run_partial_failure', { error: { message: run.failureReason } });
    } else {
      this.#end(run, 'completed', 'run_completed', {});
    }
  }

  #end(run: FakeRun, status: string, type: string, payload: Record<string, unknown>): void {
    run.status = status;
    run.waiting = null;
    this.#emit(run, type, payload);
  }

  #awaitConfirmation(run: FakeRun, toolCallId: string, job: FakeJob): Promise<'confirm' | 'cancel'> {
    const price = run.plan.previewShape === 'usd' ? { estimatedCostUsd: job.spark * 0.005, currency: 'USD' } : { estimatedCost: { spark: job.spark, usd: job.spark * 0.005 } };
    const preview = {
      previewId: `prev_${run.id}_${toolCallId}`,
      toolCallId,
      toolName: job.tool,
      ...price,
      expiresAt: new Date(Date.now() + this.confirmationTtlMs).toISOString(),
    };
    run.status = 'waiting_for_user';
    run.waiting = { reason: 'cost_confirmation', message: 'Confirm the cost of this job.', details: { toolCallId, costApprovalPreview: preview } };
    return new Promise((resolve) => {
      run.pending = { toolCallId, preview, resolve };
      this.#emit(run, 'run_awaiting_cost_confirmation', run.plan.previewIn === 'run-only' ? { toolCallId } : { toolCallId, details: { costApprovalPreview: preview } });
    });
  }

  #confirm(run: FakeRun, body: Record<string, unknown>, json: (s: number, p: unknown) => void, error: (s: number, m: string, c: string) => void): void {
    const accepted = body['acceptedCostPreview'];
    const decision = body['decision'];
    if (accepted === undefined || accepted === null) {
      error(400, 'acceptedCostPreview is required', 'missing_cost_preview');
      return;
    }
    if (decision !== 'confirm' && decision !== 'cancel') {
      error(400, 'decision must be confirm or cancel', 'invalid_decision');
      return;
    }
    const pending = run.pending;
    if (!pending || run.status !== 'waiting_for_user' || (body['tool_call_id'] !== undefined && body['tool_call_id'] !== pending.toolCallId)) {
      error(409, 'This run is not waiting for that confirmation', 'no_pending_confirmation');
      return;
    }
    if (Date.parse(String(pending.preview['expiresAt'])) < Date.now()) {
      error(409, 'The cost confirmation expired', 'cost_confirmation_expired');
      return;
    }
    if (!isDeepStrictEqual(accepted, pending.preview)) {
      error(409, 'The cost preview changed', 'cost_preview_changed');
      return;
    }
    run.pending = undefined;
    pending.resolve(decision);
    json(200, { status: 'ok', data: { run: this.#view(run) } });
  }

  #cancel(run: FakeRun, reason: string): void {
    if (['completed', 'failed', 'partial_failure', 'cancelled'].includes(run.status)) return;
    run.cancelled = true;
    run.pending = undefined;
    run.release?.();
    this.#end(run, 'cancelled', 'run_cancelled', { reason });
  }

  #stream(run: FakeRun, after: number, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const drop = this.dropStreams && this.dropStreams.count > 0 ? this.dropStreams : undefined;
    if (drop) drop.count -= 1;
    let frames = 0;
    // Clients are told to skip these.
    res.write(`event: run_status\ndata: ${JSON.stringify({ status: run.status })}\n\n`);
    const send = (event: FakeRunEvent) => {
      if (res.destroyed) return;
      if (drop && frames >= drop.afterFrames) {
        run.listeners.delete(send);
        // Cut once the frames before it have left: destroy() alone drops writes still buffered,
        // and under load the client would see fewer frames than the test asked for.
        const socket = res.socket;
        if (socket) socket.write('', () => res.destroy());
        else res.destroy();
        return;
      }
      frames += 1;
      res.write(`id: ${event.sequence}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      if (TERMINAL.has(event.type)) {
        run.listeners.delete(send);
        res.end();
      }
    };
    for (const event of run.events) if (event.sequence > after) send(event);
    if (res.writableEnded || res.destroyed) return;
    run.listeners.add(send);
    res.on('close', () => run.listeners.delete(send));
  }
}

/** Everything a test counts as "media asked of Sogni": completions media calls and created runs, bodies in order. */
export function mediaRequests(sogni: { mediaCalls(): ChatCall[]; runs: FakeRuns }): Record<string, unknown>[] {
  return [...sogni.mediaCalls().map((c) => c.body), ...sogni.runs.created.map((r) => r.body)];
}
