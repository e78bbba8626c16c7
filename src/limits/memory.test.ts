/** MemoryRateLimiter: the shared contract on a VirtualClock, plus option validation. */
import { describe, expect, it } from 'vitest';
import { describeRateLimiterContract } from './contract.js';
import { MemoryRateLimiter } from './index.js';

describeRateLimiterContract('memory', async (clock, options) => new MemoryRateLimiter({ ...options, clock }));

describe('MemoryRateLimiter', () => {
  it('rejects a non-positive window with invalid_config naming the option', () => {
    expect(() => new MemoryRateLimiter({ windowMs: 0 })).toThrow(expect.objectContaining({ code: 'invalid_config', param: 'windowMs' }));
  });
});
