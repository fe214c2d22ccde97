import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { AttachmentProblem, prepareImage } from '../../src/vision/prepareImage.js';
import { animatedGif, corruptPng, decodeDataUri, exifRotatedJpeg, solidPng, transparentPng, webp } from '../fixtures/images.js';

describe('prepareImage', () => {
  it('shrinks a large PNG without transparency to a JPEG that fits 1024 px', async () => {
    const out = await prepareImage(await solidPng(3000, 2000));
    const decoded = await decodeDataUri(out.dataUri);
    expect(decoded).toMatchObject({ mime: 'image/jpeg', format: 'jpeg', width: 1024, height: 683 });
  });

  it('keeps transparency as PNG', async () => {
    const out = await prepareImage(await transparentPng(2048, 512));
    const decoded = await decodeDataUri(out.dataUri);
    expect(decoded).toMatchObject({ mime: 'image/png', format: 'png', width: 1024, height: 256, channels: 4 });
  });

  it('never enlarges a small image', async () => {
    const decoded = await decodeDataUri((await prepareImage(await solidPng(300, 200))).dataUri);
    expect([decoded.width, decoded.height]).toEqual([300, 200]);
  });

  it('takes the first frame of an animated GIF', async () => {
    const out = await prepareImage(await animatedGif(60, 40));
    const decoded = await decodeDataUri(out.dataUri);
    expect([decoded.width, decoded.height]).toEqual([60, 40]);
    const pixel = await sharp(Buffer.from(out.dataUri.split(',')[1] as string, 'base64')).raw().toBuffer();
    // The first frame is red.
    expect(pixel[0]).toBeGreaterThan(200);
    expect(pixel[1]).toBeLessThan(60);
  });

  it('converts WebP to JPEG', async () => {
    const decoded = await decodeDataUri((await prepareImage(await webp(800, 600))).dataUri);
    expect(decoded).toMatchObject({ mime: 'image/jpeg', width: 800, height: 600 });
  });

  it('turns an EXIF-rotated phone photo upright', async () => {
    const decoded = await decodeDataUri((await prepareImage(await exifRotatedJpeg(1600, 800))).dataUri);
    // Stored 1600×800 landscape, displayed portrait: upright it is 512×1024.
    expect([decoded.width, decoded.height]).toEqual([512, 1024]);
  });

  it('refuses a corrupt PNG with a reason', async () => {
    await expect(prepareImage(await corruptPng())).rejects.toThrow(AttachmentProblem);
    await expect(prepareImage(await corruptPng())).rejects.toThrow(/not a readable image/);
  });

  it('refuses a file named .png that is not an image', async () => {
    await expect(prepareImage(Buffer.from('just some text pretending to be a png'))).rejects.toThrow(/not a readable image/);
  });

  it('says plainly that HEIC is not readable', async () => {
    const heicHeader = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic'), Buffer.alloc(64)]);
    await expect(prepareImage(heicHeader)).rejects.toThrow(/HEIC/);
  });

  it('refuses a decompression bomb', async () => {
    const huge = await sharp({ create: { width: 10_000, height: 10_000, channels: 3, background: '#000000' } }).png().toBuffer();
    await expect(prepareImage(huge)).rejects.toThrow(/too many pixels/);
  });

  it('refuses an image just over the 64 MP pixel limit, and reads one just under it', async () => {
    const over = await sharp({ create: { width: 8001, height: 8000, channels: 3, background: '#000000' } }).png().toBuffer();
    await expect(prepareImage(over)).rejects.toThrow(/too many pixels/);
    const under = await sharp({ create: { width: 8000, height: 8000, channels: 3, background: '#000000' } }).jpeg().toBuffer();
    await expect(prepareImage(under)).resolves.toMatchObject({ width: 1024, height: 1024 });
  });

  it('keeps no decoded images in sharp’s cache and decodes each image on one thread', () => {
    const cache = sharp.cache();
    expect([cache.memory.max, cache.items.max, cache.files.max]).toEqual([0, 0, 0]);
    expect(sharp.concurrency()).toBe(1);
  });
});
