import type { Pacer } from './editPacer.js';
import { DISCORD_MESSAGE_LIMIT, fenceStateAfter, splitMessage } from './splitMessage.js';

/** Where an answer is shown: a reply to a message, or an interaction's reply and follow-ups. */
export interface ReplySurface<M> {
  /** Posts message number `index` of the answer (0 is the reply itself); `previous` is the one before it. */
  post(content: string, index: number, previous: M | undefined): Promise<M>;
  edit(message: M, content: string, index: number): Promise<void>;
  /** Shows "Bot is typing…" (lasts about 10 s on Discord). Optional: a deferred interaction already shows a status. */
  typing?(): Promise<void>;
}

/** How a failed send should be treated. */
export type SendFailure = 'gone' | 'retry';

export interface RendererOptions {
  /** Decides whether a failed send means the answer can no longer be shown ('gone') or may be retried. */
  classify(err: unknown): SendFailure;
  /** Called once when the answer can no longer be shown: stop paying for it upstream. */
  onGone(err: unknown): void;
  onSendError?(err: unknown, attempt: number): void;
  /** Minimum time between two edits of one message, in ms (about one a second). */
  minEditIntervalMs?: number;
}

/** Shown at the end of the text while the answer is still being written. */
export const WRITING_MARKER = ' ▌';
/** Shown while the model reasons and has not started its answer. */
export const THINKING_STATUS = '💭 thinking…';
/** Shown while media is being made for the answer. */
export const MEDIA_STATUS = '🎨 making it…';
/** Statuses are short; longer ones are cut so they always fit the reserve below. */
const MAX_STATUS = 24;
/** Re-sent while waiting for the first text: Discord's typing indicator lasts about 10 s. */
const TYPING_REFRESH_MS = 8000;
/** Retries of one failed send before the answer is given up as undeliverable. */
const MAX_SEND_ATTEMPTS = 3;
/**
 * Chunks are cut this much under Discord's limit so the writing marker and a temporary
 * code-fence close always fit, and cut at the same places during and after streaming.
 */
const RENDER_LIMIT = DISCORD_MESSAGE_LIMIT - 40;

interface Slot<M> {
  message: M;
  shown: string;
  sentAt: number;
}

export interface RenderOutcome<M> {
  /** False when the messages became undeliverable (deleted, no access) before the final edit. */
  delivered: boolean;
  messages: M[];
}

/**
 * Shows a streaming answer in Discord. Each update only records the newest text; a single
 * loop sends what is needed, one request at a time, always with the newest text, so edits
 * coalesce and never queue up stale. Sends are paced by the channel's shared budget.
 * The final edit always lands unless the message is gone.
 */
export class StreamRenderer<M> {
  readonly #surface: ReplySurface<M>;
  readonly #pacer: Pacer;
  readonly #options: RendererOptions;
  readonly #minEditIntervalMs: number;
  readonly #slots: Slot<M>[] = [];
  #text = '';
  #status: string | undefined;
  #final: string[] | null = null;
  #gone = false;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #typingTimer: ReturnType<typeof setInterval> | undefined;
  /** Resolves when finish() is called, cutting short the wait between progress edits. */
  readonly #finishing: Promise<void>;
  #markFinishing!: () => void;

  constructor(surface: ReplySurface<M>, pacer: Pacer, options: RendererOptions) {
    this.#surface = surface;
    this.#pacer = pacer;
    this.#options = options;
    this.#minEditIntervalMs = options.minEditIntervalMs ?? 1000;
    this.#finishing = new Promise((resolve) => (this.#markFinishing = resolve));
  }

  get gone(): boolean {
    return this.#gone;
  }

