/** What went wrong with a request to Sogni, reduced to what the user line needs. */
export type UpstreamFailure =
  | {
      kind: 'http';
      status: number;
      /** `error.code` from Sogni's envelope (a string like `insufficient_balance` or a number like 4078). */
      code?: string | number | undefined;
      /** `error.type` from the envelope. */
      type?: string | undefined;
      message?: string | undefined;
      retryAfterSeconds?: number | undefined;
    }
  | { kind: 'timeout'; seconds: number }
  | { kind: 'connection' }
  /** The stream ended before the answer finished. */
  | { kind: 'dropped' }
  /** Sogni sent something that is not valid SSE/JSON. */
  | { kind: 'malformed' }
  | { kind: 'empty' }
  | { kind: 'unknown' };

const SUBSCRIPTION_CODES: Record<string, string> = {
  '4078': "the Sogni account behind this bot isn't entitled to this model or feature.",
  '4079': "Sogni's queue for this account's plan is full — try again in a minute.",
  '4080': "the Sogni subscription behind this bot is being renewed — try again shortly.",
  '4081': 'this needs a higher Sogni plan than the bot has.',
};

function has(failure: { code?: unknown; type?: unknown; message?: unknown }, ...words: string[]): boolean {
  // Stryker disable next-line StringLiteral: the '' fallbacks only keep "undefined" out of the text, and no searched word can match a placeholder
  const text = `${String(failure.code ?? '')} ${String(failure.type ?? '')} ${String(failure.message ?? '')}`.toLowerCase();
  return words.some((w) => text.includes(w));
}

/** Upstream text shown to a user is shortened and kept to one line. */
function shortDetail(message: string | undefined): string {
  if (!message) return '';
  const line = message.replace(/\s+/g, ' ').trim();
  return line.length > 160 ? `${line.slice(0, 157)}…` : line;
}

function formatWait(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.ceil(seconds))} s`;
  return `${Math.ceil(seconds / 60)} min`;
}

/**
 * One clear line for the user about a failed request. It names what happened and who
 * can fix it; it never includes keys, stack traces or raw bodies.
 */
export function describeFailure(failure: UpstreamFailure): string {
  return `⚠️ ${reason(failure)}`;
}

function reason(f: UpstreamFailure): string {
  switch (f.kind) {
    case 'timeout':
      return `Sogni didn't answer for ${f.seconds} s, so I stopped waiting. Try again in a moment.`;
    case 'connection':
      return "I couldn't reach Sogni. Try again in a moment.";
    case 'dropped':
      return 'The connection to Sogni dropped before the answer finished. Try again.';
    case 'malformed':
      return "Sogni sent a reply I couldn't read. Try again in a moment.";
    case 'empty':
      return 'The model finished without writing an answer. Try rephrasing.';
    case 'unknown':
      return 'Something went wrong while answering. Try again in a moment.';
    // Stryker disable next-line ConditionalExpression: an http failure that skipped this case would leave the switch all the same
    case 'http':
      break;
  }
  // Stryker disable next-line ConditionalExpression,StringLiteral: "undefined" or any placeholder matches no code below, like ''
  const code = f.code === undefined ? '' : String(f.code);
  const denied = f.status === 401 || f.status === 403;
  if (code === '4103' || (denied && has(f, 'consent'))) return "This model needs the account owner's consent on Sogni before the bot can use it.";
  if (denied) return "Sogni rejected the bot's API key. The bot's owner needs to check SOGNI_API_KEY.";
  const subscription = SUBSCRIPTION_CODES[code];
  if (subscription) return `Sogni says ${subscription}`;
  if (has(f, 'vendor_model_premium_required')) return 'This model needs a Premium Spark balance on the Sogni account.';
  if (f.status === 402 || has(f, 'insufficient_balance')) {
    if (has(f, 'subscription')) return "The Sogni subscription behind this bot can't be used right now. The bot's owner needs to check it.";
    return "The Sogni account behind this bot is out of credit. The bot's owner needs to top it up.";
  }
  if (f.status === 429) {
    return f.retryAfterSeconds !== undefined && f.retryAfterSeconds > 0
      ? `Sogni is rate-limiting the bot. Try again in ${formatWait(f.retryAfterSeconds)}.`
      : 'Sogni is rate-limiting the bot. Try again in a minute.';
  }
  if (f.status === 404) {
    return has(f, 'model') ? `Sogni doesn't know that model. Pick one from the list.` : 'Sogni could not find what was asked for.';
  }
  if (has(f, 'server_restarting', 'transport_lost')) return 'Sogni is restarting. Try again in a few seconds.';
  if (f.status === 0) {
    const detail = shortDetail(f.message);
    return detail ? `Sogni stopped the answer with an error: ${detail}` : 'Sogni stopped the answer with an error. Try again.';
  }
  if (f.status >= 500) {
    return `Sogni had a server error (${f.status}). Try again in a moment.`;
  }
  if (f.status === 400 || f.status === 413 || f.status === 422) {
    const detail = shortDetail(f.message);
    return detail ? `Sogni refused the request: ${detail}` : 'Sogni refused the request.';
  }
  return `Sogni answered with an error (${f.status}). Try again in a moment.`;
}
