/**
 * `npm run bench`: the real bot (discord.js client, openai SDK, SQLite) against the fake
 * Discord and fake Sogni on loopback, in a separate process, with the fake counting Discord's
 * limits both ways (`shared`, `separate`). Prints tables and writes bench/results.json. See
 * the README's "Benchmark" section for how to read it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createBot } from '../src/bot.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { HOLD_CHARS, HOLD_MS } from '../src/core/thinkFilter.js';
import type { AnswerRecord, BenchRateMode, FakesConfig, FromFakes, ToFakes } from './fakesProcess.js';
import { startPeer, type PeerPolicy } from './peers.js';
import { storeBench, type StoreFigures } from './storeBench.js';

const here = dirname(fileURLToPath(import.meta.url));
const LATENCY_MS = Number(process.env['BENCH_LATENCY_MS'] ?? 50);
const TOKENS_PER_SECOND = Number(process.env['BENCH_TOKENS_PER_SECOND'] ?? 50);
const TOKENS_PER_ANSWER = Number(process.env['BENCH_TOKENS'] ?? 400);
const SCALES = (process.env['BENCH_SCALES'] ?? '1,10,100,500').split(',').map(Number).filter((n) => n > 0);
const STORE_CHANNELS = Number(process.env['BENCH_STORE_CHANNELS'] ?? 100_000);
/**
 * Channels per server: the answers of one server reserve and settle their spend under the
 * ledger's per-server lock, so 25 busy channels in a server is also a test of the ledger.
 */
const CHANNELS_PER_GUILD = Number(process.env['BENCH_CHANNELS_PER_GUILD'] ?? 25);
/**
 * The budgets the fake Discord enforces and the ideal is computed from: 5 per 5 s per bucket
 * (one send a second, evenly), 50 requests a second for the bot.
 */
const BUCKET_PERIOD_MS = 1000;
const GLOBAL_PER_SECOND = 50;
const MODES: BenchRateMode[] = (process.env['BENCH_MODES'] ?? 'shared,separate').split(',') as BenchRateMode[];

type Runner = { kind: 'ours' } | { kind: 'peer'; policy: PeerPolicy };

interface Scenario {
  name: string;
  answers: number;
  /** Answers per channel (they share its budget). */
  perChannel: number;
  /** Of each channel's answers, how many come by /ask (the rest by mention). */
  asksPerChannel: number;
  mode: BenchRateMode;
}

interface Figures {
  scenario: string;
  mode: BenchRateMode;
  runner: string;
  answers: number;
  lagP50: number;
  lagP95: number;
  idealP50: number;
  idealP95: number;
  ratioP50: number;
  ratioP95: number;
  firstTextP95: number;
  editsPerAnswer: number;
  rateLimited: number;
  finalEqual: number;
  cpuMsPer1000Tokens: number;
  peakRssMb: number;
  eventLoopP99Ms: number;
  seconds: number;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

class Fakes {
  readonly child: ChildProcess;
  readonly #waiters: ((m: FromFakes) => boolean)[] = [];

  constructor(config: FakesConfig) {
    this.child = fork(join(here, 'fakesProcess.ts'), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, FAKES_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (m: FromFakes) => {
      const i = this.#waiters.findIndex((w) => w(m));
      if (i >= 0) this.#waiters.splice(i, 1);
    });
  }

  next<T extends FromFakes['type']>(type: T): Promise<Extract<FromFakes, { type: T }>> {
    return new Promise((resolve) => {
      this.#waiters.push((m) => {
        if (m.type !== type) return false;
        resolve(m as Extract<FromFakes, { type: T }>);
        return true;
      });
    });
  }

  send(message: ToFakes): void {
    this.child.send(message);
  }

  async ask<T extends FromFakes['type']>(message: ToFakes, type: T): Promise<Extract<FromFakes, { type: T }>> {
    const reply = this.next(type);
    this.send(message);
    return reply;
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.send({ type: 'stop' });
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    this.child.kill();
  }
}

