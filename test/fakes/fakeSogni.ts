import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { FakeRuns } from './fakeSogniRuns.js';
import { waitFor } from './waitFor.js';

/**
 * A fake of Sogni's OpenAI-compatible API on 127.0.0.1, following ../shared/docs/sogni-api.md:
 * SSE chat streams (`data: {...}` lines ending in `data: [DONE]`, usage in the last chunk
 * when `stream_options.include_usage` is set), the `{error:{message,type,code}}` envelope,
 * and GET /v1/models. Each test scripts what the next answers look like.
 */

export type Script =
  | {
      kind: 'stream';
      /** Content deltas, sent in order. */
      deltas: string[];
      /** Reasoning deltas sent first as `reasoning_content`. */
      reasoning?: string[];
      /** Pause between deltas, in ms. */
      intervalMs?: number;
      usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
      /** Close the connection after this many deltas, without finishing. */
      dropAfter?: number;
      /** Stop sending (but keep the connection open) after this many deltas. */
      stallAfter?: number;
      /** Send a line that is not JSON after this many deltas. */
      malformedAfter?: number;
      /** Send an in-stream error event after this many deltas. */
      errorAfter?: { deltas: number; error: { message: string; type?: string; code?: string | number } };
      /** Tool calls sent after the content (finish_reason `tool_calls`), as with `sogni_tool_execution: false`. */
      toolCalls?: { name: string; arguments: Record<string, unknown> }[];
    }
  | { kind: 'error'; status: number; body: unknown; headers?: Record<string, string> }
  /** A non-streaming JSON answer (hosted tool execution). */
  | { kind: 'json'; body: unknown; delayMs?: number };

export interface ChatCall {
  body: Record<string, unknown>;
  authorization: string | undefined;
  /** Deltas written before the request ended. */
  sent: number;
  /** True when the client closed the connection before the answer finished. */
  aborted: boolean;
  finished: boolean;
  /** When each content delta was written, and its text (the benchmark's arrival times). */
  deltaAt: number[];
  deltaText: string[];
}

/** A hosted-tool result the way Sogni shapes it: one generated image served by the fake itself. */
export function imageResult(mediaUrl: string, spark = 2.5, text = 'Here is your image.') {
  return {
    id: 'chatcmpl-media',
    object: 'chat.completion',
    created: 0,
    model: 'qwen3.6-35b-a3b-gguf-iq4xs',
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 300, completion_tokens: 40, total_tokens: 340 },
    sogni_tool_results: [
      {
        ok: true,
        tool: 'generate_image',
        status: 'completed',
        output_assets: [{ asset_id: 'a1', type: 'image', url: mediaUrl, width: 64, height: 64 }],
        estimated_cost: { spark, usd: spark * 0.005 },
      },
    ],
  };
}

