import type { TurnImage } from '../core/history.js';
import { FetchProblem, formatMB } from '../net/fetchProblem.js';
import type { FetchLimits, NetDeps } from '../net/safeFetch.js';
import { AttachmentProblem, prepareImage } from './prepareImage.js';

/** An attachment as Discord describes it. */
export interface AttachmentRef {
  name: string;
  url: string;
  /** Bytes, as Discord reports them. */
  size: number;
  contentType: string | null;
}

export interface AttachmentLimits {
  /** Byte cap for any download (MAX_ATTACHMENT_MB). */
  maxBytes: number;
  /** Images used per message (MAX_IMAGES). */
  maxImages: number;
  timeoutMs: number;
}

/** Text files are read up to this size; a model gains little from more, and it all goes upstream. */
export const MAX_TEXT_FILE_BYTES = 100 * 1024;
/** Text files read per message. */
export const MAX_TEXT_FILES = 5;
export const ATTACHMENT_TIMEOUT_MS = 15_000;

export interface AttachmentInput {
  images: TurnImage[];
  /** Text files, each wrapped with its name, to add to the user's turn. */
  textBlocks: string[];
  /** One line per skipped file: its name and why. */
  notes: string[];
}

const IMAGE_EXT = new Set(['png', 'jpg', 'jpeg', 'jfif', 'gif', 'webp', 'avif', 'tif', 'tiff', 'bmp', 'heic', 'heif']);
const TEXT_EXT = new Set(
  (
    'txt md markdown rst json jsonl csv tsv xml yaml yml toml ini cfg conf env log diff patch ' +
    'js mjs cjs ts tsx jsx py rb go rs java kt kts scala c h cc cpp hpp cs php sh bash zsh fish ps1 bat sql ' +
    'html htm css scss sass less swift lua r pl pm ex exs erl hs ml dart vue svelte graphql proto tf gradle makefile dockerfile'
  ).split(' '),
);
const TEXT_MIME = /^(text\/|application\/(json|xml|x-yaml|yaml|javascript|x-sh|sql|toml|x-python)\b)/;

type Kind = 'image' | 'text' | 'other';

function extension(name: string): string {
  const base = name.toLowerCase();
  const dot = base.lastIndexOf('.');
  return dot < 0 ? base : base.slice(dot + 1);
}

export function classify(ref: AttachmentRef): Kind {
  const mime = (ref.contentType ?? '').toLowerCase();
  const ext = extension(ref.name);
  if (mime.startsWith('image/') || IMAGE_EXT.has(ext)) return 'image';
  if (TEXT_MIME.test(mime) || TEXT_EXT.has(ext)) return 'text';
  return 'other';
}

/** A file name as shown in a note: no markdown that could break the line, bounded. */
export function safeName(name: string): string {
  const clean = name.replace(/[`*_~|<>@\\\n\r]/g, '').trim() || 'file';
  return clean.length > 60 ? `${clean.slice(0, 57)}…` : clean;
}

/**
 * Reads a message's attachments for the model: images become PNG/JPEG data URIs, text files
 * become text with their names, and everything that cannot be used gets a note saying why.
 * Each download and decode waits for a turn in the process-wide limiter, reserving the size
 * Discord declared, so many large images at once are read a few at a time. Nothing here
 * throws for a bad file.
 */
export async function readAttachments(refs: readonly AttachmentRef[], limits: AttachmentLimits, net: NetDeps): Promise<AttachmentInput> {
  const notes: string[] = [];
  const note = (ref: AttachmentRef, reason: string) => notes.push(`Skipped ${safeName(ref.name)}: ${reason}.`);
  let imageCount = 0;
  let textCount = 0;
  const jobs = refs.map(async (ref): Promise<{ image?: TurnImage; text?: string }> => {
    const kind = classify(ref);
    if (kind === 'other') {
      note(ref, 'not an image or a text file');
      return {};
    }
    if (kind === 'image' && ++imageCount > limits.maxImages) {
      note(ref, `only ${limits.maxImages} images are used per message`);
      return {};
    }
    if (kind === 'text' && ++textCount > MAX_TEXT_FILES) {
      note(ref, `only ${MAX_TEXT_FILES} text files are read per message`);
      return {};
    }
    const cap = kind === 'text' ? MAX_TEXT_FILE_BYTES : limits.maxBytes;
    if (ref.size > cap) {
      note(ref, `${formatMB(ref.size)}, over the ${kind === 'text' ? '100 KB limit for text files' : `${formatMB(cap)} limit`}`);
      return {};
    }
    const fetchLimits: FetchLimits = {
      maxBytes: cap,
      timeoutMs: limits.timeoutMs,
      accept: [kind],
      // The bytes decide (sharp, or the UTF-8 check), so an unlabelled file or the type Discord declared may pass.
      acceptUnlabelled: true,
      acceptTypes: ref.contentType ? [ref.contentType] : [],
    };
    try {
      return await net.limiter.run(ref.size > 0 ? Math.min(ref.size, cap) : cap, async () => {
        const { bytes } = await net.fetcher.fetchBytes(ref.url, fetchLimits);
        if (kind === 'image') {
          const prepared = await prepareImage(bytes);
          return { image: { name: safeName(ref.name), dataUri: prepared.dataUri } };
        }
        return { text: `<file name="${safeName(ref.name)}">\n${decodeText(bytes)}\n</file>` };
      });
    } catch (err) {
      note(ref, err instanceof AttachmentProblem || err instanceof FetchProblem ? err.message : 'could not be read');
      return {};
    }
  });
  const results = await Promise.all(jobs);
  return {
    images: results.flatMap((r) => (r.image ? [r.image] : [])),
    textBlocks: results.flatMap((r) => (r.text ? [r.text] : [])),
    notes,
  };
}

function decodeText(bytes: Buffer): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new AttachmentProblem('not UTF-8 text');
  }
  if (text.includes('\u0000')) throw new AttachmentProblem('looks like a binary file');
  return text.replace(/^\uFEFF/, '');
}
