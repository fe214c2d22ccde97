/** Discord rejects message content longer than this many characters. */
export const DISCORD_MESSAGE_LIMIT = 2000;

// No `$`: a line from CRLF text ends in `\r`, which `.` stops at, so its fence is still seen.
const FENCE_LINE = /^ {0,3}(`{3,}|~{3,})(.*)/;

/** An open code fence: the marker that opened it and the text after it (usually the language). */
interface OpenFence {
  marker: string;
  info: string;
}

/**
 * Follows fenced code blocks line by line, starting from `open`, and returns the fence
 * still open at the end of `text` (or null). A fence closes only with a bare line of the
 * same marker character at least as long as the opener, as CommonMark says.
 */
export function fenceStateAfter(text: string, open: OpenFence | null = null): OpenFence | null {
  let state = open;
  for (const line of text.split('\n')) {
    const match = FENCE_LINE.exec(line);
    if (!match) continue;
    // Both groups always take part in a match.
    const marker = match[1] as string;
    const rest = (match[2] as string).trim();
    if (state === null) {
      // Only the language word is carried over; a long info string could not be repeated safely.
      state = { marker, info: (rest.split(/\s/)[0] as string).slice(0, 30) };
    } else if (rest === '' && marker[0] === state.marker[0] && marker.length >= state.marker.length) {
      state = null;
    }
  }
  return state;
}

/** Where a chunk may be cut, best first. Each returns the index just after the boundary, or -1. */
const BOUNDARIES: ReadonlyArray<(window: string) => number> = [
  (w) => lastIndexAfter(w, '\n\n'),
  (w) => lastIndexAfter(w, '\n'),
  (w) => {
    let best = -1;
    for (const m of w.matchAll(/[.!?…。！？]["')\]]*\s/g)) best = m.index + m[0].length;
    return best;
  },
  (w) => lastIndexAfter(w, ' '),
];

function lastIndexAfter(window: string, separator: string): number {
  const i = window.lastIndexOf(separator);
  return i < 0 ? -1 : i + separator.length;
}

/** Picks the cut: the best kind of boundary that keeps at least half the window, else any boundary, else a hard cut. */
function chooseCut(window: string): number {
  const half = Math.floor(window.length / 2);
  let fallback = -1;
  for (const find of BOUNDARIES) {
    const at = find(window);
    if (at >= half) return at;
    if (fallback === -1) fallback = at;
  }
  if (fallback !== -1) return fallback;
  // Hard cut; never split a UTF-16 surrogate pair.
  let at = window.length;
  const code = window.charCodeAt(at - 1);
  if (code >= 0xd800 && code <= 0xdbff) at -= 1;
  return at;
}

/**
 * Splits text into Discord-sized messages at paragraph, line or sentence boundaries.
 * A code block cut in two is closed at the end of one message and reopened with the
 * same language at the start of the next, so both render as code.
 *
 * The result depends only on a prefix of the text: while an answer streams, the
 * messages already complete do not change as more text arrives.
 */
export function splitMessage(text: string, limit = DISCORD_MESSAGE_LIMIT): string[] {
  return splitCapped(text, limit, Infinity, limit).chunks;
}

export interface CappedSplit {
  chunks: string[];
  /** True when text was left out because the cap was reached. */
  overflow: boolean;
}

/**
 * Splits like splitMessage into at most `maxChunks` messages. The last of them is cut at
 * `lastLimit`, whether or not the text overflows, so that a note fits under it and the cut
 * stays in the same place while the answer streams; the result still depends only on a
 * prefix of the text.
 */
export function splitCapped(text: string, limit: number, maxChunks: number, lastLimit: number): CappedSplit {
  const chunks: string[] = [];
  let rest = text;
  let open: OpenFence | null = null;
  while (rest.length > 0) {
    if (chunks.length >= maxChunks) return { chunks, overflow: rest.trim().length > 0 };
    const cap = chunks.length === maxChunks - 1 ? lastLimit : limit;
    const prefix: string = open ? `${open.marker}${open.info}\n` : '';
    if (prefix.length + rest.length <= cap) {
      chunks.push(prefix + rest);
      break;
    }
    // Room for the prefix and for a closing fence we may have to add. The reserve is a
    // constant (not read from later text) so that finished messages stay stable while streaming.
    let room = Math.max(1, cap - prefix.length - (1 + Math.max(7, open?.marker.length ?? 0)));
    let piece: string;
    let after: OpenFence | null;
    for (;;) {
      const cut = chooseCut(rest.slice(0, room));
      piece = rest.slice(0, cut);
      after = fenceStateAfter(piece, open);
      if (after) piece = `${piece.replace(/\n+$/, '')}\n${after.marker}`;
      const over = prefix.length + piece.length - cap;
      if (over <= 0 || room <= 1) {
        rest = rest.slice(cut);
        break;
      }
      room = Math.max(1, room - over); // only for absurdly long fence markers
    }
    if (!after) {
      piece = piece.replace(/\s+$/, '');
      // Leading blank lines of the next message are noise outside code.
      rest = rest.replace(/^\n+/, '');
    }
    if ((prefix + piece).trim().length > 0) chunks.push(prefix + piece);
    open = after;
  }
  return { chunks, overflow: false };
}
