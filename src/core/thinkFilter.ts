const OPEN = '<think>';
const CLOSE = '</think>';
/** Text without any tag yet is held back until it is this long… */
export const HOLD_CHARS = 300;
/** …or this many ms have passed since it started. */
export const HOLD_MS = 2000;

export interface ThinkFilterOptions {
  /** The clock, in ms (tests pass a fake one). */
  now?: () => number;
  holdChars?: number;
  holdMs?: number;
  /**
   * Called when a hold ends because time ran out, with no new delta to show it: the caller
   * re-renders so held text appears on time even if the model pauses.
   */
  onRelease?: () => void;
}

/**
 * Separates a model's reasoning from its answer while the text streams in.
 *
 * Qwen models write `<think>…</think>` inside the content; some chat templates open the
 * block in the prompt, so only the closing tag arrives. Tags may be split across deltas,
 * so a partial tag at the end of what has arrived is held back until the next delta.
 *
 * Because the opening tag may never come, the start of the content is held back (not in
 * `answer`) until it is clear: a tag arrives, or `holdChars` characters or `holdMs` ms
 * have passed without one. Reasoning that ends within those bounds is never shown.
 *
 * A lone `</think>` after the hold has ended still means everything before it was
 * reasoning: the answer drops it from then on, although it was on screen for a while.
 * That is the least bad choice: keeping it would leave reasoning in the final message and
 * in the history the model reads next time, while dropping it only shrinks the message,
 * and the final edit shows the real answer alone. Holding longer would delay every
 * untagged answer, which is the common case, by the same amount.
 */
export class ThinkFilter {
  #answer = '';
  /** Everything hidden as reasoning, kept for REASONING=attach. */
  #reasoning = '';
  #pending = '';
  #thinking = false;
  #sawReasoning = false;
  /** False while the start of the content could still turn out to be reasoning. */
  #decided = false;
  #firstAt: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #now: () => number;
  readonly #holdChars: number;
  readonly #holdMs: number;
  readonly #onRelease: (() => void) | undefined;

  constructor(options: ThinkFilterOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#holdChars = options.holdChars ?? HOLD_CHARS;
    this.#holdMs = options.holdMs ?? HOLD_MS;
    this.#onRelease = options.onRelease;
  }

  /** The answer text that is safe to show so far, without reasoning. */
  get answer(): string {
    return this.holding ? '' : this.#answer;
  }

  /** True while text has arrived that could still turn out to be reasoning, and is held back. */
  get holding(): boolean {
    if (this.#decided || this.#firstAt === undefined) return false;
    if (this.#now() - this.#firstAt < this.#holdMs && this.#answer.length + this.#pending.length < this.#holdChars) return true;
    this.#decide();
    return false;
  }

  /** True while the model is inside a reasoning block. */
  get thinking(): boolean {
    return this.#thinking;
  }

  /** True once any reasoning has been seen (in content or in `reasoning_content`). */
  get sawReasoning(): boolean {
    return this.#sawReasoning;
  }

  /** The reasoning hidden so far: `<think>` blocks, text before a lone `</think>`, and `reasoning_content`. */
  get reasoning(): string {
    return this.#reasoning;
  }

  /** Notes reasoning that arrived outside the content (`reasoning_content` on a delta), and keeps its text. */
  noteReasoning(text = ''): void {
    this.#reasoning += text;
    this.#sawReasoning = true;
    // Reasoning sent apart from the content before any content: the content is the answer.
    if (this.#firstAt === undefined) this.#decide();
  }

  push(delta: string): void {
    if (!delta) return;
    if (this.#firstAt === undefined && !this.#decided) {
      this.#firstAt = this.#now();
      this.#timer = setTimeout(() => {
        // Deciding clears this timer, so the hold is still on when it fires.
        this.#timer = undefined;
        this.#decide();
        this.#onRelease?.();
      }, this.#holdMs);
      this.#timer.unref();
    }
    // Every way out of the loop below sets #pending anew.
    let text = this.#pending + delta;
    // Every pass ends in a return once no whole tag is left (an empty text included).
    for (;;) {
      if (this.#thinking) {
        const end = text.indexOf(CLOSE);
        if (end < 0) {
          this.#pending = partialTagSuffix(text, CLOSE);
          this.#keep(text.slice(0, text.length - this.#pending.length));
          return;
        }
        this.#keep(text.slice(0, end));
        this.#endBlock();
        this.#thinking = false;
        this.#decide();
        text = text.slice(end + CLOSE.length).replace(/^\s+/, '');
        continue;
      }
      const open = text.indexOf(OPEN);
      const close = text.indexOf(CLOSE);
      // Stryker disable next-line EqualityOperator: the two tags differ in their second character, so they never start at one index
      if (close >= 0 && (open < 0 || close < open)) {
        // A closing tag with no opening one: everything before it was reasoning.
        this.#sawReasoning = true;
        this.#keep(this.#answer + text.slice(0, close));
        this.#endBlock();
        this.#answer = '';
        this.#decide();
        text = text.slice(close + CLOSE.length).replace(/^\s+/, '');
        continue;
      }
      if (open >= 0) {
        this.#answer += text.slice(0, open);
        this.#thinking = true;
        this.#sawReasoning = true;
        // The model opens its blocks itself: text outside them is the answer.
        this.#decide();
        text = text.slice(open + OPEN.length);
        continue;
      }
      const held = Math.max(partialTagSuffix(text, OPEN).length, partialTagSuffix(text, CLOSE).length);
      this.#answer += text.slice(0, text.length - held);
      this.#pending = text.slice(text.length - held);
      return;
    }
  }

  /** Ends the stream: a dangling partial tag was just text after all, and nothing is held any more. */
  end(): string {
    if (this.#thinking) this.#keep(this.#pending);
    else this.#answer += this.#pending;
    this.#pending = '';
    this.#decide();
    return this.#answer;
  }

  #keep(text: string): void {
    this.#reasoning += text;
  }

  /** Separates one reasoning block from the next. */
  #endBlock(): void {
    if (this.#reasoning && !this.#reasoning.endsWith('\n\n')) this.#reasoning = `${this.#reasoning.trimEnd()}\n\n`;
  }

  /** Ends the hold for good. */
  #decide(): void {
    this.#decided = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** The longest suffix of text that is a proper prefix of tag (a tag cut off mid-way). */
function partialTagSuffix(text: string, tag: string): string {
  // Stryker disable next-line MethodExpression,ArithmeticOperator,EqualityOperator: callers pass text holding no whole tag, so also trying the whole tag or the empty prefix finds nothing more
  for (let n = Math.min(tag.length - 1, text.length); n > 0; n--) {
    if (text.endsWith(tag.slice(0, n))) return text.slice(text.length - n);
  }
  return '';
}
