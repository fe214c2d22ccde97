import { chatEstimate, mediaEstimate, roundSpark, toolKind, type PriceTable } from '../core/pricing.js';
import type { ChatMessage } from '../core/history.js';

/** What a member can ask /imagine for; the member, not the model, picks what is paid for. */
export const MEDIA_KINDS = ['image', 'video', 'music', 'speech'] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];

/** What to make. */
export interface MediaSpec {
  /** The user's words. */
  prompt: string;
  /** An image to edit or vary (an HTTPS URL; a data URI only on the completions path). */
  reference?: string;
  /** A tool the model already chose in chat, with its arguments. */
  tool?: string;
  args?: Record<string, unknown>;
  /** Asks for a different result than last time (Reroll). */
  reroll?: boolean;
  /** What /imagine was asked for (default image). */
  kind?: MediaKind;
  /** Length of a video or audio clip, in seconds. */
  durationSeconds?: number;
}

/** Most images one request may make: a model asked for 16 variations would charge 16. */
export const MAX_VARIATIONS = 4;

const SYSTEM = [
  "You make media with Sogni's creative tools for a Discord user.",
  'Call exactly the tool you are told to, with the arguments you are given.',
  'Then answer with one short sentence about the result.',
].join(' ');

const KIND_TOOL: Record<MediaKind, string> = { image: 'generate_image', video: 'generate_video', music: 'generate_music', speech: 'generate_speech' };

/** The tool a request pays for: the one the model chose in chat, else the kind asked for (an edit when an image is given). */
export function toolFor(spec: MediaSpec): string {
  if (spec.tool) return spec.tool;
  if ((spec.kind ?? 'image') === 'image') return spec.reference ? 'edit_image' : 'generate_image';
  return KIND_TOOL[spec.kind ?? 'image'];
}

function positive(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}

/**
 * The tool's arguments with what drives its price bounded: a clip at most `maxSeconds` long
 * (the length asked for, else the longest allowed), at most MAX_VARIATIONS images.
 */
export function boundedArgs(spec: MediaSpec, maxSeconds: number): Record<string, unknown> {
  const tool = toolFor(spec);
  const kind = toolKind(tool);
  const { durationSeconds, duration_seconds, n, ...args } = spec.args ?? {};
  if (kind === 'video' || kind === 'audio') {
    const asked = positive(args['duration']) ?? positive(durationSeconds) ?? positive(duration_seconds) ?? spec.durationSeconds ?? maxSeconds;
    return { ...args, duration: Math.max(1, Math.min(Math.round(asked), maxSeconds)) };
  }
  if (kind === 'image') {
    const count = positive(args['numberOfVariations']) ?? positive(n) ?? 1;
    return { ...args, numberOfVariations: Math.max(1, Math.min(Math.floor(count), MAX_VARIATIONS)) };
  }
  return args;
}

/** The most the request can cost as sent (its bounded arguments), plus the model's own tokens. */
export function worstCase(prices: PriceTable, spec: MediaSpec, maxSeconds: number): number {
  const tool = toolFor(spec);
  return roundSpark(mediaEstimate(prices, tool, boundedArgs(spec, maxSeconds)) + chatEstimate(prices, SYSTEM.length + spec.prompt.length + 200));
}

/** The messages sent for a request: the tool and its bounded arguments are stated, not left to the model. */
export function mediaMessages(spec: MediaSpec, maxSeconds: number): ChatMessage[] {
  const tool = toolFor(spec);
  const parts = [spec.prompt, `Use ${tool} with these arguments: ${JSON.stringify(boundedArgs(spec, maxSeconds))}`];
  if (spec.reference) parts.push('The attached image is the one to work from.');
  // A new seed gives a different result for the same prompt.
  if (spec.reroll) parts.push(`Make a new variation (seed ${Math.floor(Math.random() * 2 ** 31)}).`);
  return [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: parts.join('\n\n') },
  ];
}
