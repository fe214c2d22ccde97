import { describe, expect, it } from 'vitest';
import { mayDownload } from '../../src/discord/mediaMessage.js';

describe('mayDownload', () => {
  it('fetches public media links', () => {
    expect(mayDownload('https://cdn.sogni.ai/out/fox.png')).toBe(true);
    expect(mayDownload('http://media.example.com/a.mp4')).toBe(true);
  });

  it('never fetches links into private networks, loopback or metadata services', () => {
    for (const url of [
      'http://localhost:6379/x.png',
      'http://127.0.0.1/x.png',
      'http://10.1.2.3/x.png',
      'http://192.168.0.10/x.png',
      'http://172.20.0.5/x.png',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]/x.png',
      'http://metadata.google.internal/x',
      'file:///etc/passwd',
      'not a url',
    ]) {
      expect(mayDownload(url), url).toBe(false);
    }
  });

  it('trusts the configured Sogni host wherever it lives', () => {
    expect(mayDownload('http://127.0.0.1:4000/media/1.png', '127.0.0.1:4000')).toBe(true);
    expect(mayDownload('http://127.0.0.1:4001/media/1.png', '127.0.0.1:4000')).toBe(false);
  });
});
