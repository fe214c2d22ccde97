/** One stored turn of a channel's conversation. */
export interface Turn {
  role: 'user' | 'assistant';
  /** Display name of the person who spoke (user turns). */
  name?: string;
  content: string;
  /** Milliseconds since the epoch. */
  at: number;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** At most this many turns go upstream, newest kept. */
export const MAX_UPSTREAM_TURNS = 30;

/**
 * Characters of conversation sent upstream, system prompt included. About 12k tokens:
 * far inside the default model's ~264k context, so the answer (up to 32k tokens by
 * Sogni's default) always has room, and each request stays cheap.
 */
export const UPSTREAM_CHAR_BUDGET = 48_000;

/** How many turns a channel keeps in the store; older ones are dropped when appending. */
export const MAX_STORED_TURNS = 60;

export interface TrimLimits {
  maxTurns: number;
  charBudget: number;
}

const DEFAULT_LIMITS: TrimLimits = { maxTurns: MAX_UPSTREAM_TURNS, charBudget: UPSTREAM_CHAR_BUDGET };

/** The text a turn contributes upstream. User turns say who spoke. */
export function turnText(turn: Turn): string {
  return turn.role === 'user' && turn.name ? `${turn.name}: ${turn.content}` : turn.content;
}

export interface UpstreamConversation {
  messages: ChatMessage[];
  /** Turns left out because of the limits (oldest first). */
  dropped: number;
}

/**
 * Builds the messages sent upstream: the system prompt, never dropped, then as many of
 * the newest turns as fit both the turn count and the character budget. The newest turn
 * is always sent, shortened if it alone is over budget.
 */
export function buildUpstream(systemPrompt: string, turns: readonly Turn[], limits: TrimLimits = DEFAULT_LIMITS): UpstreamConversation {
  let budget = limits.charBudget - systemPrompt.length;
  const kept: ChatMessage[] = [];
  for (let i = turns.length - 1; i >= 0 && kept.length < limits.maxTurns; i--) {
    const turn = turns[i] as Turn;
    let text = turnText(turn);
    if (text.length > budget) {
      if (kept.length > 0) break;
      text = text.slice(0, Math.max(0, budget));
    }
    budget -= text.length;
    kept.push({ role: turn.role, content: text });
  }
  kept.reverse();
  const messages: ChatMessage[] = systemPrompt ? [{ role: 'system', content: systemPrompt }, ...kept] : kept;
  return { messages, dropped: turns.length - kept.length };
}

/** Appends turns and keeps only the newest `max` for storage. */
export function appendTurns(existing: readonly Turn[], added: readonly Turn[], max = MAX_STORED_TURNS): Turn[] {
  const all = [...existing, ...added];
  return all.length > max ? all.slice(all.length - max) : all;
}
