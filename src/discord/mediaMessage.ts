import { ActionRowBuilder, AttachmentBuilder, ButtonBuilder, ButtonStyle, EmbedBuilder, type BaseMessageOptions } from 'discord.js';
import type { MediaPost } from '../core/mediaPost.js';
import { DISCORD_MESSAGE_LIMIT } from '../core/splitMessage.js';
import { download } from '../vision/download.js';
import { SAFE_MENTIONS } from './safeMentions.js';

/**
 * Files up to this size are re-uploaded so the post outlives Sogni's links (which may
 * expire). Discord's default upload limit for bots is 10 MB per message.
 */
const MAX_REUPLOAD_BYTES = 8 * 1024 * 1024;
const DOWNLOAD_TIMEOUT_MS = 20_000;
/** Discord shows at most 10 attachments or embeds per message. */
const MAX_FILES = 10;

const DEFAULT_EXT = { image: 'png', video: 'mp4', audio: 'mp3', model: 'glb' } as const;

export const REROLL_PREFIX = 'media:reroll:';
export const VARY_PREFIX = 'media:vary:';

function fileName(url: string, kind: keyof typeof DEFAULT_EXT, index: number): string {
  let ext: string = DEFAULT_EXT[kind];
  try {
    const match = /\.([a-z0-9]{2,5})$/i.exec(new URL(url).pathname);
    if (match?.[1]) ext = match[1].toLowerCase();
  } catch {
    // keep the default
  }
  return `sogni-${index + 1}.${ext}`;
}

const PRIVATE_HOST = /^(localhost|.*\.localhost|.*\.internal|127\.\d+\.\d+\.\d+|10\.\d+\.\d+\.\d+|192\.168\.\d+\.\d+|172\.(1[6-9]|2\d|3[01])\.\d+\.\d+|169\.254\.\d+\.\d+|0\.0\.0\.0|\[.*\])$/i;

/**
 * Whether the bot may download a media URL itself. Media URLs come from Sogni's response,
 * which can echo what a user wrote; a link into the bot's own network must not be fetched
 * and re-posted. The configured Sogni host is trusted wherever it lives.
 */
export function mayDownload(url: string, trustedHost?: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return false;
  if (trustedHost && parsed.host === trustedHost) return true;
  return !PRIVATE_HOST.test(parsed.hostname);
}

/** The configured Sogni API's host:port, whose media links are trusted. */
export function sogniHost(deps: { config: { SOGNI_BASE_URL: string } }): string {
  return new URL(deps.config.SOGNI_BASE_URL).host;
}

export interface RenderOptions {
  /** host:port of the Sogni API, whose media links are always fetched. */
  trustedHost?: string;
  /** Links only, no re-uploads (the fallback when Discord refused the files). */
  linksOnly?: boolean;
}

/**
 * Builds the message that shows generated media so people see it without clicking: small
 * files re-uploaded as attachments (Discord shows images, video and audio inline), larger
 * images as embeds, larger video and audio as links Discord previews; then the Reroll and
 * (for images) Vary buttons.
 */
export async function renderMediaMessage(post: MediaPost, options: RenderOptions = {}): Promise<BaseMessageOptions> {
  const files: AttachmentBuilder[] = [];
  const embeds: EmbedBuilder[] = [];
  const links: string[] = [];
  const items = post.media.slice(0, MAX_FILES);
  const uploads = await Promise.all(
    items.map((item) =>
      options.linksOnly || !mayDownload(item.url, options.trustedHost)
        ? null
        : download(item.url, { maxBytes: MAX_REUPLOAD_BYTES, timeoutMs: DOWNLOAD_TIMEOUT_MS }).catch(() => null),
    ),
  );
  items.forEach((item, i) => {
    const bytes = uploads[i];
    if (bytes) files.push(new AttachmentBuilder(bytes, { name: fileName(item.url, item.kind, i) }));
    else if (item.kind === 'image') embeds.push(new EmbedBuilder().setImage(item.url));
    else links.push(item.url);
  });
  const extra = post.media.length - items.length;
  if (extra > 0) links.push(`(+${extra} more)`);

  const lines = [post.header, post.text.trim(), ...links, ...post.notes].filter(Boolean);
  let content = lines.join('\n');
  if (content.length > DISCORD_MESSAGE_LIMIT) content = `${content.slice(0, DISCORD_MESSAGE_LIMIT - 1)}…`;

  const buttons = [new ButtonBuilder().setCustomId(`${REROLL_PREFIX}${post.jobId}`).setLabel('Reroll').setEmoji('🎲').setStyle(ButtonStyle.Secondary)];
  if (post.media.some((m) => m.kind === 'image')) {
    buttons.push(new ButtonBuilder().setCustomId(`${VARY_PREFIX}${post.jobId}`).setLabel('Vary').setEmoji('🎨').setStyle(ButtonStyle.Secondary));
  }
  return {
    content,
    files,
    embeds,
    components: [new ActionRowBuilder<ButtonBuilder>().addComponents(buttons)],
    allowedMentions: SAFE_MENTIONS,
  };
}

/** Posts media with `send`, falling back to links only if Discord refuses the files (too large, say). */
export async function sendMediaMessage(post: MediaPost, options: RenderOptions, send: (payload: BaseMessageOptions) => Promise<unknown>): Promise<void> {
  try {
    await send(await renderMediaMessage(post, options));
  } catch (err) {
    if (options.linksOnly) throw err;
    await send({ ...(await renderMediaMessage(post, { ...options, linksOnly: true })), files: [] });
  }
}
