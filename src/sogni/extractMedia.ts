import type { ProducedMedia } from '../core/pricing.js';

export interface MediaItem extends ProducedMedia {
  url: string;
  width?: number;
  height?: number;
}

/** What a hosted-tool response produced, read liberally (see sogni-api.md, "Be liberal in what you read"). */
export interface ExtractedMedia {
  /** The assistant's final text. */
  text: string;
  media: MediaItem[];
  /** Spark Sogni reported for the tools (`estimated_cost.spark`, `cost.costInSpark`), if any. */
  reportedSpark?: number;
  /** Messages of tool results that failed. */
  failures: string[];
  tools: string[];
  usage?: { promptTokens: number; completionTokens: number };
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const pick = (o: Obj, ...keys: string[]): unknown => {
  for (const k of keys) if (o[k] !== undefined && o[k] !== null) return o[k];
  return undefined;
};
const num = (v: unknown): number | undefined => {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
};

/** Keys whose URLs are API endpoints or pages, not media. */
const NOT_MEDIA_KEYS = new Set(['eventsUrl', 'events_url', 'streamUrl', 'stream_url', 'statusUrl', 'status_url', 'webhookUrl']);

const EXT_KIND: [RegExp, MediaItem['kind']][] = [
  [/\.(png|jpe?g|webp|gif|avif|bmp)$/i, 'image'],
  [/\.(mp4|webm|mov|m4v|mkv)$/i, 'video'],
  [/\.(mp3|wav|ogg|oga|m4a|flac|aac|opus)$/i, 'audio'],
  [/\.(glb|gltf|obj|fbx|usdz|ply)$/i, 'model'],
];

export function kindFrom(type: unknown, url: string): MediaItem['kind'] {
  const t = typeof type === 'string' ? type.toLowerCase() : '';
  for (const kind of ['image', 'video', 'audio', 'model'] as const) if (t.startsWith(kind) || t.includes(`/${kind}`) || t === kind) return kind;
  if (t.startsWith('3d') || t === 'mesh') return 'model';
  for (const [re, kind] of EXT_KIND) if (re.test(pathOf(url))) return kind;
  return 'image';
}

function unwrap(value: unknown): Obj | undefined {
  if (!isObj(value)) return undefined;
  const inner = value['data'];
  // `{data: {...}}` wraps the real object; a plain `data` field elsewhere is left alone.
  if (isObj(inner) && ('choices' in inner || 'sogni_tool_results' in inner || 'sogniToolResults' in inner || 'output_assets' in inner || 'outputAssets' in inner || 'mediaUrls' in inner)) {
    return inner;
  }
  return value;
}

const HTTP_URL = /^https?:\/\/[^\s"'<>]+$/;

function collectFromResult(result: Obj, out: MediaItem[]): void {
  const assets = pick(result, 'output_assets', 'outputAssets', 'assets');
  if (Array.isArray(assets)) {
    for (const a of assets) {
      if (!isObj(a)) continue;
      const url = pick(a, 'url', 'uri', 'href');
      if (typeof url !== 'string' || !HTTP_URL.test(url)) continue;
      const item: MediaItem = { url, kind: kindFrom(pick(a, 'type', 'mediaType', 'media_type', 'kind'), url) };
      const duration = num(pick(a, 'duration_seconds', 'durationSeconds', 'duration'));
      const width = num(a['width']);
      const height = num(a['height']);
      if (duration !== undefined) item.durationSeconds = duration;
      if (width !== undefined) item.width = width;
      if (height !== undefined) item.height = height;
      out.push(item);
    }
  }
  const mediaUrls = pick(result, 'mediaUrls', 'media_urls');
  if (Array.isArray(mediaUrls)) {
    for (const m of mediaUrls) {
      if (typeof m === 'string' && HTTP_URL.test(m)) out.push({ url: m, kind: kindFrom(undefined, m) });
      else if (isObj(m) && typeof m['url'] === 'string' && HTTP_URL.test(m['url'])) {
        out.push({ url: m['url'], kind: kindFrom(pick(m, 'mediaType', 'media_type', 'type'), m['url']) });
      }
    }
  }
  // Anything else: every nested http(s) string, as Sogni's own example client does.
  walk(result, (key, value) => {
    if (NOT_MEDIA_KEYS.has(key) || !HTTP_URL.test(value)) return;
    out.push({ url: value, kind: kindFrom(undefined, value) });
  });
}

function walk(value: unknown, visit: (key: string, value: string) => void, key = '', depth = 0): void {
  if (depth > 12) return;
  if (typeof value === 'string') visit(key, value);
  else if (Array.isArray(value)) for (const v of value) walk(v, visit, key, depth + 1);
  else if (isObj(value)) for (const [k, v] of Object.entries(value)) walk(v, visit, k, depth + 1);
}

function costOf(result: Obj): number | undefined {
  const estimated = pick(result, 'estimated_cost', 'estimatedCost');
  if (isObj(estimated)) {
    const spark = num(pick(estimated, 'spark', 'Spark'));
    if (spark !== undefined) return spark;
    const usd = num(estimated['usd']);
    if (usd !== undefined) return usd / 0.005;
  }
  const cost = result['cost'];
  if (isObj(cost)) {
    const spark = num(pick(cost, 'costInSpark', 'cost_in_spark', 'spark'));
    if (spark !== undefined) return spark;
    const usd = num(pick(cost, 'costInUSD', 'cost_in_usd', 'usd'));
    if (usd !== undefined) return usd / 0.005;
  }
  return undefined;
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

const hasMediaExtension = (url: string) => EXT_KIND.some(([re]) => re.test(pathOf(url)));

/** Links the assistant wrote in its text: markdown images, and bare links to media files. */
function linksInText(text: string): MediaItem[] {
  const images = [...text.matchAll(/!\[[^\]]*\]\((https?:\/\/[^\s)]+)\)/g)].map((m) => m[1] as string);
  const bare = (text.match(/https?:\/\/[^\s)<>\]"']+/g) ?? []).map((u) => u.replace(/[.,;:!?]+$/, '')).filter(hasMediaExtension);
  return [...images, ...bare].map((url) => ({ url, kind: kindFrom(undefined, url) }));
}

export function extractMedia(response: unknown): ExtractedMedia {
  const root = unwrap(response) ?? {};
  const choices = root['choices'];
  const first = Array.isArray(choices) && isObj(choices[0]) ? choices[0] : undefined;
  const message = first && isObj(first['message']) ? first['message'] : undefined;
  const text = typeof message?.['content'] === 'string' ? message['content'] : '';

  const media: MediaItem[] = [];
  const failures: string[] = [];
  const tools: string[] = [];
  let reported: number | undefined;
  const results = pick(root, 'sogni_tool_results', 'sogniToolResults');
  for (const raw of Array.isArray(results) ? results : []) {
    const result = unwrap(raw);
    if (!result) continue;
    const tool = pick(result, 'tool', 'toolName', 'tool_name', 'name');
    if (typeof tool === 'string') tools.push(tool);
    const cost = costOf(result);
    if (cost !== undefined) reported = (reported ?? 0) + cost;
    const error = result['error'];
    if (result['success'] === false || result['ok'] === false || (error !== undefined && error !== null && error !== false)) {
      const why = pick(result, 'message', 'error_message') ?? (isObj(error) ? error['message'] : error);
      failures.push(typeof why === 'string' ? why : 'the tool failed');
      continue;
    }
    collectFromResult(result, media);
  }
  const workflows = pick(root, 'creative_workflows', 'creativeWorkflows');
  for (const wf of Array.isArray(workflows) ? workflows : []) {
    if (!isObj(wf)) continue;
    const url = pick(wf, 'resultUrl', 'result_url', 'url');
    // A workflow's `url` may be a page; only links that look like media count.
    if (typeof url === 'string' && HTTP_URL.test(url) && hasMediaExtension(url)) {
      media.push({ url, kind: kindFrom(undefined, url) });
    }
  }
  if (media.length === 0) media.push(...linksInText(text));

  const seen = new Set<string>();
  const unique = media.filter((m) => (seen.has(m.url) ? false : (seen.add(m.url), true)));
  const usageRaw = root['usage'];
  const out: ExtractedMedia = { text, media: unique, failures, tools };
  if (reported !== undefined) out.reportedSpark = reported;
  if (isObj(usageRaw)) {
    out.usage = {
      promptTokens: num(pick(usageRaw, 'prompt_tokens', 'promptTokens')) ?? 0,
      completionTokens: num(pick(usageRaw, 'completion_tokens', 'completionTokens')) ?? 0,
    };
  }
  return out;
}
