import { ApplicationCommandOptionType } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { words } from '../fakes/fakeSogni.js';
import { greedyJob, mediaRequests } from '../fakes/fakeSogniRuns.js';
import { startHarness, type Harness } from '../fakes/harness.js';
import { solidPng } from '../fixtures/images.js';
import { expectSafeMentions, messageWrites } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const prompt = (value: string) => ({ name: 'prompt', type: ApplicationCommandOptionType.String, value });
/** A status line: waiting, starting, pricing, cancelling, a progress bar, or the completions path's seconds. */
const isStatus = (content: string) => /\n-# (⏳|💰|⏹ Cancelling|[▰▱])/.test(content);
const buttonIds = (m: { components: { components: { custom_id?: string }[] }[] }) => m.components.flatMap((r) => r.components.map((c) => c.custom_id ?? ''));

async function imagine(harness: Harness, text: string, extra: Parameters<Harness['discord']['runCommand']>[0] = { name: 'imagine' }) {
  const interaction = harness.discord.runCommand({ ...extra, name: 'imagine', options: [prompt(text), ...(extra.options ?? [])] });
  const done = await harness.discord.waitFor(() => {
    const m = harness.discord.original(interaction);
    return m && !isStatus(m.content) && m.history.length > 1 ? m : undefined;
  }, 15_000);
  return { interaction, message: done };
}

describe('/imagine', () => {
  it('posts the media as an attachment with the prompt, who asked, and Reroll and Vary buttons', async () => {
    h = await startHarness();
    const { interaction, message } = await imagine(h, 'a fox in the snow');
    expect(interaction.callbacks[0]).toMatchObject({ type: 5 });
    expect(message.content).toContain('**a fox in the snow**');
    expect(message.content).toContain('Here you go.');
    expect(message.attachments.map((a) => a.filename)).toEqual(['sogni-1.png']);
    const ids = buttonIds(message);
    expect(ids.some((id) => id.startsWith('media:reroll:'))).toBe(true);
    expect(ids.some((id) => id.startsWith('media:vary:'))).toBe(true);
    expect(ids.some((id) => id.startsWith('media:cancel:'))).toBe(false);
    expectSafeMentions(messageWrites(h.discord));
    // A durable run that asks before any paid job, keyed by the interaction, paid as configured.
    const run = h.sogni.runs.created[0];
    expect(run?.key).toBe(`r:${interaction.id}`);
    expect(run?.body).toMatchObject({
      confirm_cost: true,
      runtime_config: { requireJobConfirmation: true, jobConfirmationThresholdUsd: 0 },
      token_type: 'auto',
      tool_choice: { type: 'function', function: { name: 'generate_image' } },
    });
    expect(JSON.stringify(run?.body['messages'])).toContain('a fox in the snow');
    expect(h.sogni.mediaCalls()).toHaveLength(0);
    // Charged what was confirmed, and the ledger says the same.
    expect(h.sogni.runs.charged).toEqual([{ runId: run?.id, tool: 'generate_image', spark: 4 }]);
    const state = await h.bot.deps.ledger.state(h.discord.guildId);
    expect(state.recent[0]).toMatchObject({ status: 'settled', actual: 4, kind: 'image' });
    expect(Object.keys(state.reservations)).toHaveLength(0);
  });

  it('shows a large image as an embed when it cannot be re-uploaded', async () => {
    h = await startHarness();
    h.sogni.runs.plan = (body) => ({ jobs: [greedyJob(body)], mediaUrls: ['https://cdn.invalid/expired.png'] });
    const { message } = await imagine(h, 'a boat');
    expect(message.embeds[0]?.image?.url).toBe('https://cdn.invalid/expired.png');
  });

  it('sends an attached image to a run as its link, and to the completions path as a data URI', async () => {
    h = await startHarness();
    const ref = h.discord.addAttachment('me.png', await solidPng(2000, 1000), 'image/png');
    const options = { name: 'imagine', options: [{ name: 'image', type: ApplicationCommandOptionType.Attachment, value: ref.id }], attachments: [ref] };
    await imagine(h, 'make it blue', options);
    expect(h.sogni.runs.created[0]?.body['media_references']).toEqual([{ kind: 'image', url: ref.url }]);
    expect(h.sogni.runs.created[0]?.body['tool_choice']).toEqual({ type: 'function', function: { name: 'edit_image' } });
    await h.close();

    h = await startHarness({ env: { MEDIA_MODE: 'completions' } });
    const again = h.discord.addAttachment('me.png', await solidPng(2000, 1000), 'image/png');
    await imagine(h, 'make it blue', { ...options, options: [{ name: 'image', type: ApplicationCommandOptionType.Attachment, value: again.id }], attachments: [again] });
    const refs = h.sogni.mediaCalls()[0]?.body['media_references'] as { kind: string; url: string }[];
    expect(refs).toHaveLength(1);
    expect(refs[0]?.kind).toBe('image');
    expect(refs[0]?.url).toMatch(/^data:image\/jpeg;base64,/);
  });

  it('refuses an empty or over-long prompt without asking Sogni', async () => {
    h = await startHarness();
    const empty = h.discord.runCommand({ name: 'imagine', options: [prompt('   ')] });
    const long = h.discord.runCommand({ name: 'imagine', options: [prompt('x'.repeat(4500))] });
    await h.discord.waitFor(() => empty.callbacks.length > 0 && long.callbacks.length > 0);
    expect(empty.callbacks[0]).toMatchObject({ type: 4, data: { content: expect.stringContaining('The prompt is empty'), flags: 64 } });
    expect(long.callbacks[0]).toMatchObject({ type: 4, data: { content: expect.stringContaining('keep questions under 4,000'), flags: 64 } });
    expect(h.sogni.calls).toHaveLength(0);
    expect(h.sogni.runs.created).toHaveLength(0);
  });

  it('explains a Sogni error in one line and holds nothing', async () => {
    h = await startHarness();
    h.sogni.runs.createFailure = { status: 402, body: { error: { message: 'no', type: 'billing', code: 'vendor_model_premium_required' } } };
    const { message } = await imagine(h, 'a premium picture');
    expect(message.content).toContain('Premium Spark');
    const state = await h.bot.deps.ledger.state(h.discord.guildId);
    expect(state.daySpent).toBe(0);
    expect(Object.keys(state.reservations)).toHaveLength(0);
    expect(h.sogni.runs.charged).toEqual([]);
  });

  it('says so in one line when the run fails, with the assistant text, and charges nothing', async () => {
    h = await startHarness();
    h.sogni.runs.plan = (body) => ({ jobs: [greedyJob(body)], outcome: 'failed', failureReason: 'blocked by the safety filter', text: 'I could not draw that.' });
    const { message } = await imagine(h, 'something odd');
    expect(message.content).toContain('I could not draw that.');
    expect(message.content).toContain("Sogni couldn't make it: blocked by the safety filter");
    expect(h.sogni.runs.charged).toEqual([]);
    const state = await h.bot.deps.ledger.state(h.discord.guildId);
    expect(state.daySpent).toBe(0);
    expect(state.recent[0]?.status).toBe('released');
  });

  it('keeps Reroll and Vary working after the bot restarts on the same store', async () => {
    h = await startHarness();
    const ref = h.discord.addAttachment('me.png', await solidPng(64, 64), 'image/png');
    const { message } = await imagine(h, 'a lighthouse at dusk', {
      name: 'imagine',
      options: [{ name: 'image', type: ApplicationCommandOptionType.Attachment, value: ref.id }],
      attachments: [ref],
    });
    const [reroll, vary] = buttonIds(message);
    await h.restartBot();
    const pressed = h.discord.pressButton({ customId: reroll as string, message });
    await h.discord.waitFor(() => h?.discord.original(pressed)?.attachments.length, 15_000);
    const second = h.sogni.runs.created[1]?.body;
    expect(JSON.stringify(second?.['messages'])).toContain('a lighthouse at dusk');
    expect(JSON.stringify(second?.['messages'])).toContain('new variation');
    // Reroll of an edit still edits the same picture.
    expect(second?.['media_references']).toEqual([{ kind: 'image', url: ref.url }]);

    const varied = h.discord.pressButton({ customId: vary as string, message });
    await h.discord.waitFor(() => h?.discord.original(varied)?.attachments.length, 15_000);
    const third = h.sogni.runs.created[2]?.body;
    expect(third?.['media_references']).toEqual([{ kind: 'image', url: h.sogni.runs.created[0]?.artifacts[0]?.['url'] }]);
  });
});

