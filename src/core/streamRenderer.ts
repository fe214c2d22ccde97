import type { Pacer, Slot as SendSlot, SendRoute } from './editPacer.js';
import { DISCORD_MESSAGE_LIMIT, fenceStateAfter, splitCapped } from './splitMessage.js';

/** A text file sent with a message: the whole of an answer too long for its messages. */
export interface FileAttachment {
  name: string;
  text: string;
}

/** What goes with a message besides its text. */
export interface SendExtras {
  /** Files uploaded with the message, once (answer.md, reasoning.txt). */
  files?: readonly FileAttachment[];
  /** The answer's last message in its final form: the surface may add its controls (the 🗑️ button). */
  last?: boolean;
}

/** Where an answer is shown: a reply to a message, or an interaction's reply and follow-ups. */
export interface ReplySurface<M> {
  /**
   * Posts message number `index` of the answer (0 is the reply itself); `previous` is the one
   * before it. `extras.files`, when given, are uploaded with the message.
   */
  post(content: string, index: number, previous: M | undefined, extras?: SendExtras): Promise<M>;
  /** Replaces a message's text; `extras.files`, when given, are added to it. */
  edit(message: M, content: string, index: number, extras?: SendExtras): Promise<void>;
  /** Shows "Bot is typing…" (lasts about 10 s on Discord). Optional: a deferred interaction already shows a status. */
  typing?(): Promise<void>;
  /**
   * The REST call `post` or `edit` of message `index` will make, so the pacer counts it in the
   * bucket Discord counts it in. Optional: without it, a send counts as an edit in the channel.
   */
  route?(op: 'post' | 'edit', index: number, message?: M): SendRoute | undefined;
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
  /** Most messages one answer may take (MAX_ANSWER_MESSAGES); the whole answer then goes in answer.md on the last. */
  maxMessages?: number | undefined;
}

/** Shown at the end of the text while the answer is still being written. */
export const WRITING_MARKER = ' ▌';
/** Shown while the model reasons and has not started its answer. */
export const THINKING_STATUS = '💭 thinking…';
/** Shown while media is being made for the answer. */
export const MEDIA_STATUS = '🎨 making it…';
/** Shown while the request waits its turn for Sogni's shared rate limit. */
export function waitingStatus(ahead: number): string {
  return ahead > 0 ? `⏳ Waiting for Sogni — ${ahead} ahead of you` : '⏳ Waiting for Sogni…';
}
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
/** An answer takes at most this many messages unless told otherwise (MAX_ANSWER_MESSAGES's default). */
export const DEFAULT_MAX_MESSAGES = 6;
/** The file the whole of an over-long answer is attached as. */
export const ANSWER_FILE = 'answer.md';
/** The file the model's reasoning is attached as (REASONING=attach); it is never shown inline. */
export const REASONING_FILE = 'reasoning.txt';
/** Under the last message allowed while the answer is still overflowing it. */
export const OVERFLOW_LIVE = `-# …continued in ${ANSWER_FILE} when the answer is done`;
/** Under the last message allowed once the whole answer is attached to it. */
export const OVERFLOW_FINAL = `-# 📎 …continued in ${ANSWER_FILE}, attached here with the whole answer`;
/**
 * The last message allowed is cut this much shorter, whether or not the answer overflows,
 * so the overflow line and a status (or a notice) fit under it and the cut does not move.
 */
const LAST_LIMIT = DISCORD_MESSAGE_LIMIT - 200;
/** A notice under an overflowing answer is cut to this, so the answer keeps most of its last message. */
const MAX_NOTICE = 1000;

interface Slot<M> {
  message: M;
  shown: string;
  /** True once the answer's files were uploaded with this message. */
  attached: boolean;
  /** True once this message was sent as the answer's last, final one. */
  closed?: boolean;
  sentAt: number;
}

