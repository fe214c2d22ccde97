/**
 * The benchmark's fake Discord and fake Sogni, in a process of their own so the bot's CPU
 * time, memory and event-loop delay are measured alone. Driven over IPC by bench/run.ts.
 */
import { FakeDiscord, type FakeMessage, type InteractionRecord } from '../test/fakes/fakeDiscord.js';
import { FakeSogni } from '../test/fakes/fakeSogni.js';

/** How the fake Discord counts message writes (see RateLimitMode): the bench runs both. */
export type BenchRateMode = 'shared' | 'separate';

export interface FakesConfig {
  latencyMs: number;
  tokensPerSecond: number;
  tokensPerAnswer: number;
  guilds: number;
  channelsPerGuild: number;
  rateMode: BenchRateMode;
}

/** `post`: a mention in the channel; `ask`: a /ask in it. */
export type ToFakes =
  | { type: 'post'; channelId: string; key: string }
  | { type: 'ask'; channelId: string; key: string }
  | { type: 'progress' }
  | { type: 'dump' }
  | { type: 'stop' };

export interface AnswerRecord {
  key: string;
  kind: 'mention' | 'ask';
  channelId: string;
  expected: string;
  /** When each content delta left the fake Sogni, and the answer length after it. */
  arrivals: { at: number; len: number }[];
  /** When each state of the bot's reply became visible, and how much of the answer it showed. */
  displays: { at: number; len: number }[];
  final: string;
  /** States the answer's message went through (a /ask reply starts with the deferred one). */
  messages: number;
}

export type FromFakes =
  | { type: 'ready'; token: string; apiUrl: string; sogniBaseUrl: string; apiKey: string; channels: string[]; mainChannel: string }
  | { type: 'progress'; done: number }
  | { type: 'dump'; answers: AnswerRecord[]; rateLimited: number; requests: number };

const WORDS = ['the', 'fox', 'ran', 'to', 'a', 'big', 'red', 'barn', 'and', 'sat', 'on', 'hay'];

/** Streaming markers of our bot and of the peer policies: what is not answer text. */
const MARKERS = /( ▌| ⚪)(\n-#[^\n]*)?$/;

function visibleLength(content: string, expected: string): number {
  const text = content.replace(MARKERS, '').trimEnd();
  return expected.startsWith(text) ? text.length : 0;
}

const config = JSON.parse(process.env['FAKES_CONFIG'] ?? '{}') as FakesConfig;
const discord = await new FakeDiscord({
  latencyMs: config.latencyMs,
  extraGuilds: config.guilds,
  channelsPerGuild: config.channelsPerGuild,
  rateLimit: { mode: config.rateMode },
}).start();
const sogni = await new FakeSogni().start();
const answers = new Map<string, { kind: 'mention' | 'ask'; channelId: string; userMessageId?: string; interaction?: InteractionRecord; expected: string }>();

sogni.script = (body) => {
  const messages = body['messages'] as { content: string }[];
  const key = /\bq(\w+)\b/.exec(messages.at(-1)?.content ?? '')?.[1] ?? 'unknown';
  const deltas = Array.from({ length: config.tokensPerAnswer }, (_, i) => `${WORDS[(i * 7 + key.length) % WORDS.length]} `);
  const answer = answers.get(key);
  if (answer) answer.expected = deltas.join('').trim();
  return { kind: 'stream', deltas, intervalMs: 1000 / config.tokensPerSecond };
};

const channels = [...discord.extraGuilds.values()].flat();
const send = (message: FromFakes) => process.send?.(message);

/** The bot's replies by the message they answer, indexed once per look (a scan per answer would cost the fakes' CPU n² at 500 answers). */
function repliesByQuestion(): Map<string, FakeMessage> {
  const replies = new Map<string, FakeMessage>();
  for (const m of discord.messages.values()) {
    const question = m.message_reference?.message_id;
    if (question && m.author.id === discord.botUser.id && !replies.has(question)) replies.set(question, m);
  }
  return replies;
}

function finalMessage(key: string, replies: Map<string, FakeMessage>) {
  const answer = answers.get(key);
  if (!answer) return undefined;
  if (answer.interaction) return discord.original(answer.interaction);
  return answer.userMessageId ? replies.get(answer.userMessageId) : undefined;
}

process.on('message', (raw: ToFakes) => {
  if (raw.type === 'post') {
    const message = discord.postUserMessage({ content: `q${raw.key} please answer`, channelId: raw.channelId });
    answers.set(raw.key, { kind: 'mention', channelId: raw.channelId, userMessageId: message.id, expected: '' });
  } else if (raw.type === 'ask') {
    const interaction = discord.runCommand({ name: 'ask', channelId: raw.channelId, options: [{ name: 'prompt', type: 3, value: `q${raw.key} please answer` }] });
    answers.set(raw.key, { kind: 'ask', channelId: raw.channelId, interaction, expected: '' });
  } else if (raw.type === 'progress') {
    let done = 0;
    const replies = repliesByQuestion();
    for (const [key, answer] of answers) if (answer.expected && finalMessage(key, replies)?.content === answer.expected) done += 1;
    send({ type: 'progress', done });
  } else if (raw.type === 'dump') {
    const records: AnswerRecord[] = [];
    const replies = repliesByQuestion();
    for (const [key, answer] of answers) {
      const call = sogni.calls.find((c) => JSON.stringify(c.body['messages']).includes(`q${key} `));
      const message = finalMessage(key, replies);
      let len = 0;
      records.push({
        key,
        kind: answer.kind,
        channelId: answer.channelId,
        expected: answer.expected,
        arrivals: (call?.deltaAt ?? []).map((at, i) => {
          len += call?.deltaText[i]?.length ?? 0;
          return { at, len: Math.min(len, answer.expected.length) };
        }),
        displays: (message?.history ?? []).map((content, i) => ({ at: message?.historyAt[i] ?? 0, len: visibleLength(content, answer.expected) })),
        final: message?.content ?? '',
        messages: message ? message.history.length : 0,
      });
    }
    send({ type: 'dump', answers: records, rateLimited: discord.rateLimited, requests: discord.calls.length });
  } else if (raw.type === 'stop') {
    void Promise.all([discord.stop(), sogni.stop()]).then(() => process.exit(0));
  }
});

send({ type: 'ready', token: discord.token, apiUrl: discord.apiUrl, sogniBaseUrl: sogni.baseUrl, apiKey: sogni.apiKey, channels, mainChannel: discord.channelId });