describe('media from chat', () => {
  it('makes a picture when a mention asks for one, and keeps plain answers streaming', async () => {
    h = await startHarness();
    h.sogni.answerWith({
      kind: 'stream',
      deltas: words('Sure, drawing a fox for you.'),
      toolCalls: [{ name: 'generate_image', arguments: { prompt: 'a fox in the snow', numberOfVariations: 1 } }],
    });
    // Media takes a while: the reply says it is being made meanwhile.
    h.sogni.runs.plan = (body) => ({ jobs: [greedyJob(body)], progress: [{ progress: 0.5 }], stepMs: 800 });
    h.discord.postUserMessage({ content: 'draw me a fox in the snow' });
    const post = await h.discord.waitFor(() => h?.discord.botMessages().find((m) => m.attachments.length > 0), 15_000);
    expect(post.attachments[0]?.filename).toBe('sogni-1.png');
    expect(buttonIds(post).some((id) => id.startsWith('media:reroll:'))).toBe(true);
    const reply = await h.discord.waitFor(() => h?.discord.botMessages().find((m) => m.content === 'Sure, drawing a fox for you.'));
    expect(reply.history.some((c) => c.includes('making it'))).toBe(true);
    const media = h.sogni.runs.created[0]?.body;
    expect(media?.['tool_choice']).toEqual({ type: 'function', function: { name: 'generate_image' } });
    expect(media?.['confirm_cost']).toBe(true);
    expect(JSON.stringify(media?.['messages'])).toContain('a fox in the snow');
    // The next turn knows an image was made.
    h.sogni.answerWith({ kind: 'stream', deltas: words('ok') });
    h.discord.postUserMessage({ content: 'thanks' });
    await h.sogni.waitFor(() => h?.sogni.chatCalls().length === 2);
    expect(JSON.stringify(h.sogni.chatCalls()[1]?.body['messages'])).toContain('[image made:');
  });

  it('answers with text only and a one-line reason when there is no budget for media', async () => {
    h = await startHarness({ env: { PRICE_IMAGE: '5000', DEFAULT_USER_DAILY_SPARK: 'none' } });
    // Over the daily limit, an offer would only lead to a refusal: the refusal is said at once, with no button.
    h.sogni.answerWith({ kind: 'stream', deltas: words('Here you go.'), toolCalls: [{ name: 'generate_image', arguments: { prompt: 'x' } }] });
    h.discord.postUserMessage({ content: 'draw something expensive' });
    const reply = await h.discord.waitFor(() => h?.discord.botMessages().find((m) => m.content.startsWith('Here you go.') && !m.content.includes('▌')), 15_000);
    expect(reply.content).toMatch(/Here you go\.\n\n⛔ That would go over this server's daily limit/);
    expect(mediaRequests(h.sogni)).toHaveLength(0);
    expect(h.discord.botMessages().some((m) => buttonIds(m).some((id) => id.startsWith('media:make:')))).toBe(false);
  });
});
