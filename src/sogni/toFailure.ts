import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import type { UpstreamFailure } from '../core/describeFailure.js';
import { SogniStreamDroppedError, SogniTimeoutError } from './errors.js';

/** Reduces whatever the SDK or the stream threw to the facts the user line needs. */
export function toFailure(err: unknown, timeoutSeconds: number): UpstreamFailure {
  if (err instanceof SogniTimeoutError) return { kind: 'timeout', seconds: err.seconds };
  if (err instanceof APIConnectionTimeoutError) return { kind: 'timeout', seconds: timeoutSeconds };
  if (err instanceof SogniStreamDroppedError) return { kind: 'dropped' };
  if (err instanceof APIConnectionError) return { kind: 'connection' };
  if (err instanceof SyntaxError) return { kind: 'malformed' };
  if (err instanceof APIError) {
    const body = (typeof err.error === 'object' && err.error !== null ? err.error : {}) as Record<string, unknown>;
    const message = typeof body['message'] === 'string' ? body['message'] : undefined;
    const code = body['code'] ?? err.code;
    return {
      kind: 'http',
      // An error event inside an open stream has no HTTP status of its own.
      status: err.status ?? 0,
      code: typeof code === 'string' || typeof code === 'number' ? code : undefined,
      type: typeof body['type'] === 'string' ? body['type'] : undefined,
      message,
      retryAfterSeconds: retryAfter(err.headers, body),
    };
  }
  return { kind: 'unknown' };
}

/** A failure worth sending again, as long as nothing of the answer reached the user yet. */
export type RetryHint =
  /** Sogni's limit for the key: wait as told (unknown when Sogni did not say). */
  | { kind: 'rate-limited'; afterSeconds: number | undefined }
  /** Sogni restarted or lost the worker: safe to send once more. */
  | { kind: 'restarting' };

const RESTART_CODES = new Set(['server_restarting', 'transport_lost']);

export function retryHint(err: unknown): RetryHint | undefined {
  const failure = toFailure(err, 0);
  if (failure.kind !== 'http') return undefined;
  if (failure.status === 429) return { kind: 'rate-limited', afterSeconds: failure.retryAfterSeconds };
  if (RESTART_CODES.has(String(failure.code ?? '')) || RESTART_CODES.has(failure.type ?? '')) return { kind: 'restarting' };
  return undefined;
}

function retryAfter(headers: Headers | undefined, body: Record<string, unknown>): number | undefined {
  const ms = Number(headers?.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms / 1000;
  const header = headers?.get('retry-after');
  if (header) {
    const seconds = Number(header);
    if (Number.isFinite(seconds)) return seconds;
    const date = Date.parse(header);
    if (Number.isFinite(date)) return Math.max(0, (date - Date.now()) / 1000);
  }
  const fromBody = Number(body['retryAfter'] ?? body['retry_after']);
  return Number.isFinite(fromBody) && fromBody > 0 ? fromBody : undefined;
}
