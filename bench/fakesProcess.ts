/**
 * The benchmark's fake Discord and fake Sogni, in a process of their own so the bot's CPU
 * time, memory and event-loop delay are measured alone. Driven over IPC by bench/run.ts.
 */
import { FakeDiscord } from '../test/fakes/fakeDiscord.js';
import { FakeSogni } from '../test/fakes/fakeSogni.js';

export interface FakesConfig {
  latencyMs: number;
  tokensPerSecond: number;
  tokensPerAnswer: number;
  guilds: number;
  channelsPerGuild: number;
}

export type ToFakes = { type: 'post'; channelId: string; key: string } | { type: 'progress' } | { type: 'dump' } | { type: 'stop' };

export interface AnswerRecord {
  key: string;
  channelId: string;
  expected: string;
  /** When each content delta left the fake Sogni, and the answer length after it. */
  arrivals: { at: number; len: number }[];
  /** When each state of the bot's reply became visible, and how much of the answer it showed. */
  displays: { at: number; len: number }[];
  final: string;
  messages: number;
}

export type FromFakes =
  | { type: 'ready'; token: string; apiUrl: string; sogniBaseUrl: string; apiKey: string; channels: string[] }
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
}).start();
const sogni = await new FakeSogni().start();
const answers = new Map<string, { channelId: string; userMessageId: string; expected: string }>();

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

function finalMessage(key: string) {
  const answer = answers.get(key);
  if (!answer) return undefined;
  return [...discord.messages.values()].find((m) => m.message_reference?.message_id === answer.userMessageId && m.author.id === discord.botUser.id);
}

process.on('message', (raw: ToFakes) => {
  if (raw.type === 'post') {
    const message = discord.postUserMessage({ content: `q${raw.key} please answer`, channelId: raw.channelId });
    answers.set(raw.key, { channelId: raw.channelId, userMessageId: message.id, expected: '' });
  } else if (raw.type === 'progress') {
    let done = 0;
    for (const [key, answer] of answers) if (answer.expected && finalMessage(key)?.content === answer.expected) done += 1;
    send({ type: 'progress', done });
  } else if (raw.type === 'dump') {
    const records: AnswerRecord[] = [];
    for (const [key, answer] of answers) {
      const call = sogni.calls.find((c) => JSON.stringify(c.body['messages']).includes(`q${key} `));
      const message = finalMessage(key);
      let len = 0;
      records.push({
        key,
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

send({ type: 'ready', token: discord.token, apiUrl: discord.apiUrl, sogniBaseUrl: sogni.baseUrl, apiKey: sogni.apiKey, channels });