/** What one message should show. */
interface Desired {
  content: string;
  files?: readonly FileAttachment[];
  last?: boolean;
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
  readonly #maxMessages: number;
  readonly #slots: Slot<M>[] = [];
  // Stryker disable next-line StringLiteral: read only while streaming, after update() has set it
  #text = '';
  #status: string | undefined;
  #final: Desired[] | null = null;
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
    this.#maxMessages = Math.max(1, Math.floor(options.maxMessages ?? DEFAULT_MAX_MESSAGES));
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
    // After finish() the loop shows the final text only, so a late update changes nothing.
    this.#text = text;
    this.#status = status;
    this.#kick();
  }

  /**
   * Shows the whole answer, with `notice` (a one-line error or warning) after it, and
   * resolves once every message shows its final text or the answer is undeliverable.
   * An answer longer than its messages allow is attached whole to the last one, with `files`.
   */
  async finish(text: string, notice?: string, files: readonly FileAttachment[] = []): Promise<RenderOutcome<M>> {
    this.#stopTyping();
    const { chunks, overflow } = finalChunks(text, notice, this.#maxMessages);
    const last = chunks.length - 1;
    const attached = [...(overflow ? [{ name: ANSWER_FILE, text: text.trim() }] : []), ...files];
    this.#final = chunks.map((content, i) => (i === last && attached.length > 0 ? { content, files: attached } : { content }));
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

  #desired(): Desired[] {
    const wanted: Desired[] = this.#final ? [...this.#final] : liveChunks(this.#text, this.#status, this.#maxMessages).map((content) => ({ content }));
    // Messages already posted stay in place; if the answer shrank (a late reasoning tag), blank them.
    while (wanted.length < this.#slots.length) wanted.push({ content: '…' });
    // The final text always has at least one message (finalChunks shows '…' for nothing).
    const last = wanted.length - 1;
    if (this.#final) wanted[last] = { ...(wanted[last] as Desired), last: true };
    return wanted;
  }

  /** True when message `index` does not show what it should yet. */
  #stale(wanted: Desired | undefined, index: number): boolean {
    const slot = this.#slots[index];
    return (
      wanted !== undefined &&
      (slot?.shown !== wanted.content || (wanted.files !== undefined && !slot.attached) || (wanted.last === true && !slot.closed))
    );
  }

  async #run(): Promise<void> {
    let attempt = 0;
    while (!this.#gone) {
      const desired = this.#desired();
      const index = desired.findIndex((wanted, i) => this.#stale(wanted, i));
      if (index < 0) {
        if (this.#final) return;
        await new Promise<void>((resolve) => (this.#wake = resolve));
        continue;
      }
      const slot = this.#slots[index];
      let granted: SendSlot;
      if (slot) {
        const wait = slot.sentAt + this.#minEditIntervalMs - Date.now();
        if (wait > 0 && !this.#final) await Promise.race([sleep(wait), this.#finishing]);
        granted = await this.#pacer.acquire(this.#final ? 'final' : 'paced', this.#surface.route?.('edit', index, slot.message));
      } else {
        granted = await this.#pacer.acquire('new', this.#surface.route?.('post', index));
      }
      // Whatever arrived while we waited goes out now: the newest text, never a stale one.
      const wanted = this.#desired()[index];
      if (wanted === undefined || !this.#stale(wanted, index)) {
        granted.cancel();
        continue;
      }
      const { content, files, last } = wanted;
      // Edits of a message are spaced from when each left, as the pacer spaces them: counting from the answer would add a round trip to every turn.
      const leftAt = Date.now();
      try {
        if (slot) {
          // The files go up once; later edits leave them in place.
          // Stryker disable next-line ConditionalExpression,LogicalOperator: files come only with the final text, and the send that attaches them also shows it, so an attached message is not edited again
          const upload = files && !slot.attached ? files : undefined;
          const extras = extrasOf(upload, last);
          await (extras ? this.#surface.edit(slot.message, content, index, extras) : this.#surface.edit(slot.message, content, index));
          slot.shown = content;
          slot.attached ||= upload !== undefined;
          slot.closed ||= last === true;
          slot.sentAt = leftAt;
        } else {
          const previous = this.#slots[index - 1]?.message;
          const extras = extrasOf(files, last);
          const message = await (extras ? this.#surface.post(content, index, previous, extras) : this.#surface.post(content, index, previous));
          this.#slots[index] = { message, shown: content, attached: files !== undefined, closed: last === true, sentAt: leftAt };
          this.#stopTyping();
        }
        granted.done();
        attempt = 0;
      } catch (err) {
        granted.done();
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

/** The extras of one send, or undefined when there are none (the surface is then called without them). */
function extrasOf(files: readonly FileAttachment[] | undefined, last: boolean | undefined): SendExtras | undefined {
  if (!files && !last) return undefined;
  return { ...(files ? { files } : {}), ...(last ? { last } : {}) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A status as Discord subtext. */
export function statusLine(status: string): string {
  return `-# ${status.length > MAX_STATUS ? `${status.slice(0, MAX_STATUS - 1)}…` : status}`;
}

/**
 * What the messages show while streaming: the text so far, a closed fence if one is open, the
 * marker, the status. At most `maxMessages`; past them, the last says the rest will be in a file.
 */
export function liveChunks(text: string, status?: string, maxMessages = Infinity): string[] {
  const visible = text.trim();
  // Alone, a status has the whole message: only beside text must it fit the reserve.
  if (!visible) return status ? [`-# ${status}`] : [];
  const { chunks, overflow } = splitCapped(visible, RENDER_LIMIT, maxMessages, LAST_LIMIT);
  const last = chunks.length - 1;
  // Visible text makes at least one chunk.
  const lastChunk = chunks[last] as string;
  const open = fenceStateAfter(lastChunk);
  const tail = overflow ? `\n${OVERFLOW_LIVE}` : WRITING_MARKER;
  chunks[last] = `${lastChunk}${open ? `\n${open.marker}\n` : ''}${tail}${status ? `\n${statusLine(status)}` : ''}`;
  return chunks;
}

/**
 * What the messages show at the end: the whole answer (an unfinished code block closed) and
 * the notice, in at most `maxMessages`. `overflow` means the text did not fit: the last
 * message then says so, and the whole answer must be attached to it.
 */
export function finalChunks(text: string, notice?: string, maxMessages = Infinity): { chunks: string[]; overflow: boolean } {
  let visible = text.trim();
  const open = fenceStateAfter(visible);
  if (open) visible += `\n${open.marker}`;
  if (!visible) return { chunks: [notice ? notice.slice(0, DISCORD_MESSAGE_LIMIT) : '…'], overflow: false };
  const fitted = splitCapped(visible, RENDER_LIMIT, maxMessages, LAST_LIMIT);
  if (!fitted.overflow) {
    const { chunks } = fitted;
    const last = chunks.length - 1;
    const lastChunk = chunks[last] as string;
    if (!notice) return { chunks, overflow: false };
    if (lastChunk.length + 2 + notice.length <= DISCORD_MESSAGE_LIMIT) {
      chunks[last] = `${lastChunk}\n\n${notice}`;
      return { chunks, overflow: false };
    }
    if (chunks.length < maxMessages) return { chunks: [...chunks, notice.slice(0, DISCORD_MESSAGE_LIMIT)], overflow: false };
    // No message left for the notice: the last one makes room for it, and the file holds the rest.
  }
  const footer = `\n\n${OVERFLOW_FINAL}${notice ? `\n${notice.slice(0, MAX_NOTICE)}` : ''}`;
  const { chunks } = splitCapped(visible, RENDER_LIMIT, maxMessages, Math.min(LAST_LIMIT, DISCORD_MESSAGE_LIMIT - footer.length));
  chunks[chunks.length - 1] += footer;
  return { chunks, overflow: true };
}
