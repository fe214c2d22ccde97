import { join } from 'node:path';
import { ApplicationCommandOptionType, PermissionFlagsBits } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/openStore.js';
import type { FakeMessage, FakeUser, InteractionRecord } from '../fakes/fakeDiscord.js';
import { words } from '../fakes/fakeSogni.js';
import { greedyJob, type FakeRun } from '../fakes/fakeSogniRuns.js';
import { startHarness, type Harness } from '../fakes/harness.js';
import { expectSafeMentions, messageWrites } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const MEMBER = String(PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages);
const MANAGER = String(PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages | PermissionFlagsBits.ManageGuild);

/** A status line: waiting, starting, pricing, cancelling, or a progress bar. */
const isStatus = (content: string) => /\n-# (⏳|💰|⏹ Cancelling|[▰▱])/.test(content);
const ids = (m: FakeMessage) => m.components.flatMap((r) => r.components.map((c) => c.custom_id ?? ''));
const cancelId = (m: FakeMessage | undefined) => (m ? ids(m).find((id) => id.startsWith('media:cancel:')) : undefined);

function imagine(harness: Harness, prompt: string, options: { user?: FakeUser; kind?: string; duration?: number } = {}): InteractionRecord {
  return harness.discord.runCommand({
    name: 'imagine',
    permissions: MEMBER,
    ...(options.user ? { user: options.user } : {}),
    options: [
      { name: 'prompt', type: ApplicationCommandOptionType.String, value: prompt },
      ...(options.kind ? [{ name: 'kind', type: ApplicationCommandOptionType.String, value: options.kind }] : []),
      ...(options.duration ? [{ name: 'duration', type: ApplicationCommandOptionType.Integer, value: options.duration }] : []),
    ],
  });
}

function finished(harness: Harness, record: InteractionRecord, timeoutMs = 15_000): Promise<FakeMessage> {
  return harness.discord.waitFor(() => {
    const m = harness.discord.original(record);
    return m && m.history.length > 1 && !isStatus(m.content) ? m : undefined;
  }, timeoutMs);
}

const decided = (run: FakeRun | undefined) => run?.events.some((e) => e.type === 'run_cost_confirmation_resolved') ?? false;
const bars = (m: FakeMessage) => m.history.filter((c) => /[▰▱]/.test(c));
const percents = (m: FakeMessage) => bars(m).map((c) => Number(/(\d+)%/.exec(c)?.[1]));

