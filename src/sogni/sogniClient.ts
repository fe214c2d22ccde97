import OpenAI, { APIUserAbortError } from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
} from 'openai/resources/chat/completions';
import type { FairQueue, Slot } from '../core/fairQueue.js';
import type { ChatMessage } from '../core/history.js';
import { SogniStreamDroppedError, SogniTimeoutError } from './errors.js';
import { retryHint } from './toFailure.js';
import { sleep } from '../core/sleep.js';
import { IdleWatchdog } from '../core/idleWatchdog.js';

export { SogniStreamDroppedError, SogniTimeoutError } from './errors.js';

/** Token counts Sogni reports at the end of a stream (`stream_options.include_usage`). */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface ChatDelta {
  content?: string;
  /** Reasoning that arrived outside the content (`reasoning_content`). */
  reasoning?: string;
  /** The model started calling this tool (sent once per call). */
  toolCall?: string;
}

/** A tool call the model made while streaming with `sogni_tool_execution: false`. */
export interface ToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

export type SogniToolsMode = boolean | 'none' | 'creative-tools' | 'creative-agent';

/** Sogni-only body fields; the SDK forwards them as they are. */
interface SogniChatFields {
  /** Sogni injects paid media tools unless told otherwise: every request says what it wants. */
  sogni_tools: SogniToolsMode;
  sogni_tool_execution?: boolean;
  token_type?: string;
  media_references?: { kind: 'image' | 'video' | 'audio'; url: string }[];
}

export interface StreamChatRequest {
  model: string;
  messages: ChatMessage[];
  /** Aborting stops the upstream request, so no more tokens are paid for. */
  signal: AbortSignal;
  /**
   * Offer Sogni's media tools without running them (`sogni_tool_execution: false`): a media
   * request comes back as a tool call for the bot to run through its spend-checked path.
   */
  offerMediaTools?: boolean;
  /** The output tokens the spend hold reserved: the answer may not cost more than was held. */
  maxTokens?: number;
  /** Who asked: people take turns for Sogni's shared rate limit. */
  userId: string;
  /** Called while the request waits its turn, with how many are ahead. */
  onWait?: (ahead: number) => void;
}

export interface StreamResult {
  usage?: Usage;
  finishReason?: string;
  toolCalls?: ToolCall[];
}

export interface MediaRequest {
  model: string;
  messages: ChatMessage[];
  /** An image to edit or vary: an HTTPS URL or a data URI. */
  reference?: string;
  tokenType: string;
  /** Make the model call this tool. */
  tool?: string;
  signal: AbortSignal;
  /** Who asked: people take turns for Sogni's shared rate limit. */
  userId: string;
  /** Called while the request waits its turn, with how many are ahead. */
  onWait?: (ahead: number) => void;
}

export interface SogniOptions {
  apiKey: string;
  baseURL: string;
  /** Longest silence (no bytes) tolerated from Sogni, in seconds. */
  timeoutSeconds: number;
  /** Longest a media request (non-streaming, tools run on Sogni's side) may take, in seconds. */
  mediaTimeoutSeconds?: number;
  /** Every request takes its turn here: the key's rate limit is shared by everyone. */
  queue: FairQueue;
  /** Longest a request keeps retrying after 429s before the user sees the rate-limit line, in ms. */
  maxRateLimitWaitMs?: number;
  /** What paid requests are paid with (TOKEN_TYPE), sent on chat requests too. */
  tokenType?: string;
  /** Where chat latency and time to first token are counted (the ops metrics). */
  metrics?: { sogniRequest(kind: 'chat', seconds: number, ok: boolean): void; sogniFirstToken(seconds: number): void } | undefined;
}

/** Sogni's limit is per key: 60 requests per 60 s (sogni-api.md). */
export const SOGNI_RATE_WINDOW_MS = 60_000;
/** A 429 is retried for this long in all before the user is told; a minute's window fits. */
export const MAX_RATE_LIMIT_WAIT_MS = 120_000;
/** A 429 without a Retry-After waits this long. */
const DEFAULT_RETRY_AFTER_MS = 5000;
/** A restarting server gets a moment before the one retry. */
const RESTART_RETRY_DELAY_MS = 1000;
/** GET /v1/models has no person behind it; it still counts against the key. */
const CATALOG_USER = 'bot:models';

/** How the retries of one request are going. */
interface RetryState {
  /** When the first 429 came back: the wait budget runs from here. */
  rateLimitedSince?: number;
  restartRetried?: boolean;
}

/** The bot's view of Sogni's OpenAI-compatible API, through the official openai SDK. */
export class Sogni {
  readonly #openai: OpenAI;
  readonly #timeoutSeconds: number;
  readonly #mediaTimeoutSeconds: number;
  readonly #queue: FairQueue;
  readonly #maxRateLimitWaitMs: number;
  readonly #tokenType: string | undefined;
  readonly #metrics: SogniOptions['metrics'];

