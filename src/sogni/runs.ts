import type { UpstreamFailure } from '../core/describeFailure.js';
import { IdleWatchdog } from '../core/idleWatchdog.js';
import type { FairQueue, Slot } from '../core/fairQueue.js';
import type { ChatMessage } from '../core/history.js';
import { reportedRunSpark } from '../core/runCost.js';
import { toFraction, type RunProgress } from '../core/runProgress.js';
import { kindFrom, type MediaItem } from './extractMedia.js';
import { sleep } from '../core/sleep.js';

/**
 * Sogni's durable runs (`/v1/chat/runs`, see sogni-api.md) over plain fetch: the openai SDK
 * does not speak them. A run is created once (an Idempotency-Key makes a retry find the same
 * run), outlives the connection that started it, and reports what it does as numbered
 * events: an SSE stream resumed with Last-Event-ID after a drop, or polling when the stream
 * is unavailable. Every request takes its turn in the bot's one fair queue, in the name of
 * the person the run is for. Strict in what it sends, liberal in what it reads.
 */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const pick = (o: Obj | undefined, ...keys: string[]): unknown => {
  if (!o) return undefined;
  for (const k of keys) if (o[k] !== undefined && o[k] !== null) return o[k];
  return undefined;
};
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
};
const HTTP_URL = /^https?:\/\/[^\s"'<>]+$/;

export const TERMINAL_EVENTS = new Set(['run_completed', 'run_failed', 'run_partial_failure', 'run_cancelled']);
const TERMINAL_STATUS_EVENT: Record<string, string> = {
  completed: 'run_completed',
  failed: 'run_failed',
  partial_failure: 'run_partial_failure',
  cancelled: 'run_cancelled',
  canceled: 'run_cancelled',
};

/** A run record (`GET /v1/chat/runs/:id`), reduced to what the bot uses. */
export interface RunState {
  runId: string;
  /** queued | running | waiting_for_user | completed | partial_failure | failed | cancelled */
  status: string;
  text: string;
  media: MediaItem[];
  waiting?: { reason?: string; message?: string; details: Obj };
  failureReason?: string;
  /** What the run says it cost in all, if it says. */
  reportedSpark?: number;
  raw: Obj;
}

export interface RunEvent {
  sequence: number;
  type: string;
  payload: Obj;
}

/** What a run is asked to do. Every run asks before any paid job: `confirm_cost` and a 0 USD threshold. */
export interface CreateRunBody {
  messages: ChatMessage[];
  model: string;
  tool_choice?: { type: 'function'; function: { name: string } };
  media_references?: { kind: 'image' | 'video' | 'audio'; url: string }[];
  confirm_cost: true;
  runtime_config: { requireJobConfirmation: true; jobConfirmationThresholdUsd: number };
  token_type: string;
  client_message_id?: string;
  app_source?: string;
}

/** A cost the run asks to confirm, with the preview to copy back unchanged. */
export interface CostRequest {
  preview: unknown;
  toolCallId?: string;
  toolName?: string;
}

/** An HTTP answer from the runs API that was not a success, reduced to facts. */
export class RunsError extends Error {
  readonly status: number;
  readonly failure: UpstreamFailure;

  constructor(status: number, failure: UpstreamFailure) {
    super(`Sogni runs API answered ${status}${failure.kind === 'http' && failure.message ? `: ${failure.message}` : ''}`);
    this.name = 'RunsError';
    this.status = status;
    this.failure = failure;
  }
}

/** What a failed runs request means for the user line. */
export function runsFailure(err: unknown): UpstreamFailure {
  if (err instanceof RunsError) return err.failure;
  if (err instanceof Error && err.name === 'TimeoutError') return { kind: 'timeout', seconds: 0 };
  if (err instanceof TypeError) return { kind: 'connection' };
  if (err instanceof SyntaxError) return { kind: 'malformed' };
  return { kind: 'unknown' };
}

function unwrap(json: unknown): Obj {
  let root = isObj(json) ? json : {};
  if (isObj(root['data'])) root = root['data'];
  return root;
}

function mediaOf(root: Obj): MediaItem[] {
  const out: MediaItem[] = [];
  const add = (url: unknown, type: unknown) => {
    if (typeof url === 'string' && HTTP_URL.test(url) && !out.some((m) => m.url === url)) out.push({ url, kind: kindFrom(type, url) });
  };
  const artifacts = pick(root, 'artifacts', 'outputAssets', 'output_assets');
  for (const a of Array.isArray(artifacts) ? artifacts : []) {
    if (isObj(a)) add(pick(a, 'url', 'uri', 'href'), pick(a, 'mediaType', 'media_type', 'type', 'kind'));
  }
  const urls = pick(root, 'mediaUrls', 'media_urls');
  for (const m of Array.isArray(urls) ? urls : []) {
    if (typeof m === 'string') add(m, undefined);
    else if (isObj(m)) add(m['url'], pick(m, 'mediaType', 'media_type', 'type'));
  }
  return out;
}

/** Reads a run record, wrapped in `{data: {run}}`, `{data}`, `{run}` or bare. */
export function parseRun(json: unknown): RunState {
  let root = unwrap(json);
  if (isObj(root['run'])) root = root['run'];
  const final = pick(root, 'finalResponse', 'final_response');
  const waiting = pick(root, 'waiting', 'waitingFor', 'waiting_for');
  const failure = pick(root, 'failureReason', 'failure_reason', 'error');
  const run: RunState = {
    runId: str(pick(root, 'runId', 'run_id', 'id')) ?? '',
    status: (str(pick(root, 'status', 'state')) ?? '').toLowerCase(),
    text: (isObj(final) ? str(final['content']) : str(final)) ?? '',
    media: mediaOf(root),
    raw: root,
  };
  if (isObj(waiting)) {
    const details = pick(waiting, 'details', 'detail');
    run.waiting = {
      ...(str(waiting['reason']) ? { reason: str(waiting['reason']) as string } : {}),
      ...(str(waiting['message']) ? { message: str(waiting['message']) as string } : {}),
      details: isObj(details) ? details : {},
    };
  }
  const why = isObj(failure) ? str(pick(failure, 'message', 'reason')) : str(failure);
  if (why) run.failureReason = why;
  const reported = reportedRunSpark(root);
  if (reported !== undefined) run.reportedSpark = reported;
  return run;
}

/** Reads one event (`{sequence, type, at, payload}`), taking the SSE frame's name and id when the data lacks them. */
export function parseEvent(json: unknown, frameType?: string, frameId?: string): RunEvent | undefined {
  if (!isObj(json)) return undefined;
  const root = json['sequence'] === undefined && json['seq'] === undefined && isObj(json['data']) ? json['data'] : json;
  const sequence = num(pick(root, 'sequence', 'seq', 'sequenceNumber', 'sequence_number')) ?? num(frameId) ?? num(root['id']);
  const type = str(pick(root, 'type', 'event', 'eventType', 'event_type')) ?? frameType;
  if (sequence === undefined || !type) return undefined;
  const payload = pick(root, 'payload', 'data');
  return { sequence, type, payload: isObj(payload) ? payload : {} };
}

function eventsOf(json: unknown): RunEvent[] {
  const root = isObj(json) && Array.isArray(json['data']) ? { events: json['data'] } : unwrap(json);
  const list = Array.isArray(json) ? json : pick(root, 'events', 'items', 'results');
  const events = (Array.isArray(list) ? list : []).map((e) => parseEvent(e)).filter((e): e is RunEvent => e !== undefined);
  return events.sort((a, b) => a.sequence - b.sequence);
}

/** A `tool_call_progress` payload as the status shows it. */
export function readProgress(payload: Obj): RunProgress {
  const out: RunProgress = {};
  const progress = toFraction(pick(payload, 'progress', 'jobProgress', 'job_progress'));
  const eta = num(pick(payload, 'etaSeconds', 'eta_seconds', 'jobEtaSeconds', 'job_eta_seconds', 'eta'));
  const label = str(pick(payload, 'stepLabel', 'step_label', 'jobLabel', 'job_label'));
  const preview = str(pick(payload, 'resultUrl', 'result_url', 'previewUrl', 'preview_url'));
  if (progress !== undefined) out.progress = progress;
  if (eta !== undefined && eta >= 0) out.etaSeconds = eta;
  if (label) out.stepLabel = label;
  if (preview && HTTP_URL.test(preview)) {
    out.previewUrl = preview;
    out.previewIsVideo = pick(payload, 'isVideoResult', 'is_video_result') === true || kindFrom(undefined, preview) === 'video';
  }
  return out;
}

/** The cost a run waits to have confirmed: in the event, or in the run's `waiting.details`. */
export function findCostRequest(...sources: unknown[]): CostRequest | undefined {
  for (const source of sources) {
    if (!isObj(source)) continue;
    const details = pick(source, 'details', 'detail');
    const waiting = pick(source, 'waiting');
    const waitingDetails = isObj(waiting) ? pick(waiting, 'details', 'detail') : undefined;
    for (const holder of [source, details, waitingDetails]) {
      if (!isObj(holder)) continue;
      const preview = pick(holder, 'costApprovalPreview', 'cost_approval_preview', 'costPreview', 'cost_preview');
      if (preview === undefined) continue;
      const previewObj = isObj(preview) ? preview : undefined;
      const toolCallId = str(pick(previewObj, 'toolCallId', 'tool_call_id')) ?? str(pick(holder, 'toolCallId', 'tool_call_id')) ?? str(pick(source, 'toolCallId', 'tool_call_id'));
      const toolName = str(pick(previewObj, 'toolName', 'tool_name', 'tool')) ?? str(pick(holder, 'toolName', 'tool_name')) ?? str(pick(source, 'toolName', 'tool_name'));
      return { preview, ...(toolCallId ? { toolCallId } : {}), ...(toolName ? { toolName } : {}) };
    }
  }
  return undefined;
}

function failureFrom(status: number, body: unknown, headers: Headers): UpstreamFailure {
  const envelope = isObj(body) && isObj(body['error']) ? body['error'] : isObj(body) ? body : {};
  const code = pick(envelope, 'code');
  const seconds = Number(headers.get('retry-after') ?? pick(envelope, 'retryAfter', 'retry_after'));
  return {
    kind: 'http',
    status,
    code: typeof code === 'string' || typeof code === 'number' ? code : undefined,
    type: str(envelope['type']),
    message: str(envelope['message']),
    retryAfterSeconds: Number.isFinite(seconds) && seconds > 0 ? seconds : undefined,
  };
}

export interface SogniRunsOptions {
  apiKey: string;
  /** Sogni's OpenAI-compatible base (`https://api.sogni.ai/v1`). */
  baseURL: string;
  /** The same queue as every other request: the key's rate limit is shared. */
  queue: FairQueue;
  /** Longest a request, or silence on the event stream, may last, in seconds. */
  timeoutSeconds: number;
  /** Between polls when the stream is unavailable. Every poll costs a request of the key's budget. */
  pollMs?: number;
  /** Longest a request keeps retrying after 429s, in ms. */
  maxRateLimitWaitMs?: number;
}

/** Polls every 3 s: one running run then costs 20 of the key's 60 requests a minute, and only while the stream is down. */
const DEFAULT_POLL_MS = 3000;
/** After this many stream failures in a row, poll instead. */
const MAX_STREAM_FAILURES = 3;
/** Polls between two tries of the stream again. */
const POLLS_BEFORE_STREAM_RETRY = 10;
/** Quiet polls between two looks at the run's status (a run may end without an event we can read). */
const QUIET_POLLS_BEFORE_STATUS = 3;
const DEFAULT_RETRY_AFTER_MS = 5000;

export class SogniRuns {
  readonly #options: Required<SogniRunsOptions>;

  constructor(options: SogniRunsOptions) {
    this.#options = { pollMs: DEFAULT_POLL_MS, maxRateLimitWaitMs: 120_000, ...options, baseURL: options.baseURL.replace(/\/+$/, '') };
  }

  /**
   * Waits for `userId`'s turn in the fair queue and holds a place in flight for the whole
   * job; every request of the session takes a send token from the queue.
   */
  async open(userId: string, options: { signal: AbortSignal; onWait?: (ahead: number) => void }): Promise<RunSession> {
    const slot = await this.#options.queue.enter(userId, { signal: options.signal, onWait: options.onWait });
    return new RunSession(slot, this.#options);
  }
}

/** One job's place in the queue and the requests it makes. Close it when the job ends. */
export class RunSession {
  readonly #slot: Slot;
  readonly #options: Required<SogniRunsOptions>;
  /** The token that came with the place in the queue is used by the first request. */
  #fresh = true;

  constructor(slot: Slot, options: Required<SogniRunsOptions>) {
    this.#slot = slot;
    this.#options = options;
  }

  close(): void {
    this.#slot.release();
  }

  /** Creates the run, or finds the one an earlier attempt with the same key created. */
  async create(body: CreateRunBody, idempotencyKey: string, signal: AbortSignal): Promise<{ run: RunState; idempotent: boolean }> {
    const json = await this.#json('POST', '/chat/runs', signal, { body, headers: { 'idempotency-key': idempotencyKey } });
    const data = unwrap(json);
    return { run: parseRun(json), idempotent: data['idempotent'] === true };
  }

  async get(runId: string, signal: AbortSignal): Promise<RunState> {
    return parseRun(await this.#json('GET', `/chat/runs/${encodeURIComponent(runId)}`, signal));
  }

  async events(runId: string, after: number, signal: AbortSignal): Promise<RunEvent[]> {
    return eventsOf(await this.#json('GET', `/chat/runs/${encodeURIComponent(runId)}/events?after=${after}`, signal));
  }

  /**
   * Confirms or declines a priced job, copying the preview back unchanged. 'conflict': Sogni
   * refused it with 409 (the preview expired or changed, or the run moved on).
   */
  async confirmCost(
    runId: string,
    decision: { toolCallId?: string; decision: 'confirm' | 'cancel'; preview: unknown },
    signal: AbortSignal,
  ): Promise<'ok' | 'conflict'> {
    try {
      await this.#json('POST', `/chat/runs/${encodeURIComponent(runId)}/confirm-cost`, signal, {
        body: {
          ...(decision.toolCallId ? { tool_call_id: decision.toolCallId } : {}),
          decision: decision.decision,
          acceptedCostPreview: decision.preview,
        },
      });
      return 'ok';
    } catch (err) {
      if (err instanceof RunsError && err.status === 409) return 'conflict';
      throw err;
    }
  }

  /** Asks Sogni to stop the run. A run that already ended is left as it is. */
  async cancel(runId: string, reason: string, signal: AbortSignal): Promise<void> {
    try {
      await this.#json('POST', `/chat/runs/${encodeURIComponent(runId)}/cancel`, signal, { body: { reason } });
    } catch (err) {
      if (err instanceof RunsError && (err.status === 409 || err.status === 404)) return;
      throw err;
    }
  }

  /**
   * The run's events after `after`, in order and each once, until a terminal one: from the
   * SSE stream, resumed with Last-Event-ID after a drop; by polling when the stream fails
   * again and again (trying it again now and then). Returns quietly when `signal` aborts.
   */
  async *follow(runId: string, after: number, signal: AbortSignal): AsyncGenerator<RunEvent> {
    let last = after;
    let streamFailures = 0;
    let polls = 0;
    let quiet = 0;
    while (!signal.aborted) {
      if (streamFailures < MAX_STREAM_FAILURES) {
        try {
          for await (const event of this.#stream(runId, last, signal)) {
            // A resumed stream may replay what was already seen.
            if (event.sequence <= last) continue;
            last = event.sequence;
            streamFailures = 0;
            yield event;
            if (TERMINAL_EVENTS.has(event.type)) return;
          }
          streamFailures += 1;
        } catch (err) {
          if (signal.aborted) return;
          if (err instanceof RunsError && (err.status === 401 || err.status === 403)) throw err;
          // No stream on this server: poll from now on (and try it again later).
          streamFailures = err instanceof RunsError && [404, 405, 406, 501].includes(err.status) ? MAX_STREAM_FAILURES : streamFailures + 1;
        }
        await sleep(Math.min(2000, 250 * streamFailures), signal);
        continue;
      }
      const events = await this.events(runId, last, signal);
      polls += 1;
      quiet = events.length === 0 ? quiet + 1 : 0;
      for (const event of events) {
        if (event.sequence <= last) continue;
        last = event.sequence;
        yield event;
        if (TERMINAL_EVENTS.has(event.type)) return;
      }
      if (quiet >= QUIET_POLLS_BEFORE_STATUS) {
        quiet = 0;
        const run = await this.get(runId, signal);
        const ended = TERMINAL_STATUS_EVENT[run.status];
        if (ended) {
          yield { sequence: last, type: ended, payload: {} };
          return;
        }
      }
      if (polls % POLLS_BEFORE_STREAM_RETRY === 0) streamFailures = MAX_STREAM_FAILURES - 1;
      await sleep(this.#options.pollMs, signal);
    }
  }

  /** One connection to the event stream; ends when the server closes it. */
  async *#stream(runId: string, after: number, signal: AbortSignal): AsyncGenerator<RunEvent> {
    const idle = new IdleWatchdog(this.#options.timeoutSeconds * 1000, new Error('the event stream went quiet'));
    const both = AbortSignal.any([signal, idle.signal]);
    try {
      const response = await this.#send('GET', `/chat/runs/${encodeURIComponent(runId)}/events/stream`, both, {
        headers: { accept: 'text/event-stream', ...(after > 0 ? { 'last-event-id': String(after) } : {}) },
        stream: true,
      });
      const body = response.body;
      if (!body) return;
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of body as AsyncIterable<Uint8Array>) {
        idle.touch();
        buffer += decoder.decode(chunk, { stream: true });
        let end: RegExpExecArray | null;
        while ((end = /\r?\n\r?\n/.exec(buffer))) {
          const frame = buffer.slice(0, end.index);
          buffer = buffer.slice(end.index + end[0].length);
          const event = parseFrame(frame);
          if (event) yield event;
        }
      }
    } catch (err) {
      // Our own idle timeout is a drop like any other; the caller resumes.
      if (idle.fired && !signal.aborted) return;
      throw err;
    } finally {
      idle.stop();
    }
  }

  async #json(method: string, path: string, signal: AbortSignal, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<unknown> {
    const timeout = AbortSignal.timeout(this.#options.timeoutSeconds * 1000);
    const response = await this.#send(method, path, AbortSignal.any([signal, timeout]), options);
    const text = await response.text();
    return text ? (JSON.parse(text) as unknown) : {};
  }

  /**
   * Sends one request in this job's turn, again after a 429 (the whole queue pauses: the
   * limit is the key's) or a restart, and returns a successful response.
   */
  async #send(
    method: string,
    path: string,
    signal: AbortSignal,
    options: { body?: unknown; headers?: Record<string, string>; stream?: boolean },
  ): Promise<Response> {
    let rateLimitedSince: number | undefined;
    let retried = false;
    for (;;) {
      await this.#turn(signal);
      let response: Response;
      try {
        response = await fetch(`${this.#options.baseURL}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${this.#options.apiKey}`,
            ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...options.headers,
          },
          ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
          signal,
        });
      } catch (err) {
        // A lost connection: every request here is safe to send again (reads, keyed creates, decisions).
        if (signal.aborted || retried) throw err;
        retried = true;
        await sleep(1000, signal);
        continue;
      }
      if (response.ok) return response;
      const text = await response.text().catch(() => '');
      let body: unknown = {};
      try {
        body = text ? JSON.parse(text) : {};
      } catch {
        body = { error: { message: text.slice(0, 200) } };
      }
      const failure = failureFrom(response.status, body, response.headers);
      const now = Date.now();
      if (response.status === 429) {
        rateLimitedSince ??= now;
        const waitMs = failure.kind === 'http' && failure.retryAfterSeconds !== undefined ? failure.retryAfterSeconds * 1000 : DEFAULT_RETRY_AFTER_MS;
        if (now + waitMs <= rateLimitedSince + this.#options.maxRateLimitWaitMs) {
          this.#options.queue.pauseUntil(now + waitMs);
          continue;
        }
      }
      const restarting = failure.kind === 'http' && /server_restarting|transport_lost/.test(`${String(failure.code ?? '')} ${failure.type ?? ''}`);
      if ((restarting || response.status === 502 || response.status === 503) && !retried) {
        retried = true;
        await sleep(1000, signal);
        continue;
      }
      throw new RunsError(response.status, failure);
    }
  }

  async #turn(signal: AbortSignal): Promise<void> {
    if (this.#fresh) {
      this.#fresh = false;
      return;
    }
    await this.#slot.resend({ signal });
  }
}

/** One SSE frame: `event:`, `data:` (possibly several lines) and `id:`; `run_status` frames are skipped. */
function parseFrame(frame: string): RunEvent | undefined {
  let type: string | undefined;
  let id: string | undefined;
  const data: string[] = [];
  for (const line of frame.split(/\r?\n/)) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
  if (type === 'run_status' || data.length === 0) return undefined;
  try {
    return parseEvent(JSON.parse(data.join('\n')), type, id);
  } catch {
    return undefined;
  }
}

