/** MemoryRateLimiter: the shared contract on a VirtualClock, plus option validation. */
import { describe, expect, it } from 'vitest';
import { describeRateLimiterContract } from './contract.js';
import { MemoryRateLimiter } from './index.js';

describeRateLimiterContract('memory', async (clock, options) => new MemoryRateLimiter({ ...options, clock }));

describe('MemoryRateLimiter', () => {
  it('rejects a non-positive window with invalid_config naming the option', () => {
    expect(() => new MemoryRateLimiter({ windowMs: 0 })).toThrow(expect.objectContaining({ code: 'invalid_config', param: 'windowMs' }));
  });

  it('defaults to 240 buckets per window and rejects bucket counts that are not 1 … min(1000, windowMs)', () => {
    expect(new MemoryRateLimiter().opts).toMatchObject({ windowMs: 60_000, bucketsPerWindow: 240 });
    expect(new MemoryRateLimiter({ windowMs: 50 }).opts.bucketsPerWindow).toBe(50); // buckets of at least 1 ms
    for (const [windowMs, bucketsPerWindow] of [[60_000, 0], [60_000, 1.5], [60_000, 1001], [100, 101]]) {
      expect(() => new MemoryRateLimiter({ windowMs, bucketsPerWindow })).toThrow(expect.objectContaining({ code: 'invalid_config', param: 'bucketsPerWindow' }));
    }
  });
});
