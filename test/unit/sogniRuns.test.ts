import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FairQueue } from '../../src/core/fairQueue.js';
import { findCostRequest, parseEvent, parseRun, readProgress, RunsError, SogniRuns, type CreateRunBody, type RunEvent } from '../../src/sogni/runs.js';
import { FakeSogni } from '../fakes/fakeSogni.js';
import { greedyJob } from '../fakes/fakeSogniRuns.js';

describe('reading runs liberally', () => {
  it('reads a run wrapped in {data: {run}}, in {data}, or bare, in camelCase or snake_case', () => {
    const artifacts = [{ id: 'a', url: 'https://cdn.sogni.ai/x/out.mp4', mediaType: 'video', toolName: 'generate_video' }];
    const camel = parseRun({ status: 'ok', data: { run: { runId: 'r1', status: 'completed', finalResponse: { content: 'Done.', finishReason: 'stop' }, artifacts, cost: { spark: 50 } } } });
    expect(camel).toMatchObject({ runId: 'r1', status: 'completed', text: 'Done.', media: [{ url: 'https://cdn.sogni.ai/x/out.mp4', kind: 'video' }], reportedSpark: 50 });
    const snake = parseRun({ data: { run_id: 'r2', status: 'PARTIAL_FAILURE', final_response: { content: 'Half.' }, media_urls: ['https://cdn.sogni.ai/y.png'], failure_reason: 'one failed' } });
    expect(snake).toMatchObject({ runId: 'r2', status: 'partial_failure', text: 'Half.', media: [{ kind: 'image' }], failureReason: 'one failed' });
    const bare = parseRun({ id: 'r3', status: 'waiting_for_user', waiting: { reason: 'cost_confirmation', details: { toolCallId: 'c1' } } });
    expect(bare.waiting).toEqual({ reason: 'cost_confirmation', details: { toolCallId: 'c1' } });
    // A data: URI or a page is not media.
    expect(parseRun({ runId: 'r4', artifacts: [{ url: 'data:image/png;base64,AAA' }] }).media).toEqual([]);
  });

  it('reads an event from its data, or from the SSE frame’s name and id', () => {
    expect(parseEvent({ sequence: 4, type: 'tool_call_progress', at: 'x', payload: { progress: 0.5 } })).toEqual({ sequence: 4, type: 'tool_call_progress', payload: { progress: 0.5 } });
    expect(parseEvent({ payload: {} }, 'run_completed', '9')).toEqual({ sequence: 9, type: 'run_completed', payload: {} });
    expect(parseEvent({ seq: '3', event_type: 'run_created', data: { runId: 'r' } })).toEqual({ sequence: 3, type: 'run_created', payload: { runId: 'r' } });
    expect(parseEvent({ type: 'run_created' })).toBeUndefined();
  });

  it('finds the cost to confirm in the event, its details, or the run’s waiting details', () => {
    const preview = { toolCallId: 'c1', toolName: 'generate_video', estimatedCost: { spark: 100 } };
    expect(findCostRequest({ costApprovalPreview: preview })).toEqual({ preview, toolCallId: 'c1', toolName: 'generate_video' });
    expect(findCostRequest({ toolCallId: 'c2', details: { cost_approval_preview: { usd: 0.5 } } })).toEqual({ preview: { usd: 0.5 }, toolCallId: 'c2' });
    expect(findCostRequest({ toolCallId: 'c3' }, { waiting: { details: { toolCallId: 'c3', costApprovalPreview: { spark: 1 } } } })).toEqual({ preview: { spark: 1 }, toolCallId: 'c3' });
    expect(findCostRequest({ toolCallId: 'c4' })).toBeUndefined();
  });

  it('reads progress, the time left, the step and an intermediate preview', () => {
    expect(readProgress({ progress: 0.25, etaSeconds: 30, stepLabel: 'Rendering', resultUrl: 'https://cdn.sogni.ai/p.png' })).toEqual({
      progress: 0.25,
      etaSeconds: 30,
      stepLabel: 'Rendering',
      previewUrl: 'https://cdn.sogni.ai/p.png',
      previewIsVideo: false,
    });
    expect(readProgress({ job_progress: 60, job_eta_seconds: '12', jobLabel: 'Frames', result_url: 'https://x/p.mp4', isVideoResult: true })).toMatchObject({
      progress: 0.6,
      etaSeconds: 12,
      stepLabel: 'Frames',
      previewIsVideo: true,
    });
    expect(readProgress({ resultUrl: 'javascript:alert(1)' })).toEqual({});
  });
});