  /** Starts the typing indicator, refreshed until the first message is posted. */
  startTyping(): void {
    const typing = this.#surface.typing?.bind(this.#surface);
    if (!typing) return;
    const send = () => {
      if (this.#slots.length > 0 || this.#final) return this.#stopTyping();
      // Typing is a nicety: skipped when the bot's request budget is busy with answers.
      if (this.#pacer.tryAcquire()) typing().catch(() => {});
    };
    send();
    this.#typingTimer = setInterval(send, TYPING_REFRESH_MS);
  }

  /**
   * Records the newest answer text (reasoning excluded) and a short status shown under it
   * (or alone, before any text). Cheap: call it on every delta.
   */
  update(text: string, status?: string): void {
    if (this.#final) return;
    this.#text = text;
    this.#status = status;
    this.#kick();
  }

  /**
   * Shows the whole answer, with `notice` (a one-line error or warning) after it, and
   * resolves once every message shows its final text or the answer is undeliverable.
   */
  async finish(text: string, notice?: string): Promise<RenderOutcome<M>> {
    this.#stopTyping();
    this.#final = finalChunks(text, notice);
    this.#markFinishing();
    this.#kick();
    await this.#loop;
    return { delivered: !this.#gone, messages: this.#slots.map((s) => s.message) };
  }

  #kick(): void {
    if (this.#wake) {
      const wake = this.#wake;
      this.#wake = undefined;
      wake();
    }
    this.#loop ??= this.#run();
  }

  #desired(): string[] {
    const chunks = this.#final ?? liveChunks(this.#text, this.#status);
    // Messages already posted stay in place; if the answer shrank (a late reasoning tag), blank them.
    while (chunks.length < this.#slots.length) chunks.push('…');
    return chunks;
  }

  async #run(): Promise<void> {
    let attempt = 0;
    while (!this.#gone) {
      const desired = this.#desired();
      const index = desired.findIndex((content, i) => this.#slots[i]?.shown !== content);
      if (index < 0) {
        if (this.#final) return;
        await new Promise<void>((resolve) => (this.#wake = resolve));
        continue;
      }
      const slot = this.#slots[index];
      if (slot) {
        const wait = slot.sentAt + this.#minEditIntervalMs - Date.now();
        if (wait > 0 && !this.#final) await Promise.race([sleep(wait), this.#finishing]);
        await this.#pacer.acquire(this.#final ? 'urgent' : 'paced');
      } else {
        await this.#pacer.acquire('urgent');
      }
      // Whatever arrived while we waited goes out now: the newest text, never a stale one.
      const content = this.#desired()[index];
      if (content === undefined || this.#slots[index]?.shown === content) continue;
      try {
        if (slot) {
          await this.#surface.edit(slot.message, content, index);
          slot.shown = content;
          slot.sentAt = Date.now();
        } else {
          const message = await this.#surface.post(content, index, this.#slots[index - 1]?.message);
          this.#slots[index] = { message, shown: content, sentAt: Date.now() };
          this.#stopTyping();
        }
        attempt = 0;
      } catch (err) {
        attempt += 1;
        this.#options.onSendError?.(err, attempt);
        if (this.#options.classify(err) === 'gone' || attempt >= MAX_SEND_ATTEMPTS) {
          this.#gone = true;
          this.#stopTyping();
          this.#options.onGone(err);
          return;
        }
        await sleep(1000 * attempt);
      }
    }
  }

  #stopTyping(): void {
    clearInterval(this.#typingTimer);
    this.#typingTimer = undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A status as Discord subtext. */
export function statusLine(status: string): string {
  return `-# ${status.length > MAX_STATUS ? `${status.slice(0, MAX_STATUS - 1)}…` : status}`;
}

/** What the messages show while streaming: the text so far, a closed fence if one is open, the marker, the status. */
export function liveChunks(text: string, status?: string): string[] {
  const visible = text.trim();
  if (!visible) return status ? [statusLine(status)] : [];
  const chunks = splitMessage(visible, RENDER_LIMIT);
  const last = chunks.length - 1;
  const lastChunk = chunks[last] ?? '';
  const open = fenceStateAfter(lastChunk);
  chunks[last] = `${lastChunk}${open ? `\n${open.marker}\n` : ''}${WRITING_MARKER}${status ? `\n${statusLine(status)}` : ''}`;
  return chunks;
}

/** What the messages show at the end: the whole answer (an unfinished code block closed) and the notice. */
export function finalChunks(text: string, notice?: string): string[] {
  let visible = text.trim();
  const open = fenceStateAfter(visible);
  if (open) visible += `\n${open.marker}`;
  const chunks = visible ? splitMessage(visible, RENDER_LIMIT) : [];
  if (!notice) return chunks.length > 0 ? chunks : ['…'];
  const last = chunks[chunks.length - 1];
  if (last !== undefined && last.length + 2 + notice.length <= DISCORD_MESSAGE_LIMIT) {
    chunks[chunks.length - 1] = `${last}\n\n${notice}`;
  } else {
    chunks.push(notice.slice(0, DISCORD_MESSAGE_LIMIT));
  }
  return chunks;
}
