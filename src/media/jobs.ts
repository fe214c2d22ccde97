import type { MediaItem } from '../sogni/extractMedia.js';
import type { MediaSpec } from './mediaRequest.js';

/** What Reroll and Vary need, kept in the store so buttons work after a restart. */
export interface StoredJob {
  prompt: string;
  reference?: string;
  tool?: string;
  args?: Record<string, unknown>;
  kind?: MediaSpec['kind'];
  durationSeconds?: number;
  media: MediaItem[];
  userId: string;
  scope: string;
  at: number;
}

/** Jobs are kept this long for their buttons. */
export const JOB_TTL_MS = 30 * 24 * 3600_000;

/** The job behind a result's buttons. A data: reference is not kept: it is large, and Reroll of it cannot go on a run. */
export function jobOf(spec: MediaSpec, media: MediaItem[], owner: { userId: string; scope: string }): StoredJob {
  return {
    prompt: spec.prompt,
    media,
    userId: owner.userId,
    scope: owner.scope,
    at: Date.now(),
    ...(spec.reference && !spec.reference.startsWith('data:') ? { reference: spec.reference } : {}),
    ...(spec.tool ? { tool: spec.tool } : {}),
    ...(spec.args ? { args: spec.args } : {}),
    ...(spec.kind ? { kind: spec.kind } : {}),
    ...(spec.durationSeconds ? { durationSeconds: spec.durationSeconds } : {}),
  };
}

/** The request a stored job's Reroll makes again. */
export function rerollSpec(job: StoredJob): MediaSpec {
  return {
    prompt: job.prompt,
    reroll: true,
    ...(job.reference ? { reference: job.reference } : {}),
    ...(job.tool ? { tool: job.tool } : {}),
    ...(job.args ? { args: job.args } : {}),
    ...(job.kind ? { kind: job.kind } : {}),
    ...(job.durationSeconds ? { durationSeconds: job.durationSeconds } : {}),
  };
}