  constructor({ apiKey, baseURL, timeoutSeconds, mediaTimeoutSeconds = 300, queue, maxRateLimitWaitMs = MAX_RATE_LIMIT_WAIT_MS, tokenType, metrics }: SogniOptions) {
    this.#tokenType = tokenType;
    this.#metrics = metrics;
    this.#timeoutSeconds = timeoutSeconds;
    this.#mediaTimeoutSeconds = mediaTimeoutSeconds;
    this.#queue = queue;
    this.#maxRateLimitWaitMs = maxRateLimitWaitMs;
    this.#openai = new OpenAI({
      apiKey,
      baseURL,
      timeout: timeoutSeconds * 1000,
      // Retries go through the shared queue (a 429 pauses everyone, not one request), so the
      // SDK's own per-request retries are off.
      maxRetries: 0,
      // The SDK would print unparsable stream chunks to the console; the bot logs failures itself.
      logLevel: 'off',
    });
  }

  /** The one line every request waits in (durable runs take their turns here too). */
  get queue(): FairQueue {
    return this.#queue;
  }

  get mediaTimeoutSeconds(): number {
    return this.#mediaTimeoutSeconds;
  }

  /**
   * Streams a chat completion. Waits for the person's turn first (reporting the wait through
   * `onWait`), then yields content and reasoning deltas as they arrive and returns the usage
   * and finish reason. A 429, a restart or a lost transport before any delta is retried
   * transparently (see #shouldRetry). Throws SogniTimeoutError when Sogni goes quiet for too
   * long, SogniStreamDroppedError when the stream ends without finishing, the SDK's APIError
   * for HTTP and in-stream errors; returns early, without error, when `signal` aborts.
   */
  async *streamChat(request: StreamChatRequest): AsyncGenerator<ChatDelta, StreamResult> {
    const { signal, userId, onWait } = request;
    let slot: Slot;
    try {
      slot = await this.#queue.enter(userId, { signal, onWait });
    } catch (err) {
      if (signal.aborted) return {};
      throw err;
    }
    const retries: RetryState = {};
    try {
      for (;;) {
        const progress = { yielded: false };
        try {
          return yield* this.#streamOnce(request, progress);
        } catch (err) {
          // Once the user saw part of an answer, a second one would not match it.
          if (progress.yielded || !(await this.#shouldRetry(err, retries, slot, signal, onWait))) throw err;
          if (signal.aborted) return {};
        }
      }
    } finally {
      slot.release();
    }
  }

  async *#streamOnce(
    { model, messages, signal, offerMediaTools = false, maxTokens }: StreamChatRequest,
    progress: { yielded: boolean },
  ): AsyncGenerator<ChatDelta, StreamResult> {
    const body: ChatCompletionCreateParamsStreaming & SogniChatFields = {
      model,
      messages,
      stream: true,
      stream_options: { include_usage: true },
      ...(maxTokens ? { max_tokens: maxTokens } : {}),
      ...(this.#tokenType ? { token_type: this.#tokenType } : {}),
      ...(offerMediaTools ? { sogni_tools: 'creative-tools', sogni_tool_execution: false } : { sogni_tools: false }),
    };
    const result: StreamResult = {};
    const calls: { name: string; args: string }[] = [];
    let streaming = false;
    const sentAt = Date.now();
    // The stream is given up after this long without a chunk.
    const idle = new IdleWatchdog(this.#timeoutSeconds * 1000);
    try {
      const stream = await this.#openai.chat.completions.create(body, { signal: AbortSignal.any([signal, idle.signal]) });
      streaming = true;
      for await (const chunk of stream as AsyncIterable<ChatCompletionChunk>) {
        idle.touch();
        if (chunk.usage) result.usage = toUsage(chunk.usage);
        const choice = chunk.choices?.[0];
        if (!choice) continue;
        if (choice.finish_reason) result.finishReason = choice.finish_reason;
        const delta = choice.delta as (typeof choice.delta & { reasoning_content?: unknown; reasoning?: unknown }) | undefined;
        const reasoning = delta?.reasoning_content ?? delta?.reasoning;
        const out: ChatDelta = {};
        if (typeof delta?.content === 'string' && delta.content) out.content = delta.content;
        if (typeof reasoning === 'string' && reasoning) out.reasoning = reasoning;
        for (const call of delta?.tool_calls ?? []) {
          const slot = (calls[call.index] ??= { name: '', args: '' });
          if (call.function?.name && !slot.name) {
            slot.name = call.function.name;
            out.toolCall = slot.name;
          }
          slot.args += call.function?.arguments ?? '';
        }
        if (out.content !== undefined || out.reasoning !== undefined || out.toolCall !== undefined) {
          if (!progress.yielded) this.#metrics?.sogniFirstToken((Date.now() - sentAt) / 1000);
          progress.yielded = true;
          yield out;
        }
      }
      if (calls.length > 0) result.toolCalls = calls.filter((c) => c.name).map((c) => ({ name: c.name, arguments: parseArgs(c.args) }));
    } catch (err) {
      if (idle.fired) throw new SogniTimeoutError(this.#timeoutSeconds);
      if (signal.aborted) return result;
      // undici reports a connection cut mid-body as a TypeError ("terminated").
      if (streaming && err instanceof TypeError) throw new SogniStreamDroppedError();
      throw err;
    } finally {
      idle.stop();
      this.#metrics?.sogniRequest('chat', (Date.now() - sentAt) / 1000, result.finishReason !== undefined);
    }
    // The SDK ends quietly when aborted; tell the two aborts apart.
    if (idle.fired) throw new SogniTimeoutError(this.#timeoutSeconds);
    if (signal.aborted) return result;
    if (!result.finishReason) throw new SogniStreamDroppedError();
    return result;
  }

  /**
   * Asks Sogni to make media with its creative tools, run on Sogni's side (non-streaming, as
   * the official client does), and returns the raw response for extractMedia.
   */
  async createMedia({ model, messages, reference, tokenType, tool, signal, userId, onWait }: MediaRequest): Promise<unknown> {
    const body: ChatCompletionCreateParamsNonStreaming & SogniChatFields = {
      model,
      messages,
      stream: false,
      sogni_tools: 'creative-tools',
      sogni_tool_execution: true,
      token_type: tokenType,
      ...(reference ? { media_references: [{ kind: 'image' as const, url: reference }] } : {}),
      ...(tool ? { tool_choice: { type: 'function' as const, function: { name: tool } } } : {}),
    };
    return this.#inTurn(userId, signal, onWait, () =>
      this.#openai.chat.completions.create(body, { signal, timeout: this.#mediaTimeoutSeconds * 1000 }),
    );
  }

  /** Model ids from GET /v1/models. */
  async listModels(signal: AbortSignal = new AbortController().signal): Promise<string[]> {
    return this.#inTurn(CATALOG_USER, signal, undefined, async () => {
      const ids: string[] = [];
      for await (const model of this.#openai.models.list({ signal })) ids.push(model.id);
      return ids;
    });
  }

  /** Runs one request in `userId`'s turn, sending it again after a 429 or a restart. */
  async #inTurn<T>(userId: string, signal: AbortSignal, onWait: ((ahead: number) => void) | undefined, send: () => Promise<T>): Promise<T> {
    let slot: Slot;
    try {
      slot = await this.#queue.enter(userId, { signal, onWait });
    } catch (err) {
      // The same error the SDK throws when aborted mid-request.
      if (signal.aborted) throw new APIUserAbortError();
      throw err;
    }
    const retries: RetryState = {};
    try {
      for (;;) {
        try {
          return await send();
        } catch (err) {
          if (!(await this.#shouldRetry(err, retries, slot, signal, onWait))) throw err;
          if (signal.aborted) throw new APIUserAbortError();
        }
      }
    } finally {
      slot.release();
    }
  }

  /**
   * Decides whether a failed send goes again, and waits for its turn to do so. A 429 pauses
   * the whole queue for its Retry-After (the limit is the key's, so everyone's next request
   * would get one too) while the total wait stays under the budget; a restart or a lost
   * transport is sent once more. False: surface the error. Returns true, without waiting,
   * when `signal` aborted meanwhile.
   */
  async #shouldRetry(err: unknown, state: RetryState, slot: Slot, signal: AbortSignal, onWait: ((ahead: number) => void) | undefined): Promise<boolean> {
    if (signal.aborted) return false;
    const hint = retryHint(err);
    if (!hint) return false;
    const now = Date.now();
    if (hint.kind === 'rate-limited') {
      state.rateLimitedSince ??= now;
      const waitMs = hint.afterSeconds !== undefined ? hint.afterSeconds * 1000 : DEFAULT_RETRY_AFTER_MS;
      // No point waiting for a turn that comes after the budget: the user hears now, with Sogni's wait.
      if (now + waitMs > state.rateLimitedSince + this.#maxRateLimitWaitMs) return false;
      this.#queue.pauseUntil(now + waitMs);
    } else {
      if (state.restartRetried) return false;
      state.restartRetried = true;
      await sleep(RESTART_RETRY_DELAY_MS, signal);
    }
    try {
      await slot.resend({ signal, onWait });
    } catch {
      if (!signal.aborted) return false;
    }
    return true;
  }
}

function toUsage(raw: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number }): Usage {
  const promptTokens = Number(raw.prompt_tokens ?? 0);
  const completionTokens = Number(raw.completion_tokens ?? 0);
  return { promptTokens, completionTokens, totalTokens: Number(raw.total_tokens ?? promptTokens + completionTokens) };
}

/** Tool arguments arrive as JSON text in pieces; a model can also write broken JSON. */
function parseArgs(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text || '{}');
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
