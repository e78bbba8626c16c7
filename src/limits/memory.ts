/**
 * MemoryRateLimiter: the bucketed sliding-window limiter for one gateway (and the fail-open
 * fallback of RedisRateLimiter). Same maths as the Redis scripts (./window.ts), on an injected
 * Clock so tests run it on a VirtualClock. Each rpm/tpm counter is a BucketRing (the charged
 * buckets of the window, slid forward in place), so deciding allocates nothing for counters it
 * has seen before, beyond the decision itself.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/index.js';
import { RealClock } from '../core/index.js';
import type { Decision, RateLimiter, RateLimiterOptions, RateLimitRequest, Reservation, WindowStatus } from './types.js';
import type { ResolvedOptions } from './window.js';
import { applySettle, BucketRing, bindingStatus, bucketOf, LIMIT_ORDER, limitAt, remaining, resetMs, resolveOptions, tooLarge, validateActual, validateRequest } from './window.js';

export interface MemoryRateLimiterOptions extends RateLimiterOptions {
  readonly clock?: Clock | undefined;
}

const SWEEP_EVERY = 4096;

export class MemoryRateLimiter implements RateLimiter {
  readonly opts: ResolvedOptions;
  private readonly clock: Clock;
  private readonly counters = new Map<string, BucketRing>();
  /** The rings of the limits being decided, by LIMIT_ORDER index (reserve is synchronous, so one scratch array serves every call). */
  private readonly rings: (BucketRing | undefined)[] = [undefined, undefined, undefined, undefined, undefined, undefined];
  /** scope key → lease id → expiry (clock ms). */
  private readonly leases = new Map<string, Map<string, number>>();
  private readonly done = new WeakSet<Reservation>();
  private ops = 0;

  constructor(options: MemoryRateLimiterOptions = {}) {
    this.opts = resolveOptions(options);
    this.clock = options.clock ?? new RealClock();
  }

  private now(): number {
    return Math.floor(this.clock.now());
  }

  reserve(req: RateLimitRequest): Promise<Decision> {
    try {
      return Promise.resolve(this.reserveSync(req));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private reserveSync(req: RateLimitRequest): Decision {
    validateRequest(req);
    const { windowMs: W, bucketsPerWindow: B } = this.opts;
    const early = tooLarge(req, W);
    if (early) return early;
    const now = this.now();
    if (++this.ops % SWEEP_EVERY === 0) this.sweep(now);
    const cur = bucketOf(now, W, B);
    const names = storageKeys(req);
    const statuses: (WindowStatus | undefined)[] = [];
    const rings = this.rings;
    let rejected: { i: number; retry: number } | undefined;
    for (let i = 0; i < LIMIT_ORDER.length; i++) {
      const limit = limitAt(req, i);
      if (limit === undefined) continue;
      const name = LIMIT_ORDER[i]![1];
      let retry = 0;
      if (name === 'maxConcurrent') {
        const set = this.pruned(names[i]!, now);
        if (set.size + 1 > limit) retry = Math.max(1, Math.min(this.opts.concurrencyRetryMs, Math.min(...set.values()) - now));
      } else {
        const amount = name === 'rpm' ? 1 : req.estimatedTokens;
        const ring = this.counters.get(names[i]!);
        ring?.advance(cur);
        rings[i] = ring;
        const use = ring?.sum ?? 0;
        if (ring && use + amount > limit) { // never without a ring: amount ≤ limit (tooLarge)
          retry = ring.retryAfterMs(amount, limit, now, W);
          statuses[i] = { limit, remaining: remaining(limit, use), resetMs: resetMs(ring.newest(), now, W, B) };
        } else {
          statuses[i] = { limit, remaining: remaining(limit, use + amount), resetMs: resetMs(amount > 0 ? cur : ring?.newest(), now, W, B) };
        }
      }
      if (retry > 0 && (!rejected || retry > rejected.retry)) rejected = { i, retry };
    }
    if (rejected) {
      const [scope, limit] = LIMIT_ORDER[rejected.i]!;
      return { allowed: false, scope, limit, limitValue: limitAt(req, rejected.i)!, retryAfterMs: rejected.retry, exceedsLimit: false, status: bindingStatus(statuses) };
    }
    const id = randomUUID();
    for (let i = 0; i < LIMIT_ORDER.length; i++) {
      if (limitAt(req, i) === undefined) continue;
      if (LIMIT_ORDER[i]![1] === 'maxConcurrent') {
        this.pruned(names[i]!, now).set(id, now + this.opts.leaseTtlMs);
      } else {
        let ring = rings[i];
        if (!ring) this.counters.set(names[i]!, (ring = new BucketRing(B, cur)));
        ring.add(cur, LIMIT_ORDER[i]![1] === 'rpm' ? 1 : req.estimatedTokens);
      }
    }
    const reservation: Reservation = { id, tenantId: req.tenantId, keyId: req.keyId, reservedTokens: req.estimatedTokens, bucket: cur };
    return { allowed: true, reservation, status: bindingStatus(statuses) };
  }

  settle(handle: Reservation, actualTokens: number): Promise<void> {
    try {
      validateActual(actualTokens);
      this.settleSync(handle, actualTokens);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  release(handle: Reservation): Promise<void> {
    return this.settle(handle, 0);
  }

  private settleSync(handle: Reservation, actualTokens: number): void {
    if (this.done.has(handle)) return;
    this.done.add(handle);
    const names = storageKeys(handle);
    const delta = actualTokens - handle.reservedTokens;
    if (delta !== 0) {
      const cur = bucketOf(this.now(), this.opts.windowMs, this.opts.bucketsPerWindow);
      for (const i of [1, 4]) {
        const ring = this.counters.get(names[i]!);
        if (!ring) continue; // no tpm limit, or idle for a whole window and swept
        ring.advance(cur);
        applySettle(ring, handle.bucket, delta);
      }
    }
    for (const i of [2, 5]) this.leases.get(names[i]!)?.delete(handle.id);
  }

  close(): Promise<void> {
    this.counters.clear();
    this.leases.clear();
    return Promise.resolve();
  }

  /** The live leases of one scope, expired ones (expiry ≤ now) removed. */
  private pruned(key: string, now: number): Map<string, number> {
    let set = this.leases.get(key);
    if (!set) this.leases.set(key, (set = new Map<string, number>()));
    for (const [id, exp] of set) if (exp <= now) set.delete(id);
    return set;
  }

  /** Drop counters whose every bucket has aged out and empty lease sets, so memory tracks active keys only. */
  private sweep(now: number): void {
    const cur = bucketOf(now, this.opts.windowMs, this.opts.bucketsPerWindow);
    for (const [k, ring] of this.counters) if (ring.head < cur - ring.B) this.counters.delete(k);
    for (const [k, set] of this.leases) {
      for (const [id, exp] of set) if (exp <= now) set.delete(id);
      if (set.size === 0) this.leases.delete(k);
    }
  }
}

/** Storage names of the six limits, in LIMIT_ORDER. Ids are URI-encoded so ':' and '}' cannot collide. */
export function storageKeys(req: { tenantId: string; keyId: string }, prefix = ''): string[] {
  const t = `${prefix}{${encodeURIComponent(req.tenantId)}}`;
  const k = `${t}:k:${encodeURIComponent(req.keyId)}`;
  return [`${k}:rpm`, `${k}:tpm`, `${k}:conc`, `${t}:t:rpm`, `${t}:t:tpm`, `${t}:t:conc`];
}
