/**
 * The window maths shared by every backend (the Redis Lua scripts in ./redis.ts repeat it step
 * for step; keep them in step). Pure functions plus the in-memory bucket ring.
 *
 * **Bucketed sliding window, counted conservatively.** A window of W ms is cut into B buckets
 * (`bucketsPerWindow`, default 240: 250 ms buckets for the default 60 s window). Time t (integer
 * ms) falls in bucket `floor(t·B / W)`; bucket i starts at `ceil(i·W / B)`, so any B consecutive
 * buckets span exactly W ms. A counter holds a count per bucket. The use of the last W ms at
 * `now` is the sum of every bucket that intersects (now − W, now]: buckets `cur − B … cur` with
 * `cur = bucket(now)`, always B + 1 of them; the oldest overlaps the window only partly and counts
 * in full. A request costing `a` (1 for RPM, its reserved tokens for TPM) is admitted iff
 * `use + a ≤ limit`.
 *
 * **Guarantee:** in ANY span of W ms (indeed in any B + 1 consecutive buckets) the admitted
 * requests total at most `limit`. Proof: let s* be the span's last admission. The span lies
 * inside (s* − W, s*], every bucket of which s* counted in full, and every earlier admission of
 * the span was already counted (reserve is atomic), so they and s* total at most the limit. For
 * tokens this holds for what was reserved, and for what was used as long as no request uses more
 * than it reserved (settle only refunds); an overcharge is billed when it is known, so the limit
 * can be exceeded by overcharges and later requests wait until they age out.
 *
 * **What it costs:** capacity comes back when its bucket ages out, between W and W + W/B after
 * it was used. Under steady over-limit load it is taken again at once, so the counter admits
 * `limit` per W + W/B: on average at least `limit·B/(B + 1) > limit·(1 − 1/B)` per W (for
 * tokens, less one reservation). One particular W span can see less: the admitted traffic
 * repeats with period W + W/B, and a span misses one bucket width of it, up to k/B of the limit
 * under a load k times the limit (all of it for a burst: after a burst of `limit` in one bucket,
 * the next burst comes W + W/B later).
 */
import { SwitchyardError } from '../core/index.js';
import type { LimitName, LimitScope, Limits, RateLimiterOptions, RateLimitRequest, RateLimitStatus, RejectedDecision, WindowStatus } from './types.js';

export interface ResolvedOptions {
  readonly windowMs: number;
  readonly bucketsPerWindow: number;
  readonly leaseTtlMs: number;
  readonly concurrencyRetryMs: number;
}

/** t·B must stay below 2^53 for bucket indices to be exact (in JS and in Lua): with epoch ms, B ≤ 1000 holds until the year 2255. */
export const MAX_BUCKETS = 1000;

/**
 * Default buckets per window: 240 (250 ms buckets for 60 s). A k-times over-limit load can lose
 * up to k/B of the limit in a given W span (see above), plus a request or two of timing jitter:
 * in the two-gateway steady-minute test (2.5× the TPM limit) 60 buckets lost 4.5–5.5% of it and
 * failed the 5% bound, 240 lose ~2.3%. Storage is per charged bucket, so cold keys stay small.
 */
export const DEFAULT_BUCKETS = 240;

const positiveInt = (v: number): boolean => Number.isSafeInteger(v) && v > 0;

export function resolveOptions(o: RateLimiterOptions = {}): ResolvedOptions {
  const r = { windowMs: o.windowMs ?? 60_000, leaseTtlMs: o.leaseTtlMs ?? 600_000, concurrencyRetryMs: o.concurrencyRetryMs ?? 1_000 };
  for (const [k, v] of Object.entries(r)) {
    if (!positiveInt(v)) throw new SwitchyardError('invalid_config', `rate limiter ${k} must be a positive integer (ms), got ${v}`, { param: k });
  }
  const B = o.bucketsPerWindow ?? Math.min(DEFAULT_BUCKETS, r.windowMs);
  if (!positiveInt(B) || B > MAX_BUCKETS || B > r.windowMs) {
    throw new SwitchyardError('invalid_config', `rate limiter bucketsPerWindow must be an integer from 1 to ${Math.min(MAX_BUCKETS, r.windowMs)} (buckets of at least 1 ms), got ${B}`, { param: 'bucketsPerWindow' });
  }
  return { ...r, bucketsPerWindow: B };
}

