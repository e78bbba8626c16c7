/**
 * The sliding-window maths shared by every backend (the Redis Lua scripts in ./redis.ts
 * repeat it line for line; keep them in step). Pure functions, no state.
 *
 * A counter is two fixed windows of length W: `c` requests/tokens in the current window and
 * `p` in the previous one. At `elapsed` ms into the current window the estimated use of the
 * last W ms is `p·(W − elapsed)/W + c`: the previous window weighted by how much of it still
 * overlaps the sliding window.
 */
import { SwitchyardError } from '../core/index.js';
import type { LimitName, LimitScope, Limits, RateLimiterOptions, RateLimitRequest, RateLimitStatus, RejectedDecision, WindowStatus } from './types.js';

/** A stored counter: the window index `w` it was last written in, with its current and previous counts. */
export interface WindowCounter {
  w: number;
  c: number;
  p: number;
}

export interface ResolvedOptions {
  readonly windowMs: number;
  readonly leaseTtlMs: number;
  readonly concurrencyRetryMs: number;
}

const positiveInt = (v: number): boolean => Number.isSafeInteger(v) && v > 0;

export function resolveOptions(o: RateLimiterOptions = {}): ResolvedOptions {
  const r = { windowMs: o.windowMs ?? 60_000, leaseTtlMs: o.leaseTtlMs ?? 600_000, concurrencyRetryMs: o.concurrencyRetryMs ?? 1_000 };
  for (const [k, v] of Object.entries(r)) {
    if (!positiveInt(v)) throw new SwitchyardError('invalid_config', `rate limiter ${k} must be a positive integer (ms), got ${v}`, { param: k });
  }
  return r;
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

/** The (current, previous) counts of `k` as seen from window `win`. */
export function rolled(k: WindowCounter | undefined, win: number): [c: number, p: number] {
  if (!k) return [0, 0];
  if (k.w === win) return [k.c, k.p];
  if (k.w === win - 1) return [0, k.c];
  return [0, 0];
}

export function estimate(c: number, p: number, elapsed: number, W: number): number {
  return (p * (W - elapsed)) / W + c;
}

/** Whole units left under `limit` (≥ 0). */
export function remaining(limit: number, est: number): number {
  return Math.max(0, Math.floor(limit - est));
}

/** Milliseconds until the counter is empty again: the current window must age out entirely. */
export function resetMs(c: number, p: number, elapsed: number, W: number): number {
  if (c > 0) return 2 * W - elapsed;
  if (p > 0) return W - elapsed;
  return 0;
}

/**
 * How long until `amount` more fits under `limit`, with no other traffic (amount ≤ limit).
 * If it does not fit even once the previous window is gone (c + amount > limit), wait for the
 * next window, where the current count becomes the previous one and decays: the earliest
 * offset e with c·(W − e)/W + amount ≤ limit. Otherwise wait for the previous window to decay
 * enough: the earliest e′ with p·(W − e′)/W + c + amount ≤ limit.
 */
export function retryAfterMs(c: number, p: number, amount: number, limit: number, elapsed: number, W: number): number {
  let wait: number;
  if (c + amount > limit) wait = W - elapsed + Math.ceil(W * (1 - (limit - amount) / c));
  else wait = Math.ceil(W * (1 - (limit - amount - c) / p)) - elapsed;
  return Math.max(1, wait);
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

/** Apply a settlement delta to a token counter charged in window `resWin`, seen from window `win`. */
export function applySettle(k: WindowCounter, win: number, resWin: number, delta: number): void {
  const [c, p] = rolled(k, win);
  k.w = win;
  k.c = c;
  k.p = p;
  if (resWin === win) k.c = Math.max(0, k.c + delta);
  else if (resWin === win - 1) k.p = Math.max(0, k.p + delta);
  else if (delta > 0) k.c += delta; // charged so long ago that the reservation aged out: bill the overrun now
}
