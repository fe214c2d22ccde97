import type { PacerRegistry } from '../core/editPacer.js';
import { describeFailure, type UpstreamFailure } from '../core/describeFailure.js';
import { buildUpstream, type ChatMessage, type Turn } from '../core/history.js';
import type { MediaPost } from '../core/mediaPost.js';
import { CHAT_OUTPUT_RESERVE_TOKENS, chatCost, estimateTokens, toolKind, type PriceTable } from '../core/pricing.js';
import { describeRefusal, describeWarning } from '../core/spendMath.js';
import { MEDIA_STATUS, StreamRenderer, THINKING_STATUS, type ReplySurface, type SendFailure } from '../core/streamRenderer.js';
import { ThinkFilter } from '../core/thinkFilter.js';
import type { Logger } from '../logger.js';
import type { MediaService } from '../media/mediaService.js';
import type { Sogni, StreamResult, ToolCall, Usage } from '../sogni/sogniClient.js';
import { toFailure } from '../sogni/toFailure.js';
import type { Hold, SpendLedger } from '../spend/spendLedger.js';
import type { HistoryStore } from '../store/historyStore.js';
import type { AttachmentInput, AttachmentRef } from '../vision/readAttachments.js';
import { UNEXPECTED_LINE } from '../userError.js';

/** Where an answer goes; media from chat needs a way to post files. */
export interface ChatSurface<M> extends ReplySurface<M> {
  postMedia?(post: MediaPost): Promise<void>;
}

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
  surface: ChatSurface<M>;
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
  /** True when a spend limit stopped the request before anything was sent. */
  refused?: boolean;
}

export interface ChatServiceDeps {
  sogni: Sogni;
  history: HistoryStore;
  pacers: PacerRegistry;
  ledger: SpendLedger;
  prices: PriceTable;
  /** Media asked for in chat goes through this (absent: chat is text only). */
  media?: MediaService;
  systemPrompt: string;
  timeoutSeconds: number;
  classifySendError(err: unknown): SendFailure;
  readAttachments(refs: readonly AttachmentRef[]): Promise<AttachmentInput>;
}

const SHUTDOWN_NOTICE = '⚠️ The bot is restarting, so this answer was cut short. Ask again in a moment.';
const NOTHING_TO_ANSWER = 'I had nothing I could read in that message. Ask a question, or attach an image or a text file.';
const LEDGER_DOWN = "⚠️ I can't record spending right now, so I won't run paid requests. Try again in a moment.";
const HISTORY_WRITE_NOTICE = "⚠️ I couldn't save this exchange, so I may not remember it next time.";
const MEDIA_NOT_POSTABLE = "-# I can't post media here, so I made none.";