export function words(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

export class FakeSogni {
  readonly apiKey: string;
  readonly calls: ChatCall[] = [];
  models = ['qwen3.6-35b-a3b-gguf-iq4xs', 'qwen3.5-35b-a3b-abliterated-gguf-q4km'];
  modelCalls = 0;
  /** Decides the answer to each streaming chat request; the default streams a fixed sentence. */
  script: (body: Record<string, unknown>, index: number) => Script = () => ({
    kind: 'stream',
    deltas: words('Hello from the fake Sogni.'),
  });
  /** Decides the answer to each media (non-streaming) request; the default makes one image. */
  mediaScript: (body: Record<string, unknown>, index: number) => Script = (_body, index) => ({
    kind: 'json',
    body: imageResult(`${this.origin}/media/result-${index + 1}.png`),
  });
  /**
   * Sogni's per-key rate limit, when a test sets one: every authorized POST
   * /v1/chat/completions in the last `windowMs` counts, refused ones too (the stricter
   * reading), and past `limit` the answer is 429 with a Retry-After.
   */
  rateLimit: { limit: number; windowMs: number } | undefined;
  /** Every authorized POST /v1/chat/completions: when it arrived and whether the rate limit (if any) let it in. */
  readonly arrivals: { at: number; accepted: boolean }[] = [];
  /** The PNG served for every /media/ URL. */
  mediaBytes: Buffer = Buffer.alloc(0);
  readonly mediaDownloads: string[] = [];
  /** /media/ paths answered with a 302 to another URL (a CDN that redirects). */
  readonly mediaRedirects = new Map<string, string>();
  /** Durable runs (/v1/chat/runs), in fakeSogniRuns.ts. */
  readonly runs = new FakeRuns(() => this.origin);
  readonly #server: Server;
  #port = 0;

  constructor(apiKey = 'sk-fake-sogni-key-for-tests') {
    this.apiKey = apiKey;
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  async start(): Promise<this> {
    this.mediaBytes = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#dd6622' } }).png().toBuffer();
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    this.#port = (this.#server.address() as AddressInfo).port;
    return this;
  }

  get baseUrl(): string {
    return `${this.origin}/v1`;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Streaming chat requests. */
  chatCalls(): ChatCall[] {
    return this.calls.filter((c) => c.body['stream'] === true);
  }

  /** Media requests (non-streaming, hosted tool execution). */
  mediaCalls(): ChatCall[] {
    return this.calls.filter((c) => c.body['stream'] !== true);
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Every answer, in order, follows these scripts (the last one repeats). */
  answerWith(...scripts: Script[]): void {
    this.script = (_body, index) => scripts[Math.min(index, scripts.length - 1)] as Script;
  }

  waitFor<T>(predicate: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
    return waitFor(predicate, timeoutMs, 'FakeSogni.waitFor');
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${this.#port}`);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method === 'GET' && url.pathname.startsWith('/media/')) {
      // Generated files are public links, like Sogni's CDN.
      this.mediaDownloads.push(url.pathname);
      const location = this.mediaRedirects.get(url.pathname);
      if (location) {
        res.writeHead(302, { location }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(this.mediaBytes.length) });
      res.end(this.mediaBytes);
      return;
    }
    const authorized = req.headers.authorization === `Bearer ${this.apiKey}`;
    const json = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(payload));
    };
    if (!authorized) {
      json(401, { error: { message: 'Invalid API key', type: 'authentication_error', code: 'invalid_api_key' } });
      return;
    }
    if (req.method === 'GET' && url.pathname === '/v1/models') {
      this.modelCalls += 1;
      json(200, { object: 'list', data: this.models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'sogni' })) });
      return;
    }
    if (await this.runs.handle(req, url, Buffer.concat(chunks), res)) return;
    if (req.method !== 'POST' || url.pathname !== '/v1/chat/completions') {
      json(404, { error: { message: 'Not found', type: 'not_found_error', code: 'not_found' } });
      return;
    }
    const limited = this.#rateLimited();
    if (limited) {
      json(429, { error: { message: 'Rate limit exceeded. Slow down.', type: 'rate_limit_error', code: 'rate_limit_exceeded' } }, limited);
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    const call: ChatCall = { body, authorization: req.headers.authorization, sent: 0, aborted: false, finished: false, deltaAt: [], deltaText: [] };
    const streaming = body['stream'] === true;
    const index = streaming ? this.chatCalls().length : this.mediaCalls().length;
    this.calls.push(call);
    const script = streaming ? this.script(body, index) : this.mediaScript(body, index);
    if (script.kind === 'json') {
      if (script.delayMs) await new Promise((r) => setTimeout(r, script.delayMs));
      json(200, script.body);
      call.finished = true;
      return;
    }
    if (script.kind === 'error') {
      json(script.status, script.body, script.headers);
      call.finished = true;
      return;
    }
    await this.#stream(script, body, call, res);
  }

  /** Records an arrival; the headers of a 429 when it is over the limit. */
  #rateLimited(): Record<string, string> | undefined {
    const now = Date.now();
    if (!this.rateLimit) {
      this.arrivals.push({ at: now, accepted: true });
      return undefined;
    }
    const { limit, windowMs } = this.rateLimit;
    const recent = this.arrivals.filter((a) => now - a.at < windowMs).map((a) => a.at);
    const accepted = recent.length < limit;
    this.arrivals.push({ at: now, accepted });
    if (accepted) return undefined;
    // The next request gets in once all but limit - 1 of these (this one included) have left the window.
    recent.push(now);
    const freeAt = (recent[recent.length - limit] as number) + windowMs;
    return { 'retry-after': String(Math.max(1, Math.ceil((freeAt - now) / 1000))) };
  }

  async #stream(script: Extract<Script, { kind: 'stream' }>, body: Record<string, unknown>, call: ChatCall, res: ServerResponse) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.on('close', () => {
      if (!call.finished) call.aborted = true;
    });
    const id = `chatcmpl-${Date.now()}`;
    const model = typeof body['model'] === 'string' ? body['model'] : 'qwen3.6-35b-a3b-gguf-iq4xs';
    const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
    const interval = script.intervalMs ?? 5;
    const pause = () => new Promise((r) => setTimeout(r, interval));
    const alive = () => !res.destroyed && !call.aborted;

    res.write(chunk({ role: 'assistant', content: '' }));
    for (const r of script.reasoning ?? []) {
      if (!alive()) return;
      res.write(chunk({ reasoning_content: r }));
      await pause();
    }
    for (const [i, delta] of script.deltas.entries()) {
      if (!alive()) return;
      if (script.dropAfter === i) {
        res.destroy();
        return;
      }
      if (script.stallAfter === i) return; // keep the connection open, send nothing more
      if (script.malformedAfter === i) res.write('data: {this is not json\n\n');
      if (script.errorAfter?.deltas === i) {
        res.write(`data: ${JSON.stringify({ error: script.errorAfter.error })}\n\n`);
        call.finished = true;
        res.end();
        return;
      }
      res.write(chunk({ content: delta }));
      call.sent += 1;
      call.deltaAt.push(Date.now());
      call.deltaText.push(delta);
      await pause();
    }
    if (!alive()) return;
    for (const [i, call] of (script.toolCalls ?? []).entries()) {
      const args = JSON.stringify(call.arguments);
      const half = Math.floor(args.length / 2);
      // Arguments arrive in pieces, as they do from real servers.
      res.write(chunk({ tool_calls: [{ index: i, id: `call_${i}`, type: 'function', function: { name: call.name, arguments: args.slice(0, half) } }] }));
      res.write(chunk({ tool_calls: [{ index: i, function: { arguments: args.slice(half) } }] }));
    }
    res.write(chunk({}, script.toolCalls?.length ? 'tool_calls' : 'stop'));
    const includeUsage = (body['stream_options'] as { include_usage?: boolean } | undefined)?.include_usage;
    if (includeUsage) {
      const usage = script.usage ?? { prompt_tokens: 42, completion_tokens: script.deltas.length, total_tokens: 42 + script.deltas.length };
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 0, model, choices: [], usage })}\n\n`);
    }
    res.write('data: [DONE]\n\n');
    call.finished = true;
    res.end();
  }
}