/**
 * When each arrival becomes showable: the bot holds untagged text back until it is
 * HOLD_CHARS long or HOLD_MS old (it could still turn out to be reasoning), so no bot following
 * that rule can show it sooner. Lag is measured from here, for every runner.
 */
function showableTimes(answer: AnswerRecord): number[] {
  const first = answer.arrivals[0]?.at ?? 0;
  const longEnough = answer.arrivals.find((a) => a.len >= HOLD_CHARS)?.at ?? Infinity;
  const release = Math.min(first + HOLD_MS, longEnough);
  return answer.arrivals.map((a) => Math.max(a.at, release));
}

/** Where an answer sits: `g` of `n` overall, and how its edits share a budget with others. */
interface Place {
  g: number;
  n: number;
  /** Sends counted in the answer's edit budget before its edits (the creates that share it). */
  creates: number;
  /** Answers whose edits share that budget, and this answer's turn among them. */
  sharing: number;
  turn: number;
}

/**
 * The place of answer `g` under the rule the fake enforces in `mode`. `shared`: a channel's
 * creates and edits, /ask webhooks included, are one budget, so its k answers' k first
 * messages are counted before their edits take turns. `separate`: the mentions of a channel
 * take turns on its edit budget (their creates are counted apart); each /ask has its token's
 * budget to itself, its first message included.
 */
function placeOf(g: number, scenario: Scenario): Place {
  const k = scenario.perChannel;
  const i = g % k;
  const asks = Math.min(scenario.asksPerChannel, k);
  const base = { g, n: scenario.answers };
  if (scenario.mode === 'shared') return { ...base, creates: k, sharing: k, turn: i };
  if (i < asks) return { ...base, creates: 1, sharing: 1, turn: 0 };
  return { ...base, creates: 0, sharing: k - asks, turn: i - asks };
}

/**
 * The best any bot could show within the fake Discord's budgets, counting every message it
 * creates: each answer's first message as soon as its text is showable (as the bot's 50/s
 * allows: one request per 1/50 s), then its edits at its turns on the budget they draw on (one
 * send a second), and one per 1/50 s for the bot. The first turn on an edit budget no create
 * has used is a second in (at once it would show nothing new). Each send shows everything
 * showable before it, a REST latency later. No safety margin: a real bot needs a little.
 */
function idealLags(answer: AnswerRecord, place: Place): number[] {
  const showable = showableTimes(answer);
  const t0 = showable[0] ?? 0;
  const globalStep = 1000 / GLOBAL_PER_SECOND;
  const turn = (j: number) => Math.max(place.creates, 1) + (j - 1) * place.sharing + place.turn;
  const slot = (j: number) =>
    j === 0 ? t0 + place.g * globalStep : t0 + Math.max(turn(j) * BUCKET_PERIOD_MS, (j * place.n + place.g) * globalStep);
  const lags: number[] = [];
  let previous = 0;
  let j = 0;
  answer.arrivals.forEach(({ len }, i) => {
    const at = showable[i] as number;
    while (slot(j) < at) j += 1;
    for (let c = previous; c < len; c++) lags.push(slot(j) + LATENCY_MS - at);
    previous = len;
  });
  return lags;
}

/** Our lags (and the peers'), from when text became showable; a peer that shows text the hold would keep counts 0 for it. */
function actualLags(answer: AnswerRecord): number[] {
  const showable = showableTimes(answer);
  const lags: number[] = [];
  let previous = 0;
  answer.arrivals.forEach(({ len }, i) => {
    const at = showable[i] as number;
    for (let c = previous; c < len; c++) {
      const shown = answer.displays.find((d) => d.len > c);
      if (shown) lags.push(Math.max(0, shown.at - at));
    }
    previous = len;
  });
  return lags;
}

/** Edits after the first text: a /ask reply starts as the deferred "thinking" state. */
function editsOf(answer: AnswerRecord): number {
  return Math.max(0, answer.messages - (answer.kind === 'ask' ? 2 : 1));
}

