/**
 * Estimated prices in Spark (1 Spark = US$0.005). Sogni publishes no machine-readable price
 * table, so these are the operator's estimates (configurable); any cost Sogni reports wins.
 */
export interface PriceTable {
  chatInputPerMillion: number;
  chatOutputPerMillion: number;
  image: number;
  videoPerSecond: number;
  audioPerSecond: number;
}

export type SpendKind = 'chat' | 'image' | 'video' | 'audio' | 'other';

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

/** Rough tokens for text: about 4 characters a token for English; images count ~1,000 each. */
export function estimateTokens(chars: number, images = 0): number {
  return Math.ceil(chars / 4) + images * 1000;
}

/** Output tokens reserved for a chat answer before its real length is known. */
export const CHAT_OUTPUT_RESERVE_TOKENS = 4096;

/** Default lengths when a tool call does not say (Sogni's typical clips). */
const DEFAULT_VIDEO_SECONDS = 5;
const DEFAULT_AUDIO_SECONDS = 30;

/** Amounts are kept to a millionth of a Spark so sums do not drift. */
export function roundSpark(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

export function chatCost(prices: PriceTable, usage: TokenUsage): number {
  return roundSpark(
    (usage.promptTokens * prices.chatInputPerMillion + usage.completionTokens * prices.chatOutputPerMillion) / 1_000_000,
  );
}

export function chatEstimate(prices: PriceTable, inputChars: number, images = 0): number {
  return chatCost(prices, { promptTokens: estimateTokens(inputChars, images), completionTokens: CHAT_OUTPUT_RESERVE_TOKENS });
}

/** What kind of spend a Sogni media tool is. */
export function toolKind(toolName: string): SpendKind {
  if (/video|animate/.test(toolName)) return 'video';
  if (/music|speech|audio|sound/.test(toolName)) return 'audio';
  if (/image|photo|style|background|angle|upscale|restore|refine|edit/.test(toolName)) return 'image';
  return 'other';
}

function positiveNumber(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}

/** The estimate for one media tool call, from its arguments where they say how much. */
export function mediaEstimate(prices: PriceTable, toolName: string, args: Record<string, unknown> = {}): number {
  const kind = toolKind(toolName);
  if (kind === 'video') {
    const seconds = positiveNumber(args['duration']) ?? positiveNumber(args['durationSeconds']) ?? positiveNumber(args['duration_seconds']) ?? DEFAULT_VIDEO_SECONDS;
    return roundSpark(Math.min(seconds, 60) * prices.videoPerSecond);
  }
  if (kind === 'audio') {
    const seconds = positiveNumber(args['duration']) ?? positiveNumber(args['durationSeconds']) ?? DEFAULT_AUDIO_SECONDS;
    return roundSpark(Math.min(seconds, 600) * prices.audioPerSecond);
  }
  const count = Math.min(16, Math.floor(positiveNumber(args['numberOfVariations']) ?? positiveNumber(args['n']) ?? 1));
  return roundSpark(count * prices.image);
}

export interface ProducedMedia {
  kind: 'image' | 'video' | 'audio' | 'model';
  durationSeconds?: number;
}

/** The price table applied to what was actually produced (when Sogni reports no cost). */
export function mediaCostFromOutput(prices: PriceTable, media: readonly ProducedMedia[]): number {
  let total = 0;
  for (const item of media) {
    if (item.kind === 'video') total += (item.durationSeconds ?? DEFAULT_VIDEO_SECONDS) * prices.videoPerSecond;
    else if (item.kind === 'audio') total += (item.durationSeconds ?? DEFAULT_AUDIO_SECONDS) * prices.audioPerSecond;
    else total += prices.image;
  }
  return roundSpark(total);
}
