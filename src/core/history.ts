/** An image kept with its turn; `dataUri` is dropped once it ages out, leaving a placeholder. */
export interface TurnImage {
  name: string;
  dataUri?: string;
}

/** One stored turn of a channel's conversation. */
export interface Turn {
  role: 'user' | 'assistant';
  /** Display name of the person who spoke (user turns). */
  name?: string;
  content: string;
  /** Milliseconds since the epoch. */
  at: number;
  images?: TurnImage[];
}

export type ContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'assistant'; content: string }
  | { role: 'user'; content: string | ContentPart[] };

/** At most this many turns go upstream, newest kept. */
export const MAX_UPSTREAM_TURNS = 30;

/**
 * Characters of conversation sent upstream, system prompt included. About 40k tokens:
 * room for a few attached text files, yet far inside the default model's ~264k context,
 * so the answer (up to 32k tokens by Sogni's default) always has room.
 */
export const UPSTREAM_CHAR_BUDGET = 160_000;

/** Sogni accepts at most 20 images per request. */
export const MAX_UPSTREAM_IMAGES = 20;

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

export function imagePlaceholder(image: TurnImage): string {
  return `[image: ${image.name}]`;
}

export interface UpstreamConversation {
  messages: ChatMessage[];
  /** Turns left out because of the limits (oldest first). */
  dropped: number;
}

/**
 * Builds the messages sent upstream: the system prompt, never dropped, then as many of
 * the newest turns as fit both the turn count and the character budget. The newest turn
 * is always sent, shortened if it alone is over budget. Images kept with user turns go as
 * `image_url` parts, newest first, up to Sogni's 20; the rest become placeholders.
 */
export function buildUpstream(systemPrompt: string, turns: readonly Turn[], limits: TrimLimits = DEFAULT_LIMITS): UpstreamConversation {
  let budget = limits.charBudget - systemPrompt.length;
  let imageBudget = MAX_UPSTREAM_IMAGES;
  const kept: ChatMessage[] = [];
  for (let i = turns.length - 1; i >= 0 && kept.length < limits.maxTurns; i--) {
    const turn = turns[i] as Turn;
    const images = turn.role === 'user' ? (turn.images ?? []) : [];
    const sendable = images.filter((img) => img.dataUri).slice(0, imageBudget);
    const placeholders = images.filter((img) => !sendable.includes(img)).map(imagePlaceholder);
    let text = [turnText(turn), ...placeholders].filter(Boolean).join('\n');
    if (text.length > budget) {
      if (kept.length > 0) break;
      text = text.slice(0, Math.max(0, budget));
    }
    budget -= text.length;
    imageBudget -= sendable.length;
    if (turn.role === 'assistant') {
      kept.push({ role: 'assistant', content: text });
    } else if (sendable.length === 0) {
      kept.push({ role: 'user', content: text });
    } else {
      kept.push({
        role: 'user',
        content: [
          { type: 'text', text },
          ...sendable.map((img): ContentPart => ({ type: 'image_url', image_url: { url: img.dataUri as string } })),
        ],
      });
    }
  }
  kept.reverse();
  const messages: ChatMessage[] = systemPrompt ? [{ role: 'system', content: systemPrompt }, ...kept] : kept;
  return { messages, dropped: turns.length - kept.length };
}

/**
 * Appends turns and bounds what the store keeps: the newest `maxTurns` turns, each no
 * longer than the upstream budget, and the image data of only the newest `maxImages`
 * images (older ones keep just their name, shown to the model as a placeholder).
 */
export function appendTurns(existing: readonly Turn[], added: readonly Turn[], maxTurns = MAX_STORED_TURNS, maxImages = 4): Turn[] {
  const all = [...existing, ...added].slice(-maxTurns);
  let imagesLeft = maxImages;
  for (let i = all.length - 1; i >= 0; i--) {
    const turn = all[i] as Turn;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: slicing a string no longer than the budget returns it unchanged
    const content = turn.content.length > UPSTREAM_CHAR_BUDGET ? turn.content.slice(0, UPSTREAM_CHAR_BUDGET) : turn.content;
    if (!turn.images?.length && content === turn.content) continue;
    const images = turn.images?.map((img) => {
      if (!img.dataUri) return img;
      if (imagesLeft > 0) {
        imagesLeft -= 1;
        return img;
      }
      return { name: img.name };
    });
    all[i] = { ...turn, content, ...(images ? { images } : {}) };
  }
  return all;
}