async function runScenario(scenario: Scenario, runner: Runner): Promise<Figures> {
  const channelsNeeded = Math.ceil(scenario.answers / scenario.perChannel);
  const channelsPerGuild = Math.min(CHANNELS_PER_GUILD, channelsNeeded);
  const fakes = new Fakes({
    latencyMs: LATENCY_MS,
    tokensPerSecond: TOKENS_PER_SECOND,
    tokensPerAnswer: TOKENS_PER_ANSWER,
    guilds: Math.ceil(channelsNeeded / channelsPerGuild),
    channelsPerGuild,
    rateMode: scenario.mode,
  });
  const ready = await fakes.next('ready');
  const storeDir = mkdtempSync(join(tmpdir(), 'sogni-bench-'));
  let stop: () => Promise<void>;
  if (runner.kind === 'ours') {
    const config = loadConfig({
      DISCORD_TOKEN: ready.token,
      SOGNI_API_KEY: ready.apiKey,
      SOGNI_BASE_URL: ready.sogniBaseUrl,
      DISCORD_API_URL: ready.apiUrl,
      STORE_URL: `sqlite://${join(storeDir, 'bot.sqlite')}`,
      LOG_LEVEL: 'silent',
      // The benchmark measures streaming, not budgets.
      DEFAULT_DAILY_SPARK: '10000000',
      DEFAULT_MONTHLY_SPARK: '10000000',
      DEFAULT_USER_DAILY_SPARK: 'none',
      // Nor Sogni's rate limit: the fake has none, and hundreds of answers start at once.
      SOGNI_RATE_LIMIT: '100000',
    });
    // BENCH_LOG_LEVEL=warn prints the bot's own warnings (answers that failed, and why) as JSON lines.
    const bot = createBot(config, createLogger({ level: (process.env['BENCH_LOG_LEVEL'] ?? 'silent') as 'silent' }));
    await bot.start();
    stop = () => bot.stop();
  } else {
    const peer = await startPeer(runner.policy, ready);
    stop = () => peer.stop();
  }

  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  // BENCH_DEBUG: the event loop's worst delay in each second, to see when the bot falls behind.
  const perSecond = monitorEventLoopDelay({ resolution: 5 });
  const secondsMax: number[] = [];
  const secondTicker = process.env['BENCH_DEBUG']
    ? setInterval(() => {
        secondsMax.push(Math.round(perSecond.max / 1e6));
        perSecond.reset();
      }, 1000)
    : undefined;
  if (secondTicker) perSecond.enable();
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const cpuStart = process.cpuUsage();
  const started = Date.now();
  for (let i = 0; i < scenario.answers; i++) {
    const ask = i % scenario.perChannel < scenario.asksPerChannel;
    // Interactions come from the fake's main server, so /ask scenarios use its channel.
    const channelId = scenario.asksPerChannel > 0 ? ready.mainChannel : (ready.channels[Math.floor(i / scenario.perChannel)] as string);
    fakes.send({ type: ask ? 'ask' : 'post', channelId, key: `${i}x` });
  }
  const deadline = Date.now() + 60_000 + scenario.answers * 200;
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    const { done } = await fakes.ask({ type: 'progress' }, 'progress');
    if (done >= scenario.answers || Date.now() > deadline) break;
  }
  const seconds = (Date.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  clearInterval(sampler);
  loop.disable();
  if (secondTicker) {
    clearInterval(secondTicker);
    perSecond.disable();
    console.log(`  ${scenario.name}: worst event-loop delay per second (ms): ${secondsMax.join(' ')}`);
  }
  const dump = await fakes.ask({ type: 'dump' }, 'dump');
  await stop();
  await fakes.stop();
  rmSync(storeDir, { recursive: true, force: true });

  if (process.env['BENCH_DEBUG']) {
    writeFileSync(join(tmpdir(), `bench-${scenario.mode}-${scenario.name.replace(/\W+/g, '_')}-${runner.kind === 'ours' ? 'ours' : runner.policy}.json`), JSON.stringify(dump.answers));
  }
  const lags = dump.answers.flatMap(actualLags);
  const ideal = dump.answers.flatMap((a) => idealLags(a, placeOf(Number.parseInt(a.key, 10), scenario)));
  // From when the first text was showable; a runner that shows text the hold would keep (the peers) counts 0.
  const firstText = dump.answers.map((a) => Math.max(0, (a.displays.find((d) => d.len > 0)?.at ?? Infinity) - (showableTimes(a)[0] ?? 0)));
  const tokens = scenario.answers * TOKENS_PER_ANSWER;
  const figures: Figures = {
    scenario: scenario.name,
    mode: scenario.mode,
    runner: runner.kind === 'ours' ? 'ours' : runner.policy,
    answers: scenario.answers,
    lagP50: percentile(lags, 50),
    lagP95: percentile(lags, 95),
    idealP50: percentile(ideal, 50),
    idealP95: percentile(ideal, 95),
    ratioP50: percentile(lags, 50) / percentile(ideal, 50),
    ratioP95: percentile(lags, 95) / percentile(ideal, 95),
    firstTextP95: percentile(firstText, 95),
    editsPerAnswer: dump.answers.reduce((n, a) => n + editsOf(a), 0) / dump.answers.length,
    rateLimited: dump.rateLimited,
    finalEqual: dump.answers.filter((a) => a.final === a.expected && a.expected !== '').length / dump.answers.length,
    cpuMsPer1000Tokens: ((cpu.user + cpu.system) / 1000 / tokens) * 1000,
    peakRssMb: peakRss / 1024 / 1024,
    eventLoopP99Ms: loop.percentile(99) / 1e6,
    seconds,
  };
  return figures;
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '—');

