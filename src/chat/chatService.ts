import type { PacerRegistry } from '../core/editPacer.js';
import { describeFailure, type UpstreamFailure } from '../core/describeFailure.js';
import { buildUpstream, type ChatMessage, type Turn } from '../core/history.js';
import type { MediaPost } from '../core/mediaPost.js';
import { CHAT_OUTPUT_RESERVE_TOKENS, chatCost, estimateTokens, toolKind, type PriceTable } from '../core/pricing.js';
import { describeRefusal, describeWarning, spark } from '../core/spendMath.js';
import { MEDIA_STATUS, REASONING_FILE, StreamRenderer, THINKING_STATUS, waitingStatus, type ReplySurface, type SendFailure } from '../core/streamRenderer.js';
import { ThinkFilter } from '../core/thinkFilter.js';
import type { Logger } from '../logger.js';
import type { MediaService } from '../media/mediaService.js';
import type { Sogni, StreamResult, ToolCall, Usage } from '../sogni/sogniClient.js';
import { toFailure } from '../sogni/toFailure.js';
import type { Hold, SpendLedger } from '../spend/spendLedger.js';
import type { HistoryStore } from '../store/historyStore.js';
import type { AttachmentInput, AttachmentRef } from '../vision/readAttachments.js';
import { UNEXPECTED_LINE } from '../userError.js';

/** An offer to make paid media, shown with one button only the asker may press. */
export interface MediaOfferPost {
  content: string;
  /** The stored offer the button accepts. */
  offerId: string;
  label: string;
}

/** Where an answer goes; media from chat needs a way to post files, and offers a way to post a button. */
export interface ChatSurface<M> extends ReplySurface<M> {
  postMedia?(post: MediaPost): Promise<void>;
  postOffer?(offer: MediaOfferPost): Promise<void>;
}

export interface ChatRequest<M> {
  channelId: string;
  guildId: string | null;
  userId: string;
  /** The asker's role ids in the guild: a role's per-person daily limit applies to them. */
  roleIds?: readonly string[];
  /** Display name of the person asking; the model sees who spoke. */
  userName: string;
  text: string;
  /** Files attached to the message (or the one it replies to, or /ask's image). */
  attachments?: readonly AttachmentRef[];
  model: string;
  /**
   * Only the asker sees this exchange (`/ask private:true`): it is kept in the asker's own
   * history for this channel and never written where others' answers read.
   */
  private?: boolean;
  /** The system prompt in force here (a channel's persona); absent: the bot's. */
  systemPrompt?: string;
  /** False where media from chat is off for this channel. */
  offerMedia?: boolean;
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
  /** Media the model asks for that is estimated above this many Spark waits for the asker's button. */
  mediaAutoSpark: number;
  systemPrompt: string;
  timeoutSeconds: number;
  classifySendError(err: unknown): SendFailure;
  readAttachments(refs: readonly AttachmentRef[]): Promise<AttachmentInput>;
  /** Most Discord messages one answer may take (MAX_ANSWER_MESSAGES); the rest is attached as answer.md. */
  maxAnswerMessages?: number;
  /** REASONING: 'attach' adds the model's reasoning to the final message as reasoning.txt; 'hide' (default) drops it. */
  reasoning?: 'hide' | 'attach';
  /** Counts answers by outcome (the ops metrics). */
  metrics?: { answered(outcome: ChatOutcome): void } | undefined;
}

const SHUTDOWN_NOTICE = '⚠️ The bot is restarting, so this answer was cut short. Ask again in a moment.';
const NOTHING_TO_ANSWER = 'I had nothing I could read in that message. Ask a question, or attach an image or a text file.';
const LEDGER_DOWN = "⚠️ I can't record spending right now, so I won't run paid requests. Try again in a moment.";
const HISTORY_WRITE_NOTICE = "⚠️ I couldn't save this exchange, so I may not remember it next time.";
const MEDIA_NOT_POSTABLE = "-# I can't post media here, so I made none.";


