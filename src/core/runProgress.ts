/**
 * What the status message of a media run says while it works: a bar, the percentage, the
 * time left and the step, from Sogni's `tool_call_progress` events.
 */

export interface RunProgress {
  /** 0-1. */
  progress?: number;
  etaSeconds?: number;
  stepLabel?: string;
  /** An intermediate preview (`resultUrl`). */
  previewUrl?: string;
  previewIsVideo?: boolean;
}

/** Where a run is, as the status shows it. */
export type RunPhase =
  /** Waiting for its turn at Sogni's shared rate limit. */
  | { kind: 'waiting'; ahead: number }
  | { kind: 'starting' }
  /** Sogni priced a job; the bot is checking it against the limits. */
  | { kind: 'pricing' }
  | { kind: 'working'; progress: RunProgress }
  | { kind: 'cancelling' };

/** Cells in the bar: short enough for a phone, fine enough to move every 10%. */
const BAR_CELLS = 10;

/** A fraction from 0-1 or a percentage, clamped to 0-1. */
export function toFraction(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) return undefined;
  const fraction = n > 1 ? n / 100 : n;
  return Math.min(1, Math.max(0, fraction));
}

export function progressBar(fraction: number, cells = BAR_CELLS): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * cells);
  return `${'▰'.repeat(filled)}${'▱'.repeat(cells - filled)}`;
}

/** "about 40 s left", "about 3 min left"; nothing for an unknown or zero wait. */
export function etaText(seconds: number | undefined): string | undefined {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds <= 0) return undefined;
  if (seconds < 60) return `about ${Math.max(5, Math.round(seconds / 5) * 5)} s left`;
  return `about ${Math.round(seconds / 60)} min left`;
}

/** Step labels come from Sogni: one short line, no markdown that could break the message. */
function cleanLabel(label: string): string {
  const line = label.replace(/[\s*_`~|>#]+/g, ' ').trim();
  return line.length > 60 ? `${line.slice(0, 59)}…` : line;
}

/** The line under the header: "▰▰▰▰▱▱▱▱▱▱ 40% · about 30 s left · Rendering frames". */
export function statusLine(phase: RunPhase): string {
  switch (phase.kind) {
    case 'waiting':
      return phase.ahead > 0 ? `⏳ Waiting for Sogni — ${phase.ahead} ahead of you` : '⏳ Waiting for Sogni…';
    case 'starting':
      return '⏳ Starting…';
    case 'pricing':
      return '💰 Checking the price against the limits…';
    case 'cancelling':
      return '⏹ Cancelling…';
    case 'working': {
      const { progress, etaSeconds, stepLabel } = phase.progress;
      const parts: string[] = [];
      if (progress !== undefined) parts.push(`${progressBar(progress)} ${Math.round(progress * 100)}%`);
      else parts.push('⏳ Working on it…');
      const eta = etaText(etaSeconds);
      if (eta) parts.push(eta);
      if (stepLabel && cleanLabel(stepLabel)) parts.push(cleanLabel(stepLabel));
      return parts.join(' · ');
    }
  }
}