describe('media runs: progress', () => {
  it('shows a bar, the percentage, the time left, the step and the preview while the run works, then the result', async () => {
    h = await startHarness();
    const preview = `${h.sogni.origin}/media/preview-1.png`;
    h.sogni.runs.plan = (body) => ({
      jobs: [greedyJob(body)],
      stepMs: 700,
      progress: [
        { progress: 0.1, etaSeconds: 40, stepLabel: 'Loading the model' },
        { progress: 0.4, etaSeconds: 25, stepLabel: 'Rendering', resultUrl: preview },
        { progress: 0.7, etaSeconds: 10, stepLabel: 'Rendering' },
        { progress: 0.95, etaSeconds: 2, stepLabel: 'Encoding' },
      ],
    });
    const record = imagine(h, 'a fox in the snow');
    const done = await finished(h, record);

    expect(bars(done).length).toBeGreaterThanOrEqual(2);
    for (const line of bars(done)) expect(line).toMatch(/-# [▰▱]{10} \d+% · about \d+ (s|min) left · (Loading the model|Rendering|Encoding)$/);
    const shown = percents(done);
    expect([...shown].sort((a, b) => a - b)).toEqual(shown);
    // Edits coalesce: nothing is shown twice in a row, and no stale state comes after a newer one.
    done.history.forEach((c, i) => expect(c).not.toBe(done.history[i - 1]));
    expect(new Set(shown).size).toBe(shown.length);
    // The preview and ⏹ Cancel were on the status; the result replaces both.
    const statusEdits = messageWrites(h.discord).filter((c) => c.method === 'PATCH' && JSON.stringify(c.body).includes('▰'));
    expect(statusEdits.some((c) => JSON.stringify(c.body).includes(preview))).toBe(true);
    expect(statusEdits.every((c) => JSON.stringify(c.body).includes('media:cancel:'))).toBe(true);
    expect(done.attachments.map((a) => a.filename)).toEqual(['sogni-1.png']);
    expect(cancelId(done)).toBeUndefined();
    expect(done.embeds).toEqual([]);
    expect(h.discord.rateLimited).toBe(0);
    expectSafeMentions(messageWrites(h.discord));
  });

  it('resumes a dropped event stream with Last-Event-ID, without repeating an edit or a charge', async () => {
    h = await startHarness();
    h.sogni.runs.dropStreams = { afterFrames: 3, count: 2 };
    h.sogni.runs.plan = (body) => ({
      jobs: [greedyJob(body)],
      stepMs: 400,
      progress: [0.2, 0.4, 0.6, 0.8].map((progress) => ({ progress, etaSeconds: 10, stepLabel: 'Rendering' })),
    });
    const record = imagine(h, 'a heron');
    const done = await finished(h, record);

    const streams = h.sogni.runs.requests.filter((r) => r.path.endsWith('/events/stream'));
    expect(streams.length).toBeGreaterThanOrEqual(3);
    const resumed = streams.slice(1).map((r) => Number(r.lastEventId));
    expect(resumed.every((n) => n > 0)).toBe(true);
    // Each resume starts after what the previous connection delivered.
    expect([...resumed].sort((a, b) => a - b)).toEqual(resumed);
    done.history.forEach((c, i) => expect(c).not.toBe(done.history[i - 1]));
    expect(new Set(percents(done)).size).toBe(percents(done).length);
    expect(done.attachments).toHaveLength(1);
    expect(h.sogni.runs.charged).toHaveLength(1);
    expect((await h.bot.deps.ledger.state(h.discord.guildId)).recent.filter((e) => e.status === 'settled')).toHaveLength(1);
  });

  it('polls the run when the event stream is unavailable', async () => {
    h = await startHarness();
    h.sogni.runs.streamUnavailable = true;
    const record = imagine(h, 'a kettle');
    const done = await finished(h, record);
    expect(done.attachments).toHaveLength(1);
    expect(h.sogni.runs.requests.some((r) => r.method === 'GET' && r.path.endsWith('/events') && r.after !== null)).toBe(true);
    expect(h.sogni.runs.charged).toHaveLength(1);
  });
});

describe('media runs: cancel', () => {
  it('cancels for the requester, refuses another member privately, and releases what was held', async () => {
    h = await startHarness();
    h.sogni.runs.plan = (body) => ({ jobs: [greedyJob(body)], hold: true, progress: [{ progress: 0.5, stepLabel: 'Rendering' }] });
    const alice = h.discord.user('alice');
    const record = imagine(h, 'a slow fox', { user: alice, kind: 'video', duration: 5 });
    const status = await h.discord.waitFor(() => {
      const m = h?.discord.original(record);
      return m && cancelId(m) && bars(m).length > 0 ? m : undefined;
    }, 15_000);
    expect((await h.bot.deps.ledger.state(h.discord.guildId)).daySpent).toBe(50);

    const mallory = h.discord.user('mallory');
    const refused = h.discord.pressButton({ customId: cancelId(status) as string, message: status, user: mallory, permissions: MEMBER });
    await h.discord.waitFor(() => refused.callbacks.length > 0);
    expect(refused.callbacks[0]).toMatchObject({ type: 4, data: { content: `Only <@${alice.id}> or a server manager can cancel this.`, flags: 64 } });
    expect(h.sogni.runs.requests.some((r) => r.path.endsWith('/cancel'))).toBe(false);
    expect(h.sogni.runs.run(0)?.status).toBe('running');

    const pressed = h.discord.pressButton({ customId: cancelId(status) as string, message: status, user: alice, permissions: MEMBER });
    await h.discord.waitFor(() => pressed.callbacks.length > 0);
    expect(pressed.callbacks[0]).toMatchObject({ type: 6 });
    const done = await finished(h, record);
    expect(done.content).toContain(`⏹ Cancelled by <@${alice.id}>. Nothing was charged.`);
    expect(cancelId(done)).toBeUndefined();
    expect(h.sogni.runs.run(0)?.status).toBe('cancelled');
    expect(h.sogni.runs.charged).toEqual([]);
    const state = await h.bot.deps.ledger.state(h.discord.guildId);
    expect(state.daySpent).toBe(0);
    expect(Object.keys(state.reservations)).toHaveLength(0);
    expect(state.recent[0]).toMatchObject({ status: 'released', kind: 'video' });
  });

  it('lets a server manager cancel for the requester', async () => {
    h = await startHarness();
    h.sogni.runs.plan = (body) => ({ jobs: [greedyJob(body)], hold: true, progress: [{ progress: 0.5 }] });
    const record = imagine(h, 'a fox');
    const status = await h.discord.waitFor(() => {
      const m = h?.discord.original(record);
      return m && cancelId(m) && bars(m).length > 0 ? m : undefined;
    }, 15_000);
    const mod = h.discord.user('mod');
    h.discord.pressButton({ customId: cancelId(status) as string, message: status, user: mod, permissions: MANAGER });
    const done = await finished(h, record);
    expect(done.content).toContain(`⏹ Cancelled by <@${mod.id}>.`);
    expect(h.sogni.runs.charged).toEqual([]);
  });
});

describe('media runs: the price Sogni previews is held against the limits before it is confirmed', () => {
  it('declines a 100-Spark video with 9 Spark left before anything is charged, and says the price', async () => {
    h = await startHarness({ env: { DEFAULT_DAILY_SPARK: '9' } });
    const record = imagine(h, 'a fox running through the snow', { kind: 'video', duration: 10 });
    const done = await finished(h, record);
    expect(done.content).toContain('⛔ This video would cost about 100 Spark; this server has 9 left today.');
    const run = h.sogni.runs.run(0);
    expect(run?.events.find((e) => e.type === 'run_cost_confirmation_resolved')?.payload).toMatchObject({ decision: 'cancel' });
    expect(run?.status).toBe('cancelled');
    expect(h.sogni.runs.charged).toEqual([]);
    const state = await h.bot.deps.ledger.state(h.discord.guildId);
    expect(state.daySpent).toBe(0);
    expect(Object.keys(state.reservations)).toHaveLength(0);
  });

  it('makes what the member picked: a prompt that mentions video still makes an image by default', async () => {
    h = await startHarness({ env: { DEFAULT_DAILY_SPARK: '9' } });
    const done = await finished(h, imagine(h, 'a 10-second video of a fox'));
    expect(done.attachments).toHaveLength(1);
    expect(h.sogni.runs.charged).toEqual([expect.objectContaining({ tool: 'generate_image', spark: 4 })]);
  });

  it('never lets Sogni charge past the limit: two 100-Spark videos at once against 150', async () => {
    h = await startHarness({ env: { DEFAULT_DAILY_SPARK: '150', DEFAULT_USER_DAILY_SPARK: 'none' } });
    h.sogni.runs.plan = (body) => ({ jobs: [greedyJob(body)], hold: true });
    const records = ['ann', 'ben'].map((name) => imagine(h!, 'a video of the sea', { user: h!.discord.user(name), kind: 'video', duration: 10 }));
    await h.sogni.waitFor(() => h!.sogni.runs.created.length === 2 && h!.sogni.runs.created.every(decided), 15_000);
    for (const run of h.sogni.runs.created) h.sogni.runs.finish(run.id);
    const done = await Promise.all(records.map((r) => finished(h!, r)));
    expect(h.sogni.runs.chargedTotal()).toBe(100);
    expect(done.filter((m) => m.attachments.length === 1)).toHaveLength(1);
    expect(done.filter((m) => m.content.includes('⛔ This video would cost about 100 Spark; this server has 50 left today.'))).toHaveLength(1);
  });

  it('never lets Sogni charge past the limit: five /imagine from five members against a limit that fits three', async () => {
    h = await startHarness({ env: { DEFAULT_DAILY_SPARK: '12', DEFAULT_USER_DAILY_SPARK: 'none' } });
    h.sogni.runs.plan = (body) => ({ jobs: [greedyJob(body)], hold: true });
    const records = ['a', 'b', 'c', 'd', 'e'].map((name) => imagine(h!, `picture ${name}`, { user: h!.discord.user(name) }));
    await h.sogni.waitFor(() => h!.sogni.runs.created.length === 5 && h!.sogni.runs.created.every(decided), 20_000);
    for (const run of h.sogni.runs.created) h.sogni.runs.finish(run.id);
    const done = await Promise.all(records.map((r) => finished(h!, r)));
    expect(h.sogni.runs.chargedTotal()).toBe(12);
    expect(done.filter((m) => m.attachments.length === 1)).toHaveLength(3);
    expect(done.filter((m) => m.content.includes('⛔ This image would cost about 4 Spark; this server has 0 left today.'))).toHaveLength(2);
    const state = await h.bot.deps.ledger.state(h.discord.guildId);
    expect(state.daySpent).toBe(12);
    expect(Object.keys(state.reservations)).toHaveLength(0);
  });

  it('checks every confirmation of a run: the first job is made, the dearer second is declined, the image still posted', async () => {
    h = await startHarness({ env: { DEFAULT_DAILY_SPARK: '50' } });
    h.sogni.runs.plan = () => ({ jobs: [{ tool: 'generate_image', spark: 4 }, { tool: 'generate_video', spark: 100 }] });
    const done = await finished(h, imagine(h, 'a fox, then a video of it'));
    expect(done.attachments).toHaveLength(1);
    expect(done.content).toContain('⛔ This video would cost about 100 Spark; this server has 46 left today.');
    expect(h.sogni.runs.chargedTotal()).toBe(4);
    expect((await h.bot.deps.ledger.state(h.discord.guildId)).daySpent).toBe(4);
  });

  it('reads a price given in US dollars, from the run record when the event lacks it', async () => {
    h = await startHarness();
    h.sogni.runs.plan = (body) => ({ jobs: [greedyJob(body)], previewShape: 'usd', previewIn: 'run-only', reportCost: false });
    const done = await finished(h, imagine(h, 'a lamp'));
    expect(done.attachments).toHaveLength(1);
    const entry = (await h.bot.deps.ledger.state(h.discord.guildId)).recent[0];
    // 0.02 USD at 1 Spark = $0.005; settled with the confirmed price when the run reports none.
    expect(entry).toMatchObject({ estimate: 4, actual: 4, status: 'settled' });
  });

  it('says so in one line when the price expired before it was confirmed (409), and charges nothing', async () => {
    h = await startHarness();
    h.sogni.runs.confirmationTtlMs = -1000;
    const done = await finished(h, imagine(h, 'a tower'));
    expect(done.content).toContain('The price Sogni quoted expired before I could accept it, so nothing was made.');
    expect(h.sogni.runs.requests.some((r) => r.path.endsWith('/confirm-cost') && r.status === 409)).toBe(true);
    expect(h.sogni.runs.charged).toEqual([]);
    const state = await h.bot.deps.ledger.state(h.discord.guildId);
    expect(state.daySpent).toBe(0);
    expect(Object.keys(state.reservations)).toHaveLength(0);
  });

  it('posts a partial result with one line about what failed, and charges only what was made', async () => {
    h = await startHarness();
    h.sogni.runs.plan = () => ({ jobs: [{ tool: 'generate_image', spark: 4 }, { tool: 'generate_image', spark: 4 }], outcome: 'partial_failure', failureReason: 'the second worker crashed' });
    const done = await finished(h, imagine(h, 'two foxes'));
    expect(done.attachments).toHaveLength(1);
    expect(done.content).toContain('⚠️ Part of it failed: the second worker crashed');
    expect(h.sogni.runs.chargedTotal()).toBe(4);
    expect((await h.bot.deps.ledger.state(h.discord.guildId)).daySpent).toBe(4);
  });
});

describe('media runs: a restart loses nothing', () => {
  /** Waits until the run is confirmed and rendering, then stops the bot the way a crash would leave things. */
  async function killMidRun(harness: Harness, record: InteractionRecord) {
    await harness.sogni.waitFor(() => harness.sogni.runs.run(0)?.events.some((e) => e.type === 'tool_call_progress'), 15_000);
    const key = `run:r:${record.id}`;
    const stored = () => harness.bot.store.namespace<{ lastSequence: number; confirmations: { state: string }[] }>('runs').get(key);
    await harness.discord.waitFor(() => bars(harness.discord.original(record) as FakeMessage).length > 0, 15_000);
    const before = await stored();
    expect(before?.confirmations.map((c) => c.state)).toEqual(['confirmed']);
    await harness.stopBot();
    // Stopping wrote nothing the next process could rely on: the record is as the run left it.
    const peek = openStore(`sqlite://${join(harness.storeDir, 'bot.sqlite')}`);
    expect(await peek.namespace('runs').get(key)).toEqual(before);
    await peek.close();
    return before as { lastSequence: number };
  }

  it('finishes the message once and charges once after the bot is killed mid-run', async () => {
    h = await startHarness();
    h.sogni.runs.plan = (body) => ({ jobs: [greedyJob(body)], hold: true, progress: [{ progress: 0.5, stepLabel: 'Rendering' }] });
    const record = imagine(h, 'a long video of a lighthouse', { kind: 'video', duration: 5 });
    const before = await killMidRun(h, record);
    const requestsBefore = h.sogni.runs.requests.length;

    await h.restartBot();
    // The new process re-attaches from the last event it recorded.
    await h.sogni.waitFor(() => h!.sogni.runs.requests.slice(requestsBefore).find((r) => r.path.endsWith('/events/stream')), 15_000);
    const resumedAt = h.sogni.runs.requests.slice(requestsBefore).find((r) => r.path.endsWith('/events/stream'));
    expect(Number(resumedAt?.lastEventId)).toBe(before.lastSequence);
    h.sogni.runs.finish(h.sogni.runs.run(0)?.id as string);

    const done = await finished(h, record);
    expect(done.attachments).toHaveLength(1);
    expect(done.history.filter((c) => c === done.content)).toHaveLength(1);
    expect(h.discord.botMessages().filter((m) => m.attachments.length > 0)).toHaveLength(1);
    expect(h.sogni.runs.created).toHaveLength(1);
    expect(h.sogni.runs.charged).toEqual([expect.objectContaining({ spark: 50 })]);
    const state = await h.bot.deps.ledger.state(h.discord.guildId);
    expect(state.daySpent).toBe(50);
    expect(state.recent.filter((e) => e.status === 'settled')).toEqual([expect.objectContaining({ actual: 50, kind: 'video' })]);
    expect(Object.keys(state.reservations)).toHaveLength(0);
    // Nothing is left to re-attach to.
    expect(await h.bot.deps.media.runs.resumeAll()).toBe(0);
  });

  it('posts the result as a channel message when the interaction token expired meanwhile', async () => {
    h = await startHarness();
    h.sogni.runs.plan = (body) => ({ jobs: [greedyJob(body)], hold: true, progress: [{ progress: 0.5 }] });
    const record = imagine(h, 'a storm at sea');
    await killMidRun(h, record);
    h.discord.ageInteraction(record, 16 * 60_000);
    await h.restartBot();
    await h.sogni.waitFor(() => h!.sogni.runs.requests.filter((r) => r.path.endsWith('/events/stream')).length >= 2, 15_000);
    h.sogni.runs.finish(h.sogni.runs.run(0)?.id as string);

    const posted = await h.discord.waitFor(() => h?.discord.botMessages().find((m) => m.attachments.length > 0), 15_000);
    expect(posted.id).not.toBe(record.originalId);
    expect(posted.webhook_id).toBeUndefined();
    expect(posted.content).toContain('**a storm at sea**');
    expect(ids(posted).some((id) => id.startsWith('media:reroll:'))).toBe(true);
    // Once: nothing else is posted, and Sogni charged once.
    await new Promise((r) => setTimeout(r, 500));
    expect(h.discord.botMessages().filter((m) => m.attachments.length > 0)).toHaveLength(1);
    expect(h.sogni.runs.charged).toHaveLength(1);
    expect((await h.bot.deps.ledger.state(h.discord.guildId)).daySpent).toBe(4);
    expectSafeMentions(messageWrites(h.discord));
  });
});

describe('media runs from chat', () => {
  it('posts a chat answer’s media in the channel once when the bot restarts before it is ready', async () => {
    h = await startHarness();
    const bob = h.discord.user('bob');
    h.sogni.answerWith({ kind: 'stream', deltas: words('Drawing it now.'), toolCalls: [{ name: 'generate_image', arguments: { prompt: 'a fox' } }] });
    h.sogni.runs.plan = (body) => ({ jobs: [greedyJob(body)], hold: true, progress: [{ progress: 0.5 }] });
    h.discord.postUserMessage({ content: 'draw me a fox', author: bob });
    await h.sogni.waitFor(() => h!.sogni.runs.run(0)?.events.some((e) => e.type === 'tool_call_progress'), 15_000);
    await h.restartBot();
    const reply = await h.discord.waitFor(() => h?.discord.botMessages().find((m) => m.content.startsWith('Drawing it now.') && !m.content.includes('▌')), 15_000);
    expect(reply.content).toContain('this will be finished and posted when it is back');
    h.sogni.runs.finish(h.sogni.runs.run(0)?.id as string);
    const posted = await h.discord.waitFor(() => h?.discord.botMessages().find((m) => m.attachments.length > 0), 15_000);
    expect(posted.content).toContain(`for <@${bob.id}>`);
    await new Promise((r) => setTimeout(r, 500));
    expect(h.discord.botMessages().filter((m) => m.attachments.length > 0)).toHaveLength(1);
    expect(h.sogni.runs.charged).toHaveLength(1);
    expect(h.sogni.runs.created[0]?.body['tool_choice']).toEqual({ type: 'function', function: { name: 'generate_image' } });
    // TOKEN_TYPE goes on every paid request, chat included.
    expect(h.sogni.chatCalls()[0]?.body['token_type']).toBe('auto');
    expect(h.sogni.runs.created[0]?.body['token_type']).toBe('auto');
    expectSafeMentions(messageWrites(h.discord));
  });
});

describe('the completions path (MEDIA_MODE=completions)', () => {
  it('forces the tool the member picked, bounds its length, and holds the worst case before sending', async () => {
    h = await startHarness({ env: { MEDIA_MODE: 'completions', MAX_VIDEO_SECONDS: '10' } });
    h.sogni.mediaScript = (body, index) => h!.sogni.runs.completionScript(body, index);
    // The greedy model would make a video from this prompt; the image tool is forced.
    await finished(h, imagine(h, 'a 10-second video of a fox'));
    expect(h.sogni.mediaCalls()[0]?.body['tool_choice']).toEqual({ type: 'function', function: { name: 'generate_image' } });
    expect(h.sogni.runs.charged[0]).toMatchObject({ tool: 'generate_image', spark: 4 });

    // 30 seconds asked, 10 allowed: 10 are sent, and the hold covers them.
    await finished(h, imagine(h, 'waves', { kind: 'video', duration: 30 }));
    const body = h.sogni.mediaCalls()[1]?.body;
    expect(body?.['tool_choice']).toEqual({ type: 'function', function: { name: 'generate_video' } });
    expect(JSON.stringify(body?.['messages'])).toContain('\\"duration\\":10');
    expect(h.sogni.runs.charged[1]).toMatchObject({ tool: 'generate_video', spark: 100 });
    const entries = (await h.bot.deps.ledger.state(h.discord.guildId)).recent;
    const video = entries.find((e) => e.kind === 'video');
    expect(video?.estimate).toBeGreaterThanOrEqual(100);
    expect(video?.actual).toBe(100);
    const image = entries.find((e) => e.kind === 'image');
    expect(image?.estimate).toBeGreaterThanOrEqual(4);
    expect(h.sogni.runs.created).toHaveLength(0);
  });

  it('refuses before sending when the worst case does not fit', async () => {
    h = await startHarness({ env: { MEDIA_MODE: 'completions', DEFAULT_DAILY_SPARK: '50' } });
    h.sogni.mediaScript = (body, index) => h!.sogni.runs.completionScript(body, index);
    const done = await finished(h, imagine(h, 'waves', { kind: 'video', duration: 10 }));
    expect(done.content).toContain("⛔ That would go over this server's daily limit");
    expect(h.sogni.mediaCalls()).toHaveLength(0);
    expect(h.sogni.runs.charged).toEqual([]);
  });
});
