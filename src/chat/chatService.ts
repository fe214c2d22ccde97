import type { PacerRegistry } from '../core/editPacer.js';
import { describeFailure, type UpstreamFailure } from '../core/describeFailure.js';
import { buildUpstream, type Turn } from '../core/history.js';
import { StreamRenderer, type ReplySurface, type SendFailure } from '../core/streamRenderer.js';
import { ThinkFilter } from '../core/thinkFilter.js';
import type { Logger } from '../logger.js';
import type { Sogni, StreamResult, Usage } from '../sogni/sogniClient.js';
import { toFailure } from '../sogni/toFailure.js';
import type { HistoryStore } from '../store/historyStore.js';
import type { AttachmentInput, AttachmentRef } from '../vision/readAttachments.js';

export interface ChatRequest<M> {
  channelId: string;
  guildId: string | null;
  userId: string;
  /** Display name of the person asking; the model sees who spoke. */
  userName: string;
  text: string;
  /** Files attached to the message (or the one it replies to, or /ask's image). */
  attachments?: readonly AttachmentRef[];
  model: string;
  surface: ReplySurface<M>;
  logger: Logger;
}

export interface ChatOutcome {
  /** What the model answered (reasoning removed); empty when it failed. */
  answer: string;
  failure?: UpstreamFailure;
  /** Token counts reported by Sogni, kept for spend accounting. */
  usage?: Usage;
  /** False when the bot's message was deleted or became unreachable mid-answer. */
  delivered: boolean;
}

export interface ChatServiceDeps {
  sogni: Sogni;
  history: HistoryStore;
  pacers: PacerRegistry;
  systemPrompt: string;
  timeoutSeconds: number;
  classifySendError(err: unknown): SendFailure;
  readAttachments(refs: readonly AttachmentRef[]): Promise<AttachmentInput>;
}

const SHUTDOWN_NOTICE = '⚠️ The bot is restarting, so this answer was cut short. Ask again in a moment.';
const NOTHING_TO_ANSWER = 'I had nothing I could read in that message. Ask a question, or attach an image or a text file.';
const HISTORY_WRITE_NOTICE = "⚠️ I couldn't save this exchange, so I may not remember it next time.";

/** One answer in a channel: reads the history, streams Sogni's answer into Discord, saves the turns. */
export class ChatService {
  readonly #deps: ChatServiceDeps;
  readonly #active = new Set<{ controller: AbortController; done: Promise<unknown> }>();
  #closing = false;

  constructor(deps: ChatServiceDeps) {
    this.#deps = deps;
  }

  get activeCount(): number {
    return this.#active.size;
  }

  answer<M>(request: ChatRequest<M>): Promise<ChatOutcome> {
    const controller = new AbortController();
    const done = this.#answer(request, controller);
    const entry = { controller, done };
    this.#active.add(entry);
    void done.finally(() => this.#active.delete(entry));
    return done;
  }

  /** Cuts every answer in progress short with a notice, saves what was said, and waits for them. */
  async shutdown(): Promise<void> {
    this.#closing = true;
    const active = [...this.#active];
    for (const { controller } of active) controller.abort('shutdown');
    await Promise.allSettled(active.map((a) => a.done));
  }

  async #answer<M>(request: ChatRequest<M>, controller: AbortController): Promise<ChatOutcome> {
    const { sogni, history, pacers, systemPrompt } = this.#deps;
    const { logger } = request;

    const renderer = new StreamRenderer(request.surface, pacers.for(request.channelId), {
      classify: this.#deps.classifySendError,
      onGone: (err) => {
        logger.info({ err }, 'answer can no longer be shown; stopping the upstream request');
        controller.abort('gone');
      },
      onSendError: (err, attempt) => logger.warn({ err, attempt }, 'sending to Discord failed'),
    });
    if (this.#closing) {
      await renderer.finish('', SHUTDOWN_NOTICE);
      return { answer: '', delivered: !renderer.gone };
    }
    renderer.startTyping();

    const input = request.attachments?.length
      ? await this.#deps.readAttachments(request.attachments)
      : { images: [], textBlocks: [], notes: [] };
    const notes = input.notes.map((n) => `-# ⚠️ ${n}`);
    if (input.notes.length > 0) logger.info({ skipped: input.notes.length }, 'some attachments were skipped');
    const content = [request.text, ...input.textBlocks].filter(Boolean).join('\n\n');
    if (!content && input.images.length === 0) {
      await renderer.finish('', [...notes, NOTHING_TO_ANSWER].join('\n'));
      return { answer: '', delivered: !renderer.gone };
    }
    const userTurn: Turn = {
      role: 'user',
      name: request.userName,
      content,
      at: Date.now(),
      ...(input.images.length ? { images: input.images } : {}),
    };

    let past: Turn[] = [];
    try {
      past = await history.load(request.channelId);
    } catch (err) {
      logger.error({ err }, 'could not read channel history; answering without it');
    }
    const upstream = buildUpstream(systemPrompt, [...past, userTurn]);
    logger.debug({ turns: upstream.messages.length, dropped: upstream.dropped, model: request.model }, 'asking Sogni');

    const filter = new ThinkFilter();
    let result: StreamResult = {};
    let failure: UpstreamFailure | undefined;
    const started = Date.now();
    try {
      const stream = sogni.streamChat({ model: request.model, messages: upstream.messages, signal: controller.signal });
      for (;;) {
        const next = await stream.next();
        if (next.done) {
          result = next.value;
          break;
        }
        if (next.value.reasoning) filter.noteReasoning();
        if (next.value.content) filter.push(next.value.content);
        renderer.update(filter.answer, filter.thinking || filter.sawReasoning);
      }
    } catch (err) {
      failure = toFailure(err, this.#deps.timeoutSeconds);
      logger.warn({ err, failure: failure.kind }, 'Sogni request failed');
    }
    const answer = filter.end().trim();
    const cutShort = controller.signal.aborted;
    if (!failure && !cutShort && !answer) failure = { kind: 'empty' };

    const turns: Turn[] = [userTurn];
    if (answer && (!failure || cutShort)) turns.push({ role: 'assistant', content: answer, at: Date.now() });
    const notices: string[] = [...notes];
    if (failure) notices.push(describeFailure(failure));
    if (controller.signal.reason === 'shutdown') notices.push(SHUTDOWN_NOTICE);
    try {
      await history.append(request.channelId, turns);
    } catch (err) {
      logger.error({ err }, 'could not save channel history');
      notices.push(HISTORY_WRITE_NOTICE);
    }

    const outcome = renderer.gone ? { delivered: false } : await renderer.finish(answer, notices.join('\n') || undefined);
    logger.info(
      {
        model: request.model,
        ms: Date.now() - started,
        chars: answer.length,
        usage: result.usage,
        finishReason: result.finishReason,
        failure: failure?.kind,
        delivered: outcome.delivered,
        aborted: controller.signal.reason,
      },
      'answer finished',
    );
    return {
      answer,
      ...(failure ? { failure } : {}),
      ...(result.usage ? { usage: result.usage } : {}),
      delivered: outcome.delivered,
    };
  }
}