/** One answer in a channel: checks the budget, reads the history, streams Sogni's answer into Discord, saves the turns. */
export class ChatService {
  readonly #deps: ChatServiceDeps;
  readonly #active = new Set<{ channelId: string; controller: AbortController; done: Promise<unknown> }>();
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
    const entry = { channelId: request.channelId, controller, done };
    this.#active.add(entry);
    void done.finally(() => this.#active.delete(entry));
    void done.then((outcome) => this.#deps.metrics?.answered(outcome), () => {});
    return done;
  }

  /**
   * Resolves once no answer is in progress in the channel (those that start meanwhile included),
   * or after `timeoutMs`: /forget waits so that no answer writes its turns back after the clear.
   */
  async idle(channelId: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const busy = [...this.#active].filter((a) => a.channelId === channelId).map((a) => a.done);
      if (busy.length === 0) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([Promise.allSettled(busy), new Promise((r) => (timer = setTimeout(r, left)))]);
      clearTimeout(timer);
    }
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
      maxMessages: this.#deps.maxAnswerMessages,
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

  /**
   * One answer, stage by stage: read what was sent, load the conversation, hold the estimate,
   * stream the answer, settle the cost, make media, save the turns, show the end.
   */
  async #run<M>(request: ChatRequest<M>, controller: AbortController, renderer: StreamRenderer<M>): Promise<ChatOutcome> {
    const { logger } = request;
    const scope = request.guildId ?? `dm:${request.userId}`;
    if (this.#closing) {
      await renderer.finish('', SHUTDOWN_NOTICE);
      return { answer: '', delivered: !renderer.gone };
    }
    renderer.startTyping();

    const { userTurn, notes } = await this.#readInput(request);
    if (!userTurn) {
      await renderer.finish('', [...notes, NOTHING_TO_ANSWER].join('\n'));
      return { answer: '', delivered: !renderer.gone };
    }
    const { historyKey, past } = await this.#loadConversation(request);
    // The channel's persona, when an admin set one; else the bot's.
    const upstream = buildUpstream(request.systemPrompt ?? this.#deps.systemPrompt, [...past, userTurn]);

    const promptTokens = estimateTokens(textLength(upstream.messages), imageCount(upstream.messages));
    const held = await this.#hold(request, scope, promptTokens);
    if (!held.ok) {
      await renderer.finish('', [...notes, held.line].join('\n'));
      return { answer: '', delivered: !renderer.gone, refused: true };
    }
    logger.debug({ turns: upstream.messages.length, dropped: upstream.dropped, model: request.model }, 'asking Sogni');

    const started = Date.now();
    const streamed = await this.#stream(request, upstream.messages, controller, renderer);
    const { result, filter } = streamed;
    let { failure } = streamed;
    let answer = filter.end().trim();
    const cutShort = controller.signal.aborted;
    // Only media tools are run, and only through the spend-checked path; any other call is ignored, never guessed at.
    const mediaCall = result.toolCalls?.find((c) => toolKind(c.name) !== 'other');
    if (!failure && !cutShort && !answer && !mediaCall) failure = { kind: 'empty' };

    const notices: string[] = [...notes];
    notices.push(...(await this.#settleChat(held.hold, result.usage, promptTokens, answer, failure, request.userId, logger)));

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
    if (!(await this.#save(historyKey, turns, logger))) notices.push(HISTORY_WRITE_NOTICE);

    const reasoning = this.#deps.reasoning === 'attach' ? filter.reasoning.trim() : '';
    const files = reasoning ? [{ name: REASONING_FILE, text: reasoning }] : [];
    const outcome = renderer.gone ? { delivered: false } : await renderer.finish(answer, notices.join('\n') || undefined, files);
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

  /** The user's turn from the text and the attachments (undefined when nothing in it can be read), and a note per skipped file. */
  async #readInput<M>(request: ChatRequest<M>): Promise<{ userTurn?: Turn; notes: string[] }> {
    const input = request.attachments?.length
      ? await this.#deps.readAttachments(request.attachments)
      : { images: [], textBlocks: [], notes: [] };
    const notes = input.notes.map((n) => `-# ⚠️ ${n}`);
    if (input.notes.length > 0) request.logger.info({ skipped: input.notes.length }, 'some attachments were skipped');
    const content = [request.text, ...input.textBlocks].filter(Boolean).join('\n\n');
    if (!content && input.images.length === 0) return { notes };
    const userTurn: Turn = {
      role: 'user',
      name: request.userName,
      content,
      at: Date.now(),
      ...(input.images.length ? { images: input.images } : {}),
    };
    return { userTurn, notes };
  }

  /**
   * Where this exchange is saved, and what came before it. A private answer may read the
   * channel (the asker sees it anyway) but writes only to the asker's own history.
   */
  async #loadConversation<M>(request: ChatRequest<M>): Promise<{ historyKey: string; past: Turn[] }> {
    const { history } = this.#deps;
    const historyKey = request.private ? privateHistoryKey(request.channelId, request.userId) : request.channelId;
    try {
      const shared = await history.load(request.channelId);
      return { historyKey, past: request.private ? mergeByTime(shared, await history.load(historyKey)) : shared };
    } catch (err) {
      request.logger.error({ err }, 'could not read channel history; answering without it');
      return { historyKey, past: [] };
    }
  }

  /** Chat is paid too: holds an estimate first; nothing is sent when it would break a limit or cannot be recorded. */
  async #hold<M>(request: ChatRequest<M>, scope: string, promptTokens: number): Promise<{ ok: true; hold: Hold } | { ok: false; line: string }> {
    const { ledger, prices } = this.#deps;
    let reserved: Awaited<ReturnType<SpendLedger['reserve']>>;
    try {
      reserved = await ledger.reserve({
        scope,
        userId: request.userId,
        ...(request.roleIds ? { roleIds: request.roleIds } : {}),
        kind: 'chat',
        model: request.model,
        estimate: chatCost(prices, { promptTokens, completionTokens: CHAT_OUTPUT_RESERVE_TOKENS }),
      });
    } catch (err) {
      // Without a ledger entry nothing paid may run: a limit could not be kept.
      request.logger.error({ err }, 'could not record the spend hold; not asking Sogni');
      return { ok: false, line: LEDGER_DOWN };
    }
    if (!reserved.ok) {
      request.logger.info({ limit: reserved.refusal.limit }, 'chat refused by spend limit');
      return { ok: false, line: describeRefusal(reserved.refusal, Date.now(), request.guildId === null) };
    }
    return { ok: true, hold: reserved.hold };
  }

  /** Streams Sogni's answer into the renderer, reasoning filtered out; the result, or why it failed. */
  async #stream<M>(
    request: ChatRequest<M>,
    messages: ChatMessage[],
    controller: AbortController,
    renderer: StreamRenderer<M>,
  ): Promise<{ result: StreamResult; failure?: UpstreamFailure; filter: ThinkFilter }> {
    const offerMedia = Boolean(this.#deps.media) && request.offerMedia !== false;
    let status: string | undefined;
    const show = () => renderer.update(filter.answer, status ?? (filter.thinking || (filter.sawReasoning && !filter.answer) ? THINKING_STATUS : undefined));
    // Text held back in case it is reasoning is shown when its hold ends, even if the model pauses then.
    const filter = new ThinkFilter({ onRelease: show });
    try {
      const stream = this.#deps.sogni.streamChat({
        model: request.model,
        messages,
        signal: controller.signal,
        offerMediaTools: offerMedia,
        maxTokens: CHAT_OUTPUT_RESERVE_TOKENS,
        userId: request.userId,
        onWait: (ahead) => renderer.update(filter.answer, waitingStatus(ahead)),
      });
      for (;;) {
        const next = await stream.next();
        if (next.done) return { result: next.value, filter };
        if (next.value.reasoning) filter.noteReasoning(next.value.reasoning);
        if (next.value.content) filter.push(next.value.content);
        if (next.value.toolCall) status = MEDIA_STATUS;
        show();
      }
    } catch (err) {
      const failure = toFailure(err, this.#deps.timeoutSeconds);
      request.logger.warn({ err, failure: failure.kind }, 'Sogni request failed');
      return { result: {}, failure, filter };
    }
  }

  /** Appends the exchange to its history; false when it could not be saved. */
  async #save(historyKey: string, turns: Turn[], logger: Logger): Promise<boolean> {
    try {
      await this.#deps.history.append(historyKey, turns);
      return true;
    } catch (err) {
      logger.error({ err }, 'could not save channel history');
      return false;
    }
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
    const spec = { prompt: request.text, tool: call.name, args: call.arguments };
    const estimate = media.estimate(spec);
    // The model may have been talked into it by someone else's message: above the threshold, the asker decides.
    if (estimate > this.#deps.mediaAutoSpark) return this.#offerMedia(request, spec, scope, estimate);
    const outcome = await media.create(
      spec,
      {
        scope,
        userId: request.userId,
        ...(request.roleIds ? { roleIds: request.roleIds } : {}),
        dm: request.guildId === null,
        logger: request.logger,
        channelId: request.channelId,
        private: request.private ?? false,
      },
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

  /** Posts the price and a button only the asker can press; nothing is made or charged until they do. */
  async #offerMedia<M>(
    request: ChatRequest<M>,
    spec: { prompt: string; tool: string; args: Record<string, unknown> },
    scope: string,
    estimate: number,
  ): Promise<{ summary?: string; notices: string[] }> {
    const { media, ledger } = this.#deps;
    if (!media || !request.surface.postOffer) return { notices: [MEDIA_NOT_POSTABLE] };
    const refusal = await ledger.check({ scope, userId: request.userId, estimate, ...(request.roleIds ? { roleIds: request.roleIds } : {}) }).catch(() => null);
    if (refusal) return { notices: [describeRefusal(refusal, Date.now(), request.guildId === null)] };
    const kind = toolKind(spec.tool);
    const price = spark(estimate);
    try {
      const offerId = await media.offer({ spec, userId: request.userId, scope, estimate, private: request.private ?? false });
      await request.surface.postOffer({
        content: `-# <@${request.userId}>, this ${kind === 'other' ? 'media' : kind} would cost about ${price}. Press the button within 10 minutes to make it.`,
        offerId,
        label: `Make it (≈${price})`,
      });
    } catch (err) {
      request.logger.error({ err }, 'could not offer the media');
      return { notices: ['⚠️ I could not offer to make that here.'] };
    }
    request.logger.info({ tool: spec.tool, estimate }, 'media offered; waiting for the asker');
    return { summary: `[offered to make a ${kind} (${spec.tool}) for about ${price}; not made unless they accept]`, notices: [] };
  }
}

/** Where a person's private exchanges in a channel are kept, apart from the channel's shared history. */
export function privateHistoryKey(channelId: string, userId: string): string {
  return `${channelId}:private:${userId}`;
}

/** The channel's turns and the asker's private ones, in the order they were said. */
function mergeByTime(shared: readonly Turn[], own: readonly Turn[]): Turn[] {
  return [...shared, ...own].sort((a, b) => a.at - b.at);
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
