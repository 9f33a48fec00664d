import { describe, expect, it } from '@jest/globals';
import { UsageError } from '../errors.js';
import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['10m', 600_000],
    ['90s', 90_000],
    ['1h30m', 5_400_000],
    ['45', 45_000],
    ['1.5s', 1_500],
    ['250ms', 250],
  ])('%s → %d ms', (input, ms) => expect(parseDuration(input)).toBe(ms));

  it.each(['', '10x', 'm', '0s', '-5s', '10m junk'])('rejects %j with a UsageError naming the flag', (input) => {
    expect(() => parseDuration(input, '--timeout')).toThrow(UsageError);
    expect(() => parseDuration(input, '--timeout')).toThrow(/--timeout must be a positive duration/);
  });
});

describe('formatDuration', () => {
  it('prints seconds, then minutes and seconds', () => {
    expect(formatDuration(4_400)).toBe('4s');
    expect(formatDuration(125_000)).toBe('2m05s');
  });
});
