/**
 * Edit policies of other Discord LLM bots, re-implemented here only as baselines, on the same
 * real discord.js client, openai SDK and fakes as our bot:
 * - llmcord: one 1-second throttle for the whole bot (EDIT_DELAY_SECONDS = 1, global);
 * - TuringAI: a fixed 2.5-second timer per message;
 * - js-llmcord: an awaited edit on every change.
 * Mentions get a reply that is edited; /ask a deferred reply that is edited (editReply), the
 * same policy either way.
 */
import { Client, Events, GatewayIntentBits, type Message } from 'discord.js';
import OpenAI from 'openai';

export type PeerPolicy = 'llmcord' | 'turingai' | 'js-llmcord';

export interface PeerOptions {
  token: string;
  apiUrl: string;
  sogniBaseUrl: string;
  apiKey: string;
}

const NO_PINGS = { parse: [], repliedUser: false } as const;

/** Where one answer goes: the first post returns how to edit it. */
type Post = (content: string) => Promise<(content: string) => Promise<unknown>>;

export async function startPeer(policy: PeerPolicy, options: PeerOptions): Promise<{ stop(): Promise<void> }> {
  const client = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
    rest: { api: options.apiUrl },
    allowedMentions: NO_PINGS,
  });
  const openai = new OpenAI({ apiKey: options.apiKey, baseURL: options.sogniBaseUrl, maxRetries: 0 });
  let lastGlobalEdit = 0;

  client.on(Events.MessageCreate, (message) => {
    if (message.author.bot || !message.mentions.users.has(client.user?.id ?? '')) return;
    const post: Post = async (content) => {
      const reply: Message = await message.reply({ content, allowedMentions: NO_PINGS });
      return (next) => reply.edit({ content: next, allowedMentions: NO_PINGS });
    };
    void answer(message.content, post).catch(() => {});
  });

  client.on(Events.InteractionCreate, (interaction) => {
    if (!interaction.isChatInputCommand() || interaction.commandName !== 'ask') return;
    const prompt = interaction.options.getString('prompt') ?? '';
    void (async () => {
      await interaction.deferReply();
      const edit = (content: string) => interaction.editReply({ content, allowedMentions: NO_PINGS });
      await answer(prompt, async (content) => {
        await edit(content);
        return edit;
      });
    })().catch(() => {});
  });

  async function answer(prompt: string, post: Post): Promise<void> {
    const stream = await openai.chat.completions.create({
      model: 'qwen3.6-35b-a3b-gguf-iq4xs',
      messages: [{ role: 'user', content: prompt }],
      stream: true,
    });
    let text = '';
    let edit: ((content: string) => Promise<unknown>) | undefined;
    let timer: ReturnType<typeof setInterval> | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (!text.trim()) continue;
      if (!edit) {
        edit = await post(text);
        if (policy === 'turingai') {
          const target = edit;
          timer = setInterval(() => void target(text).catch(() => {}), 2500);
        }
        continue;
      }
      if (policy === 'llmcord' && Date.now() - lastGlobalEdit >= 1000) {
        lastGlobalEdit = Date.now();
        await edit(`${text} ⚪`);
      } else if (policy === 'js-llmcord') {
        await edit(text);
      }
    }
    clearInterval(timer);
    await edit?.(text.trim());
  }

  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login(options.token);
  await ready;
  return {
    async stop() {
      await client.destroy();
    },
  };
}
