import { describe, expect, it } from 'vitest';
import { extractMedia } from '../../src/sogni/extractMedia.js';

const completion = (extra: Record<string, unknown>, content = 'Here is your image.') => ({
  id: 'c1',
  object: 'chat.completion',
  created: 0,
  model: 'qwen',
  choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 },
  ...extra,
});

describe('extractMedia', () => {
  it('reads output_assets with their type, size and duration, and the reported cost', () => {
    const out = extractMedia(
      completion({
        sogni_tool_results: [
          {
            ok: true,
            tool: 'generate_video',
            status: 'completed',
            output_assets: [{ asset_id: 'a', type: 'video', url: 'https://cdn.sogni.ai/v/1', width: 768, height: 512, duration_seconds: 5 }],
            estimated_cost: { spark: 42.5, usd: 0.2125 },
          },
        ],
      }),
    );
    expect(out.media).toEqual([{ url: 'https://cdn.sogni.ai/v/1', kind: 'video', durationSeconds: 5, width: 768, height: 512 }]);
    expect(out.reportedSpark).toBe(42.5);
    expect(out.tools).toEqual(['generate_video']);
    expect(out.text).toBe('Here is your image.');
    expect(out.usage).toEqual({ promptTokens: 100, completionTokens: 20 });
  });

  it('reads camelCase fields inside a data wrapper', () => {
    const out = extractMedia({
      data: completion({
        sogniToolResults: [{ data: { toolName: 'generate_image', outputAssets: [{ url: 'https://x.test/a.png', type: 'image' }], estimatedCost: { spark: '3' } } }],
      }),
    });
    expect(out.media).toEqual([{ url: 'https://x.test/a.png', kind: 'image' }]);
    expect(out.reportedSpark).toBe(3);
    expect(out.tools).toEqual(['generate_image']);
  });

  it('reads mediaUrls with their media types', () => {
    const out = extractMedia(
      completion({ sogni_tool_results: [{ tool_name: 'generate_music', mediaUrls: [{ url: 'https://x.test/song', mediaType: 'audio' }] }] }),
    );
    expect(out.media).toEqual([{ url: 'https://x.test/song', kind: 'audio' }]);
  });

  it('finds any nested http(s) URL, but not API endpoints', () => {
    const out = extractMedia(
      completion({
        sogni_tool_results: [{ name: 'generate_image', result: { jobs: [{ images: ['https://x.test/deep/one.webp'] }] }, eventsUrl: 'https://api.sogni.ai/v1/events' }],
      }),
    );
    expect(out.media.map((m) => m.url)).toEqual(['https://x.test/deep/one.webp']);
  });

  it('reads a cost object with numeric strings', () => {
    const out = extractMedia(
      completion({ sogni_tool_results: [{ tool: 'generate_image', output_assets: [{ url: 'https://x.test/i.jpg' }], cost: { costInSpark: '7.25', costInUSD: '0.036' } }] }),
    );
    expect(out.reportedSpark).toBe(7.25);
  });

  it('takes media links from creative_workflows', () => {
    const out = extractMedia(
      completion({ creative_workflows: [{ workflowId: 'w', status: 'completed', url: 'https://x.test/out.mp4', eventsUrl: 'https://api/e', streamUrl: 'https://api/s' }] }),
    );
    expect(out.media).toEqual([{ url: 'https://x.test/out.mp4', kind: 'video' }]);
  });

  it('falls back to links in the assistant text', () => {
    const out = extractMedia(completion({}, 'Done! ![fox](https://x.test/fox) and a clip https://x.test/clip.mp4.'));
    expect(out.media).toEqual([
      { url: 'https://x.test/fox', kind: 'image' },
      { url: 'https://x.test/clip.mp4', kind: 'video' },
    ]);
  });

  it('reports failed tool results instead of media', () => {
    const out = extractMedia(
      completion({ sogni_tool_results: [{ ok: false, tool: 'generate_image', error_type: 'nsfw', message: 'The prompt was blocked', retryable: false }] }, 'Sorry.'),
    );
    expect(out.media).toEqual([]);
    expect(out.failures).toEqual(['The prompt was blocked']);
  });

  it('tolerates junk', () => {
    for (const junk of [null, 42, 'text', [], { choices: 'no' }, { sogni_tool_results: [null, 1, 'x'] }]) {
      expect(extractMedia(junk)).toMatchObject({ text: '', media: [], failures: [] });
    }
  });
});
