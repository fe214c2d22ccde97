/**
 * Edit policies of other Discord LLM bots, re-implemented here only as baselines, on the same
 * real discord.js client, openai SDK and fakes as our bot:
 * - llmcord: one 1-second throttle for the whole bot (EDIT_DELAY_SECONDS = 1, global);
 * - TuringAI: a fixed 2.5-second timer per message;
 * - js-llmcord: an awaited edit on every change.
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
    void answer(message).catch(() => {});
  });

  async function answer(message: Message): Promise<void> {
    const stream = await openai.chat.completions.create({
      model: 'qwen3.6-35b-a3b-gguf-iq4xs',
      messages: [{ role: 'user', content: message.content }],
      stream: true,
    });
    let text = '';
    let reply: Message | undefined;
    let timer: ReturnType<typeof setInterval> | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (!text.trim()) continue;
      if (!reply) {
        reply = await message.reply({ content: text, allowedMentions: NO_PINGS });
        if (policy === 'turingai') {
          const target = reply;
          timer = setInterval(() => void target.edit({ content: text, allowedMentions: NO_PINGS }).catch(() => {}), 2500);
        }
        continue;
      }
      if (policy === 'llmcord' && Date.now() - lastGlobalEdit >= 1000) {
        lastGlobalEdit = Date.now();
        await reply.edit({ content: `${text} ⚪`, allowedMentions: NO_PINGS });
      } else if (policy === 'js-llmcord') {
        await reply.edit({ content: text, allowedMentions: NO_PINGS });
      }
    }
    clearInterval(timer);
    await reply?.edit({ content: text.trim(), allowedMentions: NO_PINGS });
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