function table(rows: Figures[]): string {
  const header = ['scenario', 'mode', 'runner', 'lag p50', 'lag p95', 'ideal p50/p95', 'ratio p50/p95', '1st text p95', 'edits/ans', '429s', 'final ok', 'cpu ms/1k tok', 'rss MB', 'loop p99'];
  const lines = rows.map((r) => [
    r.scenario,
    r.mode,
    r.runner,
    `${fmt(r.lagP50)} ms`,
    `${fmt(r.lagP95)} ms`,
    `${fmt(r.idealP50)}/${fmt(r.idealP95)} ms`,
    `${fmt(r.ratioP50, 2)}/${fmt(r.ratioP95, 2)}`,
    `${fmt(r.firstTextP95)} ms`,
    fmt(r.editsPerAnswer, 1),
    String(r.rateLimited),
    `${fmt(r.finalEqual * 100)}%`,
    fmt(r.cpuMsPer1000Tokens, 1),
    fmt(r.peakRssMb),
    `${fmt(r.eventLoopP99Ms, 1)} ms`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const row = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ');
  return [row(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...lines.map(row)].join('\n');
}

const results: { streaming: Figures[]; peers: Figures[]; scale: Figures[]; store?: StoreFigures; settings: Record<string, number> } = {
  streaming: [],
  peers: [],
  scale: [],
  settings: { latencyMs: LATENCY_MS, tokensPerSecond: TOKENS_PER_SECOND, tokensPerAnswer: TOKENS_PER_ANSWER },
};

const ONLY_SCALE = process.env['BENCH_ONLY_SCALE'] === '1';
const PEERS = process.env['BENCH_PEERS'] === '0' ? [] : (['llmcord', 'turingai', 'js-llmcord'] as const);
const lagShapes = [
  { name: '1 answer/channel ×5', answers: 5, perChannel: 1, asksPerChannel: 0 },
  { name: '3 answers in 1 channel', answers: 3, perChannel: 3, asksPerChannel: 0 },
  { name: '2 /ask + 1 mention in 1 channel', answers: 3, perChannel: 3, asksPerChannel: 2 },
];
const ONLY = process.env['BENCH_ONLY'];
const lagScenarios: Scenario[] = ONLY_SCALE
  ? []
  : MODES.flatMap((mode) => lagShapes.map((shape) => ({ ...shape, mode }))).filter((s) => !ONLY || s.name.includes(ONLY));
console.log(
  `Fake Discord: ${LATENCY_MS} ms REST latency, 5 writes/5 s per bucket (shared: a channel's creates, edits and /ask webhooks together; separate: creates, edits and each /ask token apart), 50 req/s global. Fake Sogni: ${TOKENS_PER_SECOND} tokens/s, ${TOKENS_PER_ANSWER}-token answers.\n`,
);
for (const scenario of lagScenarios) {
  const ours = await runScenario(scenario, { kind: 'ours' });
  results.streaming.push(ours);
  console.log(`  ${scenario.name} · ${scenario.mode} · ours: ratio ${fmt(ours.ratioP50, 2)}/${fmt(ours.ratioP95, 2)}, ${ours.rateLimited} × 429`);
  for (const policy of PEERS) results.peers.push(await runScenario(scenario, { kind: 'peer', policy }));
}
const order = (r: Figures) => `${r.mode} ${lagShapes.findIndex((l) => l.name === r.scenario)} ${r.runner === 'ours' ? 0 : 1}`;
console.log('\nDisplay lag, ours beside the peer policies (same fakes, same run):');
console.log(table([...results.streaming, ...results.peers].sort((a, b) => order(a).localeCompare(order(b)))));
console.log('\nPeers as a ratio to ours (lag p50, lag p95, 429s, edits/answer):');
for (const peer of results.peers) {
  const ours = results.streaming.find((o) => o.scenario === peer.scenario && o.mode === peer.mode);
  if (!ours) continue;
  console.log(
    `  ${peer.scenario} · ${peer.mode} · ${peer.runner}: lag ×${fmt(peer.lagP50 / ours.lagP50, 2)} / ×${fmt(peer.lagP95 / ours.lagP95, 2)}, 429s ${peer.rateLimited} vs ${ours.rateLimited}, edits ×${fmt(peer.editsPerAnswer / ours.editsPerAnswer, 2)}`,
  );
}

const SCALE_MODE: BenchRateMode = (process.env['BENCH_SCALE_MODE'] as BenchRateMode | undefined) ?? 'separate';
for (const n of SCALES) {
  results.scale.push(await runScenario({ name: `scale ${n}`, answers: n, perChannel: 1, asksPerChannel: 0, mode: SCALE_MODE }, { kind: 'ours' }));
}
console.log(`\nScale (1 answer per channel, ${CHANNELS_PER_GUILD} channels per server, ${SCALE_MODE} buckets):`);
console.log(table(results.scale));

if (STORE_CHANNELS > 0) {
  results.store = await storeBench(STORE_CHANNELS);
  const s = results.store;
  console.log(`\nStore (SQLite, ${s.channels.toLocaleString('en-US')} channels stored, ${s.fileMb.toFixed(0)} MB):`);
  console.log(`  history load+trim+append (full 60-turn channel): ${fmt(s.history.opsPerSecond)} ops/s, p50 ${fmt(s.history.p50Ms, 2)} ms, p99 ${fmt(s.history.p99Ms, 2)} ms`);
  console.log(`  history, 50 at once over different channels:   ${fmt(s.historyConcurrent.opsPerSecond)} ops/s, p99 ${fmt(s.historyConcurrent.p99Ms, 2)} ms`);
  console.log(`  ledger reserve+settle:                          ${fmt(s.ledger.opsPerSecond)} ops/s, p50 ${fmt(s.ledger.p50Ms, 2)} ms, p99 ${fmt(s.ledger.p99Ms, 2)} ms`);
}

writeFileSync(join(here, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
console.log('\nWrote bench/results.json');
process.exit(0);
