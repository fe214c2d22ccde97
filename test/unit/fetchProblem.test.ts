import { describe, expect, it } from 'vitest';
import { FetchProblem, formatMB } from '../../src/net/fetchProblem.js';

const KB = 1024;
const MB = 1024 * 1024;

describe('formatMB: a size the user reads in a refusal', () => {
  it('shows sizes under one megabyte in whole kilobytes, rounded up', () => {
    expect(formatMB(1)).toBe('1 KB');
    expect(formatMB(KB)).toBe('1 KB');
    expect(formatMB(KB + 1)).toBe('2 KB');
    expect(formatMB(150 * KB)).toBe('150 KB');
    expect(formatMB(MB - 1)).toBe('1024 KB');
  });

  it('switches to megabytes at exactly one megabyte', () => {
    expect(formatMB(MB)).toBe('1 MB');
  });

  it('shows megabytes with one decimal, and none when it is .0', () => {
    expect(formatMB(25 * MB)).toBe('25 MB');
    expect(formatMB(12.4 * MB)).toBe('12.4 MB');
    expect(formatMB(1.55 * MB)).toBe('1.6 MB');
    expect(formatMB(100 * MB + 10)).toBe('100 MB');
    expect(formatMB(2048 * MB)).toBe('2048 MB');
  });
});

describe('FetchProblem: a refusal with a user reason and a log detail', () => {
  it('carries its code, its reason as the message, and its own name', () => {
    const problem = new FetchProblem('too-large', 'too large (over 25 MB)', 'declared 30000000 bytes');
    expect(problem).toBeInstanceOf(Error);
    expect(problem.name).toBe('FetchProblem');
    expect(problem.code).toBe('too-large');
    expect(problem.message).toBe('too large (over 25 MB)');
    expect(problem.detail).toBe('declared 30000000 bytes');
    expect(String(problem)).toBe('FetchProblem: too large (over 25 MB)');
  });

  it('uses the reason as the detail when no detail is given', () => {
    expect(new FetchProblem('timeout', 'took longer than 30 s to download').detail).toBe('took longer than 30 s to download');
  });
});
