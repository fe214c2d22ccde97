import sharp from 'sharp';

/** Sogni's vision limits (official client): longest side 1024 px, 10 MB per image, PNG or JPEG data URIs. */
export const MAX_IMAGE_SIDE = 1024;
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
/**
 * Decoding stops above this many pixels: a tiny file can declare a huge canvas (a
 * decompression bomb). 64 MP still covers 48 MP phone photos. Every sharp() call here passes it.
 */
const MAX_INPUT_PIXELS = 64_000_000;
const JPEG_QUALITY = 85;

// Each image is decoded once and thrown away, so libvips' operation cache only holds memory;
// one thread per image is enough when the download limiter already runs a few at once.
sharp.cache(false);
sharp.concurrency(1);

export interface PreparedImage {
  dataUri: string;
  mime: 'image/jpeg' | 'image/png';
  width: number;
  height: number;
  /** Size of the encoded image, before base64. */
  bytes: number;
}

/** Why an attachment could not be used, in words for the user. */
export class AttachmentProblem extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'AttachmentProblem';
  }
}

/**
 * Turns any image Discord users attach (PNG, JPEG, WebP, GIF, AVIF, TIFF, …) into what Sogni
 * accepts: the first frame, turned upright per EXIF, shrunk to fit 1024 px (never enlarged),
 * as JPEG, or PNG when it has transparency, in a base64 data URI. The bytes decide the
 * format, not the file name.
 */
export async function prepareImage(input: Buffer): Promise<PreparedImage> {
  // sharp's bundled libheif reads AVIF but not HEVC-coded HEIC; say so instead of "corrupt".
  if (isHeic(input)) throw new AttachmentProblem('a HEIC photo, which I can’t read; send it as JPEG or PNG');
  let hasAlpha: boolean;
  try {
    const meta = await sharp(input, { limitInputPixels: MAX_INPUT_PIXELS }).metadata();
    hasAlpha = meta.hasAlpha;
  } catch (err) {
    if (err instanceof Error && /pixel limit/i.test(err.message)) throw new AttachmentProblem('too many pixels to process');
    throw new AttachmentProblem('not a readable image (corrupt, or not an image at all)');
  }
  try {
    const pipeline = sharp(input, { limitInputPixels: MAX_INPUT_PIXELS, animated: false })
      .rotate()
      .resize({ width: MAX_IMAGE_SIDE, height: MAX_IMAGE_SIDE, fit: 'inside', withoutEnlargement: true });
    const encoded = hasAlpha
      ? await pipeline.png({ compressionLevel: 9, adaptiveFiltering: true }).toBuffer({ resolveWithObject: true })
      : await pipeline.flatten({ background: '#ffffff' }).jpeg({ quality: JPEG_QUALITY, mozjpeg: true }).toBuffer({ resolveWithObject: true });
    const mime = hasAlpha ? 'image/png' : 'image/jpeg';
    if (encoded.data.length > MAX_IMAGE_BYTES) throw new AttachmentProblem('still over 10 MB after resizing');
    return {
      dataUri: `data:${mime};base64,${encoded.data.toString('base64')}`,
      mime,
      width: encoded.info.width,
      height: encoded.info.height,
      bytes: encoded.data.length,
    };
  } catch (err) {
    if (err instanceof AttachmentProblem) throw err;
    const message = err instanceof Error ? err.message : '';
    if (/pixel limit/i.test(message)) throw new AttachmentProblem('too many pixels to process');
    throw new AttachmentProblem('not a readable image (corrupt or unsupported format)');
  }
}

/** ISO-BMFF `ftyp` brands used by HEIC/HEIF photos (AVIF's `avif`/`avis` are readable). */
function isHeic(input: Buffer): boolean {
  if (input.length < 12 || input.toString('latin1', 4, 8) !== 'ftyp') return false;
  return ['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1'].includes(input.toString('latin1', 8, 12));
}
