import { AttachmentProblem } from './prepareImage.js';

export interface DownloadLimits {
  maxBytes: number;
  timeoutMs: number;
}

/** A size for a user: "25 MB", "12.4 MB", "150 KB". */
function formatMB(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.ceil(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1).replace(/\.0$/, '')} MB`;
}

/**
 * Downloads an attachment, streaming, and stops as soon as it passes the byte cap (the
 * declared length is checked first), so nothing oversized is ever buffered or decoded.
 */
export async function download(url: string, { maxBytes, timeoutMs }: DownloadLimits): Promise<Buffer> {
  const tooLarge = () => new AttachmentProblem(`too large (over ${formatMB(maxBytes)})`);
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok || !response.body) throw new AttachmentProblem(`couldn't be downloaded (HTTP ${response.status})`);
    const declared = Number(response.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > maxBytes) {
      await response.body.cancel();
      throw tooLarge();
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel();
        throw tooLarge();
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks);
  } catch (err) {
    if (err instanceof AttachmentProblem) throw err;
    if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
      throw new AttachmentProblem(`took longer than ${Math.round(timeoutMs / 1000)} s to download`);
    }
    throw new AttachmentProblem("couldn't be downloaded");
  }
}

export { formatMB };
