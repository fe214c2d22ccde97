import { ActionRowBuilder, AttachmentBuilder, ButtonBuilder, ButtonStyle, EmbedBuilder, type BaseMessageOptions } from 'discord.js';
import type { MediaPost, PostedMedia } from '../core/mediaPost.js';
import { DISCORD_MESSAGE_LIMIT } from '../core/splitMessage.js';
import { FetchProblem } from '../net/fetchProblem.js';
import type { NetDeps } from '../net/safeFetch.js';
import { DELETE_MEDIA_PREFIX, deleteButton } from './cleanup.js';
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

export interface RenderOptions {
  /**
   * The safe fetcher and download limiter to re-upload files with (its allow-list trusts the
   * configured Sogni and Discord hosts). Without it, media is shown as embeds and links.
   */
  net?: NetDeps;
  /** Links only, no re-uploads (the fallback when Discord refused the files). */
  linksOnly?: boolean;
}

/** Media types a re-upload may have: a model's link to a web page must not be posted as `sogni-1.png`. */
const MEDIA_TYPES = ['image', 'video', 'audio', 'model'] as const;

/** A refused private link is not shown at all: an embed of it could never load, and it says where the bot's network is. */
const PRIVATE_NOTE = '-# A link to a private network address was left out.';

/**
 * Downloads one file to re-upload; null when it cannot be (a page instead of media, too
 * large, too slow: the post links to it instead), 'private' when it must not be.
 */
async function fetchForReupload(url: string, kind: PostedMedia['kind'], net: NetDeps): Promise<Buffer | 'private' | null> {
  try {
    return await net.limiter.run(MAX_REUPLOAD_BYTES, async () => {
      const fetched = await net.fetcher.fetchBytes(url, {
        maxBytes: MAX_REUPLOAD_BYTES,
        timeoutMs: DOWNLOAD_TIMEOUT_MS,
        accept: MEDIA_TYPES,
        // 3D files are commonly served as application/octet-stream; Discord just offers them for download.
        acceptUnlabelled: kind === 'model',
      });
      return fetched.bytes;
    });
  } catch (err) {
    return err instanceof FetchProblem && err.code === 'private-address' ? 'private' : null;
  }
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
  const { net } = options;
  const uploads = await Promise.all(items.map((item) => (options.linksOnly || !net ? null : fetchForReupload(item.url, item.kind, net))));
  let privateLinks = 0;
  items.forEach((item, i) => {
    const bytes = uploads[i];
    if (bytes === 'private') privateLinks += 1;
    else if (bytes) files.push(new AttachmentBuilder(bytes, { name: fileName(item.url, item.kind, i) }));
    else if (item.kind === 'image') embeds.push(new EmbedBuilder().setImage(item.url));
    else links.push(item.url);
  });
  const extra = post.media.length - items.length;
  if (extra > 0) links.push(`(+${extra} more)`);

  const lines = [post.header, post.text.trim(), ...links, ...post.notes, privateLinks > 0 ? PRIVATE_NOTE : ''].filter(Boolean);
  let content = lines.join('\n');
  if (content.length > DISCORD_MESSAGE_LIMIT) content = `${content.slice(0, DISCORD_MESSAGE_LIMIT - 1)}…`;

  const buttons = [new ButtonBuilder().setCustomId(`${REROLL_PREFIX}${post.jobId}`).setLabel('Reroll').setEmoji('🎲').setStyle(ButtonStyle.Secondary)];
  if (post.media.some((m) => m.kind === 'image')) {
    buttons.push(new ButtonBuilder().setCustomId(`${VARY_PREFIX}${post.jobId}`).setLabel('Vary').setEmoji('🎨').setStyle(ButtonStyle.Secondary));
  }
  // Its owner, or a moderator, can take it down; the job says whose it is.
  buttons.push(deleteButton(`${DELETE_MEDIA_PREFIX}${post.jobId}`));
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