/** Reject malformed requests before touching any state. */
export function validateRequest(req: RateLimitRequest): void {
  if (!req.tenantId || !req.keyId) throw new SwitchyardError('invalid_argument', 'rate limit request needs a tenantId and a keyId', { param: req.tenantId ? 'keyId' : 'tenantId' });
  if (!Number.isSafeInteger(req.estimatedTokens) || req.estimatedTokens < 0) {
    throw new SwitchyardError('invalid_argument', `estimatedTokens must be a non-negative integer, got ${req.estimatedTokens}`, { param: 'estimatedTokens' });
  }
  for (const scope of ['key', 'tenant'] as const) {
    const l = req.limits[scope];
    for (const name of ['rpm', 'tpm', 'maxConcurrent'] as const) {
      const v = l?.[name];
      if (v !== undefined && !positiveInt(v)) {
        throw new SwitchyardError('invalid_argument', `limits.${scope}.${name} must be a positive integer, got ${v}`, { param: `limits.${scope}.${name}` });
      }
    }
  }
}

export function validateActual(actualTokens: number): void {
  if (!Number.isSafeInteger(actualTokens) || actualTokens < 0) {
    throw new SwitchyardError('invalid_argument', `actualTokens must be a non-negative integer, got ${actualTokens}`, { param: 'actualTokens' });
  }
}

/** The bucket time `t` (integer ms) falls in. */
export function bucketOf(t: number, W: number, B: number): number {
  return Math.floor((t * B) / W);
}

/** The first millisecond of bucket `i`. */
export function bucketStart(i: number, W: number, B: number): number {
  return Math.ceil((i * W) / B);
}

/** Whole units left under `limit` (≥ 0). */
export function remaining(limit: number, use: number): number {
  return Math.max(0, Math.floor(limit - use));
}

/** Milliseconds until the counter is empty again: its newest non-empty bucket (undefined: none) has aged out. */
export function resetMs(newest: number | undefined, now: number, W: number, B: number): number {
  return newest === undefined ? 0 : bucketStart(newest + B + 1, W, B) - now;
}

/**
 * Per-bucket counts of one limit, for buckets `head − B … head` (exactly the buckets a decision
 * at bucket `head` counts), with their running sum. Sparse: a deque of (bucket, count) entries,
 * oldest first, for the buckets that were charged, so a key seen once costs a few entries, not
 * B + 1. Sliding forward pops aged entries from the front: O(1) amortized. The deque doubles
 * when full (at most to B + 1 entries); otherwise nothing is allocated.
 */
export class BucketRing {
  /** Newest bucket held. */
  head: number;
  /** Sum of every entry: the use of the window ending in bucket `head`. */
  sum = 0;
  private idx: Float64Array;
  private cnt: Float64Array;
  /** Position of the oldest entry in idx/cnt, and the number of entries. */
  private first = 0;
  private len = 0;

  constructor(readonly B: number, head: number) {
    const cap = Math.min(4, B + 1);
    this.idx = new Float64Array(cap);
    this.cnt = new Float64Array(cap);
    this.head = head;
  }

  /** Position of the k-th entry, oldest first. */
  private pos(k: number): number {
    return (this.first + k) % this.idx.length;
  }

  /** Slide to bucket `cur`: buckets older than `cur − B` drop out. Never moves back. */
  advance(cur: number): void {
    if (cur > this.head) this.head = cur;
    const oldest = this.head - this.B;
    while (this.len > 0 && this.idx[this.first]! < oldest) {
      this.sum -= this.cnt[this.first]!;
      this.first = (this.first + 1) % this.idx.length;
      this.len--;
    }
  }

  /** True when bucket `i` is held (inside the window ending at `head`). */
  holds(i: number): boolean {
    return i <= this.head && i >= this.head - this.B;
  }

