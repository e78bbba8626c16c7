/** Rate limits (RPM, TPM, concurrency; per key and per tenant) on shared or local state. See ./README.md. */
export type {
  AllowedDecision, Decision, LimitName, Limits, LimitScope, RateLimiter, RateLimiterOptions, RateLimitRequest, RateLimitStatus, RejectedDecision, Reservation, WindowStatus,
} from './types.js';
export { MemoryRateLimiter } from './memory.js';
export type { MemoryRateLimiterOptions } from './memory.js';
export { formatResetDuration, rateLimitError, rateLimitHeaders } from './headers.js';
export { RedisRateLimiter } from './redis.js';
export type { FailMode, RedisRateLimiterOptions } from './redis.js';
