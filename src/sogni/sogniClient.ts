import OpenAI from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
} from 'openai/resources/chat/completions';
import type { ChatMessage } from '../core/history.js';

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
}

/** Thrown when Sogni sends nothing for longer than the idle timeout. */
export class SogniTimeoutError extends Error {
  constructor(readonly seconds: number) {
    super(`Sogni sent nothing for ${seconds} s`);
    this.name = 'SogniTimeoutError';
  }
}

/** Thrown when the stream ends without a finish reason: the connection dropped mid-answer. */
export class SogniStreamDroppedError extends Error {
  constructor() {
    super('The stream from Sogni ended before the answer finished');
    this.name = 'SogniStreamDroppedError';
  }
}

export interface SogniOptions {
  apiKey: string;
  baseURL: string;
  /** Longest silence (no bytes) tolerated from Sogni, in seconds. */
  timeoutSeconds: number;
  /** Longest a media request (non-streaming, tools run on Sogni's side) may take, in seconds. */
  mediaTimeoutSeconds?: number;
}

/** The bot's view of Sogni's OpenAI-compatible API, through the official openai SDK. */
export class Sogni {
  readonly #openai: OpenAI;
  readonly #timeoutSeconds: number;
  readonly #mediaTimeoutSeconds: number;

  constructor({ apiKey, baseURL, timeoutSeconds, mediaTimeoutSeconds = 300 }: SogniOptions) {
    this.#timeoutSeconds = timeoutSeconds;
    this.#mediaTimeoutSeconds = mediaTimeoutSeconds;
    this.#openai = new OpenAI({
      apiKey,
      baseURL,
      timeout: timeoutSeconds * 1000,
      // A chat user waits on this: fail fast with a clear line instead of silent retries
      // (a 429's Retry-After could otherwise hold the answer for a minute).
      maxRetries: 0,
      // The SDK would print unparsable stream chunks to the console; the bot logs failures itself.
      logLevel: 'off',
    });
  }

  get mediaTimeoutSeconds(): number {
    return this.#mediaTimeoutSeconds;
  }

  /**
   * Streams a chat completion. Yields content and reasoning deltas as they arrive and
   * returns the usage and finish reason. Throws SogniTimeoutError when Sogni goes quiet
   * for too long, SogniStreamDroppedError when the stream ends without finishing, the
   * SDK's APIError for HTTP and in-stream errors; returns early, without error, when
   * `signal` aborts.
   */
  async *streamChat({ model, messages, signal, offerMediaTools = false }: StreamChatRequest): AsyncGenerator<ChatDelta, StreamResult> {
    const idle = new AbortController();
    let timedOut = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        idle.abort();
      }, this.#timeoutSeconds * 1000);
    };
    const body: ChatCompletionCreateParamsStreaming & SogniChatFields = {
      model,
      messages,
      stream: true,
      stream_options: { include_usage: true },
      ...(offerMediaTools ? { sogni_tools: 'creative-tools', sogni_tool_execution: false } : { sogni_tools: false }),
    };
    const result: StreamResult = {};
    const calls: { name: string; args: string }[] = [];
    let streaming = false;
    arm();
    try {
      const stream = await this.#openai.chat.completions.create(body, { signal: AbortSignal.any([signal, idle.signal]) });
      streaming = true;
      for await (const chunk of stream as AsyncIterable<ChatCompletionChunk>) {
        arm();
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
        if (out.content !== undefined || out.reasoning !== undefined || out.toolCall !== undefined) yield out;
      }
      if (calls.length > 0) result.toolCalls = calls.filter((c) => c.name).map((c) => ({ name: c.name, arguments: parseArgs(c.args) }));
    } catch (err) {
      if (timedOut) throw new SogniTimeoutError(this.#timeoutSeconds);
      if (signal.aborted) return result;
      // undici reports a connection cut mid-body as a TypeError ("terminated").
      if (streaming && err instanceof TypeError) throw new SogniStreamDroppedError();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    // The SDK ends quietly when aborted; tell the two aborts apart.
    if (timedOut) throw new SogniTimeoutError(this.#timeoutSeconds);
    if (signal.aborted) return result;
    if (!result.finishReason) throw new SogniStreamDroppedError();
    return result;
  }

  /**
   * Asks Sogni to make media with its creative tools, run on Sogni's side (non-streaming, as
   * the official client does), and returns the raw response for extractMedia.
   */
  async createMedia({ model, messages, reference, tokenType, tool, signal }: MediaRequest): Promise<unknown> {
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
    return this.#openai.chat.completions.create(body, { signal, timeout: this.#mediaTimeoutSeconds * 1000 });
  }

  /** Model ids from GET /v1/models. */
  async listModels(signal?: AbortSignal): Promise<string[]> {
    const ids: string[] = [];
    for await (const model of this.#openai.models.list(signal ? { signal } : undefined)) ids.push(model.id);
    return ids;
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