  /** Add `delta` to held bucket `i`, never below 0. Usually the newest entry: found at once. */
  add(i: number, delta: number): void {
    let k = this.len - 1;
    while (k >= 0 && this.idx[this.pos(k)]! > i) k--;
    if (k >= 0 && this.idx[this.pos(k)] === i) {
      const p = this.pos(k);
      const before = this.cnt[p]!;
      const after = Math.max(0, before + delta);
      this.cnt[p] = after;
      this.sum += after - before;
    } else if (delta > 0) {
      if (this.len === this.idx.length) this.grow();
      for (let m = this.len; m > k + 1; m--) { // open a slot after entry k (none to move when appending)
        const to = this.pos(m);
        const from = this.pos(m - 1);
        this.idx[to] = this.idx[from]!;
        this.cnt[to] = this.cnt[from]!;
      }
      const p = this.pos(k + 1);
      this.idx[p] = i;
      this.cnt[p] = delta;
      this.len++;
      this.sum += delta;
    }
  }

  private grow(): void {
    const cap = Math.max(this.len + 1, Math.min(2 * this.idx.length, this.B + 1));
    const idx = new Float64Array(cap);
    const cnt = new Float64Array(cap);
    for (let k = 0; k < this.len; k++) {
      idx[k] = this.idx[this.pos(k)]!;
      cnt[k] = this.cnt[this.pos(k)]!;
    }
    this.idx = idx;
    this.cnt = cnt;
    this.first = 0;
  }

  /** The newest bucket with a non-zero count, or undefined when the ring is empty. */
  newest(): number | undefined {
    for (let k = this.len - 1; k >= 0; k--) if (this.cnt[this.pos(k)]! > 0) return this.idx[this.pos(k)];
    return undefined;
  }

  /**
   * How long until `amount` more fits under `limit` with no other traffic (amount ≤ limit; the
   * ring advanced to `bucket(now)`): walk the buckets oldest-first, dropping each, until the
   * rest plus `amount` fits; once every bucket before j has dropped out, that is at the start
   * of bucket j + B. Exact to the millisecond.
   */
  retryAfterMs(amount: number, limit: number, now: number, W: number): number {
    let rest = this.sum;
    let j = this.head - this.B;
    for (let k = 0; k < this.len && rest + amount > limit; k++) {
      rest -= this.cnt[this.pos(k)]!;
      j = this.idx[this.pos(k)]! + 1;
    }
    return Math.max(1, bucketStart(j + this.B, W, this.B) - now);
  }
}

/** The same window in request order `LIMIT_ORDER`: index i of the Lua scripts' KEYS and results. */
export const LIMIT_ORDER: readonly (readonly [LimitScope, LimitName])[] = [
  ['key', 'rpm'],
  ['key', 'tpm'],
  ['key', 'maxConcurrent'],
  ['tenant', 'rpm'],
  ['tenant', 'tpm'],
  ['tenant', 'maxConcurrent'],
];

export function limitAt(req: RateLimitRequest, i: number): number | undefined {
  const [scope, name] = LIMIT_ORDER[i]!;
  const l: Limits | undefined = req.limits[scope];
  return l?.[name];
}

/** A request whose own token estimate exceeds a tpm limit can never be admitted: reject it up front. */
export function tooLarge(req: RateLimitRequest, W: number): RejectedDecision | undefined {
  for (const scope of ['key', 'tenant'] as const) {
    const tpm = req.limits[scope]?.tpm;
    if (tpm !== undefined && req.estimatedTokens > tpm) {
      return { allowed: false, scope, limit: 'tpm', limitValue: tpm, retryAfterMs: W, exceedsLimit: true, status: {} };
    }
  }
  return undefined;
}

/** Pick, per kind, the scope with the least remaining (the key scope on ties). Index by LIMIT_ORDER. */
export function bindingStatus(perLimit: readonly (WindowStatus | undefined)[]): RateLimitStatus {
  const pick = (a: WindowStatus | undefined, b: WindowStatus | undefined): WindowStatus | undefined => (a && b ? (b.remaining < a.remaining ? b : a) : (a ?? b));
  return { requests: pick(perLimit[0], perLimit[3]), tokens: pick(perLimit[1], perLimit[4]) };
}

/**
 * Apply a settlement delta to a token ring (advanced to the current bucket) for tokens charged
 * to bucket `charged`: there while it is still in the window (never below 0); once it has aged
 * out only an overcharge is billed, to the current bucket.
 */
export function applySettle(ring: BucketRing, charged: number, delta: number): void {
  if (ring.holds(charged)) ring.add(charged, delta);
  else if (delta > 0) ring.add(ring.head, delta);
}