/** One answer in a channel: checks the budget, reads the history, streams Sogni's answer into Discord, saves the turns. */
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
    const { logger } = request;
    const renderer = new StreamRenderer(request.surface, this.#deps.pacers.for(request.channelId), {
      classify: this.#deps.classifySendError,
      onGone: (err) => {
        logger.info({ err }, 'answer can no longer be shown; stopping the upstream request');
        controller.abort('gone');
      },
      onSendError: (err, attempt) => logger.warn({ err, attempt }, 'sending to Discord failed'),
    });
    try {
      return await this.#run(request, controller, renderer);
    } catch (err) {
      // A bug must still end the answer (and its typing indicator) with a line, not silence.
      logger.error({ err }, 'answer failed unexpectedly');
      controller.abort('error');
      const outcome = await renderer.finish('', UNEXPECTED_LINE).catch(() => ({ delivered: false }));
      return { answer: '', delivered: outcome.delivered };
    }
  }

  async #run<M>(request: ChatRequest<M>, controller: AbortController, renderer: StreamRenderer<M>): Promise<ChatOutcome> {
    const { sogni, history, systemPrompt, ledger, prices } = this.#deps;
    const { logger } = request;
    const scope = request.guildId ?? `dm:${request.userId}`;
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

    // Chat is paid too: hold an estimate first, and send nothing when it would break a limit.
    const promptTokens = estimateTokens(textLength(upstream.messages), imageCount(upstream.messages));
    let reserved: Awaited<ReturnType<SpendLedger['reserve']>>;
    try {
      reserved = await ledger.reserve({
        scope,
        userId: request.userId,
        kind: 'chat',
        model: request.model,
        estimate: chatCost(prices, { promptTokens, completionTokens: CHAT_OUTPUT_RESERVE_TOKENS }),
      });
    } catch (err) {
      // Without a ledger entry nothing paid may run: a limit could not be kept.
      logger.error({ err }, 'could not record the spend hold; not asking Sogni');
      await renderer.finish('', [...notes, LEDGER_DOWN].join('\n'));
      return { answer: '', delivered: !renderer.gone, refused: true };
    }
    if (!reserved.ok) {
      logger.info({ limit: reserved.refusal.limit }, 'chat refused by spend limit');
      await renderer.finish('', [...notes, describeRefusal(reserved.refusal, Date.now(), request.guildId === null)].join('\n'));
      return { answer: '', delivered: !renderer.gone, refused: true };
    }
    logger.debug({ turns: upstream.messages.length, dropped: upstream.dropped, model: request.model }, 'asking Sogni');

    const offerMedia = Boolean(this.#deps.media);
    const filter = new ThinkFilter();
    let result: StreamResult = {};
    let failure: UpstreamFailure | undefined;
    const started = Date.now();
    try {
      const stream = sogni.streamChat({ model: request.model, messages: upstream.messages, signal: controller.signal, offerMediaTools: offerMedia });
      let status: string | undefined;
      for (;;) {
        const next = await stream.next();
        if (next.done) {
          result = next.value;
          break;
        }
        if (next.value.reasoning) filter.noteReasoning();
        if (next.value.content) filter.push(next.value.content);
        if (next.value.toolCall) status = MEDIA_STATUS;
        renderer.update(filter.answer, status ?? (filter.thinking || (filter.sawReasoning && !filter.answer) ? THINKING_STATUS : undefined));
      }
    } catch (err) {
      failure = toFailure(err, this.#deps.timeoutSeconds);
      logger.warn({ err, failure: failure.kind }, 'Sogni request failed');
    }
    let answer = filter.end().trim();
    const cutShort = controller.signal.aborted;
    const mediaCall = result.toolCalls?.find((c) => toolKind(c.name) !== 'other') ?? result.toolCalls?.[0];
    if (!failure && !cutShort && !answer && !mediaCall) failure = { kind: 'empty' };

    const notices: string[] = [...notes];
    notices.push(...(await this.#settleChat(reserved.hold, result.usage, promptTokens, answer, failure, request.userId, logger)));

    // What the model remembers of its answer: the text, and a note of any media it made.
    let remembered = answer;
    if (mediaCall && !cutShort) {
      const made = await this.#makeMedia(request, mediaCall, scope, controller.signal);
      if (made.text && !answer) answer = made.text;
      remembered = [answer, made.summary].filter(Boolean).join('\n');
      notices.push(...made.notices);
    }

    const turns: Turn[] = [userTurn];
    if (remembered && (!failure || cutShort)) turns.push({ role: 'assistant', content: remembered, at: Date.now() });
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
        tool: mediaCall?.name,
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

  /** Replaces the chat hold by the real cost: Sogni's token counts, or an estimate from the text. */
  async #settleChat(
    hold: Hold,
    usage: Usage | undefined,
    /** The estimate of what was sent, used when Sogni reports no usage. */
    promptTokens: number,
    answer: string,
    failure: UpstreamFailure | undefined,
    userId: string,
    logger: Logger,
  ): Promise<string[]> {
    const { ledger, prices } = this.#deps;
    try {
      if (!usage && !answer && failure) {
        await ledger.release(hold);
        return [];
      }
      const cost = usage
        ? chatCost(prices, usage)
        : chatCost(prices, { promptTokens, completionTokens: estimateTokens(answer.length) });
      const settled = await ledger.settle(hold, cost);
      return settled.warnings.map((w) => describeWarning(w, settled.state, settled.limits, userId));
    } catch (err) {
      logger.error({ err }, 'could not settle the chat spend');
      return [];
    }
  }

  /** Runs a media tool the model called in chat through the spend-checked media path. */
  async #makeMedia<M>(
    request: ChatRequest<M>,
    call: ToolCall,
    scope: string,
    signal: AbortSignal,
  ): Promise<{ text?: string; summary?: string; notices: string[] }> {
    const { media } = this.#deps;
    if (!media) return { notices: [] };
    if (!request.surface.postMedia) return { notices: [MEDIA_NOT_POSTABLE] };
    const outcome = await media.create(
      { prompt: request.text, tool: call.name, args: call.arguments },
      { scope, userId: request.userId, dm: request.guildId === null, logger: request.logger },
      signal,
    );
    switch (outcome.kind) {
      case 'refused':
      case 'failed':
        return { notices: [outcome.line] };
      case 'empty':
        return { text: outcome.text, notices: [...outcome.notes, outcome.line] };
      case 'ok': {
        try {
          await request.surface.postMedia({
            header: `-# for <@${request.userId}>`,
            text: '',
            notes: outcome.notes,
            media: outcome.media,
            jobId: outcome.jobId,
          });
        } catch (err) {
          request.logger.error({ err }, 'could not post the media');
          return { notices: ['⚠️ The media was made, but I could not post it here.'] };
        }
        const kind = outcome.media[0]?.kind ?? 'media';
        return { text: outcome.text, summary: `[${kind} made: ${outcome.media.map((m) => m.url).join(' ')}]`, notices: [] };
      }
    }
  }
}

function textLength(messages: ChatMessage[]): number {
  let n = 0;
  for (const m of messages) n += typeof m.content === 'string' ? m.content.length : m.content.reduce((k, p) => k + (p.type === 'text' ? p.text.length : 0), 0);
  return n;
}

function imageCount(messages: ChatMessage[]): number {
  let n = 0;
  for (const m of messages) if (typeof m.content !== 'string') n += m.content.filter((p) => p.type === 'image_url').length;
  return n;
}
