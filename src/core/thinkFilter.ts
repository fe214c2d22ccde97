const OPEN = '<think>';
const CLOSE = '</think>';

/**
 * Separates a model's reasoning from its answer while the text streams in.
 *
 * Qwen models write `<think>…</think>` inside the content; some chat templates open the
 * block in the prompt, so only the closing tag arrives. Tags may be split across deltas,
 * so a partial tag at the end of what has arrived is held back until the next delta.
 */
export class ThinkFilter {
  #answer = '';
  #pending = '';
  #thinking = false;
  #sawReasoning = false;

  /** The answer text so far, without reasoning. */
  get answer(): string {
    return this.#answer;
  }

  /** True while the model is inside a reasoning block. */
  get thinking(): boolean {
    return this.#thinking;
  }

  /** True once any reasoning has been seen (in content or in `reasoning_content`). */
  get sawReasoning(): boolean {
    return this.#sawReasoning;
  }

  /** Notes reasoning that arrived outside the content (`reasoning_content` on a delta). */
  noteReasoning(): void {
    this.#sawReasoning = true;
  }

  push(delta: string): void {
    let text = this.#pending + delta;
    this.#pending = '';
    while (text.length > 0) {
      if (this.#thinking) {
        const end = text.indexOf(CLOSE);
        if (end < 0) {
          this.#pending = partialTagSuffix(text, CLOSE);
          return;
        }
        this.#thinking = false;
        text = text.slice(end + CLOSE.length).replace(/^\s+/, '');
        continue;
      }
      const open = text.indexOf(OPEN);
      const close = text.indexOf(CLOSE);
      if (close >= 0 && (open < 0 || close < open)) {
        // A closing tag with no opening one: everything before it was reasoning.
        this.#sawReasoning = true;
        this.#answer = '';
        text = text.slice(close + CLOSE.length).replace(/^\s+/, '');
        continue;
      }
      if (open >= 0) {
        this.#answer += text.slice(0, open);
        this.#thinking = true;
        this.#sawReasoning = true;
        text = text.slice(open + OPEN.length);
        continue;
      }
      const held = Math.max(partialTagSuffix(text, OPEN).length, partialTagSuffix(text, CLOSE).length);
      this.#answer += text.slice(0, text.length - held);
      this.#pending = text.slice(text.length - held);
      return;
    }
  }

  /** Ends the stream: a dangling partial tag was just text after all. */
  end(): string {
    if (!this.#thinking) this.#answer += this.#pending;
    this.#pending = '';
    return this.#answer;
  }
}

/** The longest suffix of text that is a proper prefix of tag (a tag cut off mid-way). */
function partialTagSuffix(text: string, tag: string): string {
  for (let n = Math.min(tag.length - 1, text.length); n > 0; n--) {
    if (text.endsWith(tag.slice(0, n))) return text.slice(text.length - n);
  }
  return '';
}
