import { ApplicationCommandOptionType } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { imageResult, words } from '../fakes/fakeSogni.js';
import { startHarness, type Harness } from '../fakes/harness.js';
import { solidPng } from '../fixtures/images.js';
import { expectSafeMentions, messageWrites } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const prompt = (value: string) => ({ name: 'prompt', type: ApplicationCommandOptionType.String, value });
const buttonIds = (m: { components: { components: { custom_id?: string }[] }[] }) => m.components.flatMap((r) => r.components.map((c) => c.custom_id ?? ''));

async function imagine(harness: Harness, text: string, extra: Parameters<Harness['discord']['runCommand']>[0] = { name: 'imagine' }) {
  const interaction = harness.discord.runCommand({ ...extra, name: 'imagine', options: [prompt(text), ...(extra.options ?? [])] });
  const done = await harness.discord.waitFor(() => {
    const m = harness.discord.original(interaction);
    return m && !m.content.includes('Working on it') && m.history.length > 1 ? m : undefined;
  }, 15_000);
  return { interaction, message: done };
}

describe('/imagine', () => {
  it('posts the media as an attachment with the prompt, who asked, and Reroll and Vary buttons', async () => {
    h = await startHarness();
    const { interaction, message } = await imagine(h, 'a fox in the snow');
    expect(interaction.callbacks[0]).toMatchObject({ type: 5 });
    expect(message.history.some((c) => c.includes('Working on it'))).toBe(true);
    expect(message.content).toContain('**a fox in the snow**');
    expect(message.content).toContain('Here is your image.');
    expect(message.attachments.map((a) => a.filename)).toEqual(['sogni-1.png']);
    const ids = buttonIds(message);
    expect(ids.some((id) => id.startsWith('media:reroll:'))).toBe(true);
    expect(ids.some((id) => id.startsWith('media:vary:'))).toBe(true);
    expectSafeMentions(messageWrites(h.discord));
    const body = h.sogni.mediaCalls()[0]?.body;
    expect(body).toMatchObject({ stream: false, sogni_tools: 'creative-tools', sogni_tool_execution: true, token_type: 'auto' });
    expect(JSON.stringify(body?.['messages'])).toContain('a fox in the snow');
  });

  it('shows a large image as an embed when it cannot be re-uploaded', async () => {
    h = await startHarness();
    h.sogni.mediaScript = () => ({ kind: 'json', body: imageResult('https://cdn.invalid/expired.png') });
    const { message } = await imagine(h, 'a boat');
    expect(message.embeds[0]?.image?.url).toBe('https://cdn.invalid/expired.png');
  });

  it('sends an attached image as the reference to edit', async () => {
    h = await startHarness();
    const ref = h.discord.addAttachment('me.png', await solidPng(2000, 1000), 'image/png');
    await imagine(h, 'make it blue', { name: 'imagine', options: [{ name: 'image', type: ApplicationCommandOptionType.Attachment, value: ref.id }], attachments: [ref] });
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
  });

  it('explains a Sogni error in one line and releases the hold', async () => {
    h = await startHarness();
    h.sogni.mediaScript = () => ({ kind: 'error', status: 402, body: { error: { message: 'no', type: 'billing', code: 'vendor_model_premium_required' } } });
    const { message } = await imagine(h, 'a premium picture');
    expect(message.content).toContain('Premium Spark');
    const state = await h.bot.deps.ledger.state(h.discord.guildId);
    expect(state.daySpent).toBe(0);
    expect(state.recent[0]?.status).toBe('released');
  });

  it('says so when Sogni returns no media, with the assistant text', async () => {
    h = await startHarness();
    h.sogni.mediaScript = () => ({
      kind: 'json',
      body: { choices: [{ index: 0, message: { role: 'assistant', content: 'I could not draw that.' }, finish_reason: 'stop' }], sogni_tool_results: [{ ok: false, tool: 'generate_image', message: 'blocked by the safety filter' }] },
    });
    const { message } = await imagine(h, 'something odd');
    expect(message.content).toContain('I could not draw that.');
    expect(message.content).toContain("Sogni couldn't make it: blocked by the safety filter");
  });

  it('keeps Reroll and Vary working after the bot restarts on the same store', async () => {
    h = await startHarness();
    const { message } = await imagine(h, 'a lighthouse at dusk');
    const [reroll, vary] = buttonIds(message);
    await h.restartBot();
    const pressed = h.discord.pressButton({ customId: reroll as string, message });
    await h.discord.waitFor(() => h?.discord.original(pressed)?.attachments.length, 15_000);
    const second = h.sogni.mediaCalls()[1]?.body;
    expect(JSON.stringify(second?.['messages'])).toContain('a lighthouse at dusk');
    expect(JSON.stringify(second?.['messages'])).toContain('new variation');

    const varied = h.discord.pressButton({ customId: vary as string, message });
    await h.discord.waitFor(() => h?.discord.original(varied)?.attachments.length, 15_000);
    const third = h.sogni.mediaCalls()[2]?.body;
    expect(third?.['media_references']).toEqual([{ kind: 'image', url: `${h.sogni.origin}/media/result-1.png` }]);
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
    h.sogni.mediaScript = (_b, i) => ({ kind: 'json', body: imageResult(`${h?.sogni.origin}/media/result-${i + 1}.png`), delayMs: 2500 });
    h.discord.postUserMessage({ content: 'draw me a fox in the snow' });
    const post = await h.discord.waitFor(() => h?.discord.botMessages().find((m) => m.attachments.length > 0), 15_000);
    expect(post.attachments[0]?.filename).toBe('sogni-1.png');
    expect(buttonIds(post).some((id) => id.startsWith('media:reroll:'))).toBe(true);
    const reply = await h.discord.waitFor(() => h?.discord.botMessages().find((m) => m.content === 'Sure, drawing a fox for you.'));
    expect(reply.history.some((c) => c.includes('making it'))).toBe(true);
    const media = h.sogni.mediaCalls()[0]?.body;
    expect(media?.['tool_choice']).toEqual({ type: 'function', function: { name: 'generate_image' } });
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
    expect(h.sogni.mediaCalls()).toHaveLength(0);
    expect(h.discord.botMessages().some((m) => m.components.length > 0)).toBe(false);
  });
});
