/**
 * MemoryRateLimiter: the sliding-window limiter for one gateway (and the fail-open fallback of
 * RedisRateLimiter). Same maths as the Redis scripts, on an injected Clock so tests run it on a
 * VirtualClock.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/index.js';
import { RealClock } from '../core/index.js';
import type { Decision, RateLimiter, RateLimiterOptions, RateLimitRequest, Reservation, WindowStatus } from './types.js';
import type { ResolvedOptions, WindowCounter } from './window.js';
import { applySettle, bindingStatus, estimate, LIMIT_ORDER, limitAt, remaining, resetMs, resolveOptions, retryAfterMs, rolled, tooLarge, validateActual, validateRequest } from './window.js';

export interface MemoryRateLimiterOptions extends RateLimiterOptions {
  readonly clock?: Clock | undefined;
}

const SWEEP_EVERY = 4096;

export class MemoryRateLimiter implements RateLimiter {
  readonly opts: ResolvedOptions;
  private readonly clock: Clock;
  private readonly counters = new Map<string, WindowCounter>();
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
    const W = this.opts.windowMs;
    const early = tooLarge(req, W);
    if (early) return early;
    const now = this.now();
    if (++this.ops % SWEEP_EVERY === 0) this.sweep(now);
    const win = Math.floor(now / W);
    const elapsed = now - win * W;
    const names = storageKeys(req);
    const statuses: (WindowStatus | undefined)[] = [];
    const amounts: number[] = [];
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
        const [c, p] = rolled(this.counters.get(names[i]!), win);
        const est = estimate(c, p, elapsed, W);
        amounts[i] = amount;
        if (est + amount > limit) {
          retry = retryAfterMs(c, p, amount, limit, elapsed, W);
          statuses[i] = { limit, remaining: remaining(limit, est), resetMs: resetMs(c, p, elapsed, W) };
        } else {
          statuses[i] = { limit, remaining: remaining(limit, est + amount), resetMs: resetMs(c + amount, p, elapsed, W) };
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
        const key = names[i]!;
        const [c, p] = rolled(this.counters.get(key), win);
        this.counters.set(key, { w: win, c: c + amounts[i]!, p });
      }
    }
    const reservation: Reservation = { id, tenantId: req.tenantId, keyId: req.keyId, reservedTokens: req.estimatedTokens, window: win };
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
    const now = this.now();
    const win = Math.floor(now / this.opts.windowMs);
    const names = storageKeys(handle);
    const delta = actualTokens - handle.reservedTokens;
    for (const i of [1, 4]) {
      const k = this.counters.get(names[i]!);
      if (k && delta !== 0) applySettle(k, win, handle.window, delta);
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

  /** Drop counters that have aged out and empty lease sets, so memory tracks active keys only. */
  private sweep(now: number): void {
    const win = Math.floor(now / this.opts.windowMs);
    for (const [k, v] of this.counters) if (v.w < win - 1) this.counters.delete(k);
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
