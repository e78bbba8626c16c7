/** Rate limits (RPM, TPM, concurrency; per key and per tenant) on shared or local state. See ./README.md. */
export type {
  AllowedDecision, Decision, LimitName, Limits, LimitScope, RateLimiter, RateLimiterOptions, RateLimitRequest, RateLimitStatus, RejectedDecision, Reservation, WindowStatus,
} from './types.js';
export { MemoryRateLimiter } from './memory.js';
export type { MemoryRateLimiterOptions } from './memory.js';
export { formatResetDuration, rateLimitError, rateLimitHeaders } from './headers.js';
import type { RedisRateLimiter, RedisRateLimiterOptions } from './redis.js';

export type { FailMode, RedisRateLimiter, RedisRateLimiterOptions } from './redis.js';

/** A Redis-backed limiter. Loaded on demand: ioredis costs ~130 ms to import, which a gateway without Redis should not pay. */
export async function createRedisRateLimiter(options: RedisRateLimiterOptions): Promise<RedisRateLimiter> {
  const redis = await import('./redis.js');
  return new redis.RedisRateLimiter(options);
}
