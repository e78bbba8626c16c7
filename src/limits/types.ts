/**
 * Rate limiting: the one small interface every backend implements (memory, Redis), and the
 * decision it returns. See ./README.md for the algorithm and its accuracy bounds.
 *
 * Lifecycle of one request: `reserve` on entry (counts one request, reserves the estimated
 * tokens, takes a concurrency lease) → `settle(handle, actualTokens)` when it ends, for
 * whatever reason (completed, client disconnected, upstream failed after producing tokens),
 * or `release(handle)` when it never ran (refunds every reserved token). Each handle is
 * settled or released at most once; later calls are no-ops.
 */

/** Limits of one scope. Each is optional (absent = unlimited) and a positive integer. */
export interface Limits {
  /** Requests per window (per minute with the default 60 s window). */
  readonly rpm?: number | undefined;
  /** Tokens (prompt + completion) per window. */
  readonly tpm?: number | undefined;
  /** Requests in flight at once. */
  readonly maxConcurrent?: number | undefined;
}

export type LimitScope = 'key' | 'tenant';
export type LimitName = 'rpm' | 'tpm' | 'maxConcurrent';

export interface RateLimitRequest {
  readonly tenantId: string;
  readonly keyId: string;
  /** Tokens to reserve on entry: prompt tokens + max_tokens (a non-negative integer). */
  readonly estimatedTokens: number;
  readonly limits: { readonly key?: Limits | undefined; readonly tenant?: Limits | undefined };
}

/** One window limit as OpenAI-style headers report it. */
export interface WindowStatus {
  readonly limit: number;
  /** What is left in the sliding window after this decision (floored, ≥ 0). */
  readonly remaining: number;
  /** Milliseconds until the window is back to its initial (empty) state. */
  readonly resetMs: number;
}

/** The binding (least remaining) request and token limits across both scopes, when set. */
export interface RateLimitStatus {
  readonly requests?: WindowStatus | undefined;
  readonly tokens?: WindowStatus | undefined;
}

/** An admitted request: pass it back to settle() or release(). Opaque to callers. */
export interface Reservation {
  readonly id: string;
  readonly tenantId: string;
  readonly keyId: string;
  readonly reservedTokens: number;
  /**
   * Index of the bucket the request and its tokens were charged to (`floor(t · bucketsPerWindow /
   * windowMs)`); settle corrects that bucket while it is still inside the window.
   */
  readonly bucket: number;
}

export interface AllowedDecision {
  readonly allowed: true;
  readonly reservation: Reservation;
  readonly status: RateLimitStatus;
}

export interface RejectedDecision {
  readonly allowed: false;
  /** Which scope and limit rejected the request (the one with the longest wait when several did). */
  readonly scope: LimitScope;
  readonly limit: LimitName;
  /** The configured value of that limit. */
  readonly limitValue: number;
  /** When a retry may succeed (≥ 1 ms), assuming no other traffic. */
  readonly retryAfterMs: number;
  /** The request alone exceeds the limit (estimatedTokens > tpm): it can never be admitted. */
  readonly exceedsLimit: boolean;
  readonly status: RateLimitStatus;
}

export type Decision = AllowedDecision | RejectedDecision;

export interface RateLimiter {
  /** Check every limit of both scopes and, only if all pass, count the request atomically. */
  reserve(req: RateLimitRequest): Promise<Decision>;
  /** The request ended having used `actualTokens`: the reservation is corrected and its lease freed. */
  settle(handle: Reservation, actualTokens: number): Promise<void>;
  /** The request never ran: refund its reserved tokens and free its lease (it still counts as a request). */
  release(handle: Reservation): Promise<void>;
  close(): Promise<void>;
}

/** Options every backend shares. */
export interface RateLimiterOptions {
  /** Sliding window length; rpm/tpm are per window. Default 60 000 ms. */
  readonly windowMs?: number | undefined;
  /**
   * Buckets the window is counted in (1 … min(1000, windowMs)). Default 240 (250 ms buckets for
   * a 60 s window; min(240, windowMs) for shorter windows). Any W ms admit at most the limit
   * whatever B is; more buckets admit closer to it under overload (on average at least
   * limit·B/(B + 1) per window; a k-times over-limit load can lose up to k/B of it in a given
   * window), at up to B + 1 stored counts per busy counter.
   */
  readonly bucketsPerWindow?: number | undefined;
  /** A concurrency lease not settled within this time expires (crashed gateway). Default 600 000 ms. */
  readonly leaseTtlMs?: number | undefined;
  /** Retry-After hint when the concurrency limit rejects (capped by the earliest lease expiry). Default 1 000 ms. */
  readonly concurrencyRetryMs?: number | undefined;
}
