import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.js';
import { SwitchyardError } from './errors.js';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    ['1.5s', 1500],
    ['42', 42],
    [' 10s ', 10_000],
  ])('%s → %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each(['', 'abc', '10x', '5 m', 's10', '-5s', '1h-2m'])('rejects %j with a fix-it message naming the param', (input) => {
    try {
      parseDuration(input, 'scaling.idleTimeout');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SwitchyardError);
      const err = e as SwitchyardError;
      expect(err.code).toBe('invalid_argument');
      expect(err.param).toBe('scaling.idleTimeout');
      expect(err.message).toMatch(/scaling\.idleTimeout: .* e\.g\. '250ms'/);
    }
  });

  it('formats durations compactly and round-trips', () => {
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(5_400_000)).toBe('1h30m');
    for (const s of ['30s', '5m', '1h30m', '2d', '1m1s']) expect(formatDuration(parseDuration(s))).toBe(s);
  });
});