describe('SogniRuns against the fake Sogni', () => {
  let fake: FakeSogni;
  let runs: SogniRuns;
  const signal = new AbortController().signal;
  const body = (text: string, references?: CreateRunBody['media_references']): CreateRunBody => ({
    messages: [{ role: 'user', content: text }],
    model: 'm',
    confirm_cost: true,
    runtime_config: { requireJobConfirmation: true, jobConfirmationThresholdUsd: 0 },
    token_type: 'spark',
    ...(references ? { media_references: references } : {}),
  });

  beforeEach(async () => {
    fake = await new FakeSogni().start();
    const queue = new FairQueue({ limit: 1000, windowMs: 1000, maxActivePerUser: 4 });
    runs = new SogniRuns({ apiKey: fake.apiKey, baseURL: fake.baseUrl, queue, timeoutSeconds: 10, pollMs: 50 });
  });
  afterEach(async () => {
    await fake.stop();
  });

  async function collect(iterable: AsyncIterable<RunEvent>, onEvent?: (e: RunEvent) => Promise<void>): Promise<RunEvent[]> {
    const out: RunEvent[] = [];
    for await (const e of iterable) {
      out.push(e);
      await onEvent?.(e);
    }
    return out;
  }

  it('creates a run once per Idempotency-Key: a retry finds the same run', async () => {
    const session = await runs.open('u1', { signal });
    const first = await session.create(body('a fox'), 'key-1', signal);
    const again = await session.create(body('a fox'), 'key-1', signal);
    expect(again.run.runId).toBe(first.run.runId);
    expect(first.idempotent).toBe(false);
    expect(again.idempotent).toBe(true);
    expect(fake.runs.created).toHaveLength(1);
    session.close();
  });

  it('waits out a 429 in the shared queue and sends again, keeping the same key', async () => {
    fake.runs.rateLimitNext = 1;
    const session = await runs.open('u1', { signal });
    const started = Date.now();
    const { run } = await session.create(body('a fox'), 'key-429', signal);
    expect(run.runId).toBeTruthy();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(fake.runs.requests.map((r) => r.status)).toEqual([429, 202]);
    expect(fake.runs.created).toHaveLength(1);
    session.close();
  });

  it('is refused a data: URI as a media reference, as Sogni refuses it on runs', async () => {
    const session = await runs.open('u1', { signal });
    const refused = session.create(body('edit', [{ kind: 'image', url: 'data:image/png;base64,AAAA' }]), 'key-2', signal);
    await expect(refused).rejects.toBeInstanceOf(RunsError);
    await expect(refused).rejects.toMatchObject({ status: 400 });
    expect(fake.runs.created).toHaveLength(0);
    session.close();
  });

  it('follows a run to its end through dropped streams, each event once, confirming the cost it asks for', async () => {
    fake.runs.dropStreams = { afterFrames: 2, count: 3 };
    fake.runs.plan = (b) => ({ jobs: [greedyJob(b)], progress: [{ progress: 0.3 }, { progress: 0.6 }, { progress: 0.9 }] });
    const session = await runs.open('u1', { signal });
    const { run } = await session.create(body('a fox'), 'key-3', signal);
    const events = await collect(session.follow(run.runId, 0, signal), async (e) => {
      if (e.type !== 'run_awaiting_cost_confirmation') return;
      const asked = findCostRequest(e.payload);
      expect(await session.confirmCost(run.runId, { toolCallId: asked?.toolCallId as string, decision: 'confirm', preview: asked?.preview }, signal)).toBe('ok');
    });
    const sequences = events.map((e) => e.sequence);
    expect(sequences).toEqual([...new Set(sequences)].sort((a, b) => a - b));
    expect(sequences).toEqual(fake.runs.run(0)?.events.map((e) => e.sequence));
    expect(events.at(-1)?.type).toBe('run_completed');
    expect(fake.runs.requests.filter((r) => r.path.endsWith('/events/stream') && r.lastEventId !== undefined).length).toBeGreaterThanOrEqual(2);
    expect(fake.runs.chargedTotal()).toBe(4);
    session.close();
  });

  it('polls when there is no stream, and gets a 409 for a changed preview', async () => {
    fake.runs.streamUnavailable = true;
    const session = await runs.open('u1', { signal });
    const { run } = await session.create(body('a fox'), 'key-4', signal);
    const events = await collect(session.follow(run.runId, 0, signal), async (e) => {
      if (e.type !== 'run_awaiting_cost_confirmation') return;
      const asked = findCostRequest(e.payload);
      const changed = { ...(asked?.preview as object), estimatedCost: { spark: 1, usd: 0.005 } };
      expect(await session.confirmCost(run.runId, { toolCallId: asked?.toolCallId as string, decision: 'confirm', preview: changed }, signal)).toBe('conflict');
      await session.cancel(run.runId, 'test', signal);
    });
    expect(events.at(-1)?.type).toBe('run_cancelled');
    expect(fake.runs.requests.some((r) => r.path.endsWith('/events') && r.after === '0')).toBe(true);
    expect(fake.runs.charged).toEqual([]);
    session.close();
  });

  it('the fake refuses a confirmation without the preview (400), as Sogni does', async () => {
    const session = await runs.open('u1', { signal });
    const { run } = await session.create(body('a fox'), 'key-5', signal);
    await fake.waitFor(() => fake.runs.run(0)?.status === 'waiting_for_user');
    const response = await fetch(`${fake.baseUrl}/chat/runs/${run.runId}/confirm-cost`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tool_call_id: 'call_1', decision: 'confirm' }),
    });
    expect(response.status).toBe(400);
    session.close();
  });
});
