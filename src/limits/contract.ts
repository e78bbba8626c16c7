/**
 * The RateLimiter contract suite: every backend's test file calls `describeRateLimiterContract`
 * with a factory and must pass all of it. Time is a VirtualClock the factory hands to the
 * limiter, so windows and lease expiry are skipped through, never slept. Test-only: not
 * exported from ./index.ts (it imports vitest).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../core/index.js';
import type { Decision, Limits, RateLimiter, RateLimiterOptions, RateLimitRequest, RejectedDecision, Reservation } from './types.js';

/** Open a fresh, isolated limiter reading time from `clock`. */
export type OpenRateLimiter = (clock: VirtualClock, options: RateLimiterOptions) => Promise<RateLimiter>;

const W = 1000;
const req = (limits: { key?: Limits; tenant?: Limits }, estimatedTokens = 0, keyId = 'k1', tenantId = 't1'): RateLimitRequest => ({ tenantId, keyId, estimatedTokens, limits });

function admitted(d: Decision): Reservation {
  if (!d.allowed) throw new Error(`expected admission, got a rejection by ${d.scope} ${d.limit} (retry in ${d.retryAfterMs} ms)`);
  return d.reservation;
}
function rejected(d: Decision): RejectedDecision {
  if (d.allowed) throw new Error('expected a rejection, got an admission');
  return d;
}

export function describeRateLimiterContract(name: string, open: OpenRateLimiter): void {
  describe(`RateLimiter contract: ${name}`, () => {
    const opened: RateLimiter[] = [];
    let clock: VirtualClock;
    const fresh = async (options: RateLimiterOptions = {}): Promise<RateLimiter> => {
      clock = new VirtualClock(100 * W); // window-aligned start
      const l = await open(clock, { windowMs: W, leaseTtlMs: 5 * W, concurrencyRetryMs: 250, ...options });
      opened.push(l);
      return l;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((l) => l.close()));
    });

    it('holds an RPM limit and reports remaining requests counting down', async () => {
      const l = await fresh();
      const limits = { key: { rpm: 3 } };
      const remaining: number[] = [];
      for (let i = 0; i < 3; i++) {
        const d = await l.reserve(req(limits));
        admitted(d);
        remaining.push(d.status.requests!.remaining);
      }
      expect(remaining).toEqual([2, 1, 0]);
      const r = rejected(await l.reserve(req(limits)));
      expect(r).toMatchObject({ scope: 'key', limit: 'rpm', limitValue: 3, exceedsLimit: false });
      expect(r.status.requests).toEqual({ limit: 3, remaining: 0, resetMs: 2 * W });
    });

    it('slides: the previous window counts weighted by its overlap', async () => {
      const l = await fresh();
      const limits = { key: { rpm: 4 } };
      for (let i = 0; i < 4; i++) admitted(await l.reserve(req(limits)));
      clock.advance(W); // next window, previous (4) still weighs fully
      rejected(await l.reserve(req(limits)));
      clock.advance(W / 2); // previous weighs 2
      admitted(await l.reserve(req(limits)));
      admitted(await l.reserve(req(limits)));
      rejected(await l.reserve(req(limits)));
      clock.advance(2 * W); // both windows aged out
      for (let i = 0; i < 4; i++) admitted(await l.reserve(req(limits)));
    });

    it('gives a retryAfter that is exact: rejected 1 ms before it, admitted at it', async () => {
      const l = await fresh();
      const limits = { key: { rpm: 5, tpm: 1000 } };
      clock.advance(300);
      for (let i = 0; i < 5; i++) admitted(await l.reserve(req(limits, 10)));
      for (const spent of [0, 700, 100]) {
        clock.advance(spent);
        const r = rejected(await l.reserve(req(limits, 10)));
        expect(r.retryAfterMs).toBeGreaterThan(0);
        expect(r.retryAfterMs).toBeLessThanOrEqual(2 * W);
        if (spent === 100) {
          clock.advance(r.retryAfterMs - 1);
          rejected(await l.reserve(req(limits, 10)));
          clock.advance(1);
          admitted(await l.reserve(req(limits, 10)));
        }
      }
    });

    it('holds a TPM limit on the reserved estimate', async () => {
      const l = await fresh();
      const limits = { key: { tpm: 1000 } };
      const d = await l.reserve(req(limits, 600));
      admitted(d);
      expect(d.status.tokens).toEqual({ limit: 1000, remaining: 400, resetMs: 2 * W });
      const r = rejected(await l.reserve(req(limits, 600)));
      expect(r).toMatchObject({ scope: 'key', limit: 'tpm', limitValue: 1000 });
      admitted(await l.reserve(req(limits, 400)));
    });

    it('settles to actual usage: under-use is refunded, over-use is charged', async () => {
      const l = await fresh();
      const limits = { key: { tpm: 1000 } };
      const a = admitted(await l.reserve(req(limits, 600)));
      rejected(await l.reserve(req(limits, 600)));
      await l.settle(a, 100); // refund 500
      const b = admitted(await l.reserve(req(limits, 600))); // 100 + 600
      await l.settle(b, 850); // over-use (a client disconnect still pays for what streamed): 100 + 850
      const r = rejected(await l.reserve(req(limits, 100)));
      expect(r.status.tokens?.remaining).toBe(50);
      admitted(await l.reserve(req(limits, 50)));
    });

    it('settles a reservation whose window has rolled into the previous one', async () => {
      const l = await fresh();
      const limits = { key: { tpm: 1000 } };
      const a = admitted(await l.reserve(req(limits, 800)));
      clock.advance(W + W / 2); // previous window (800) weighs 400
      rejected(await l.reserve(req(limits, 700)));
      await l.settle(a, 0); // refund all: previous window now empty
      admitted(await l.reserve(req(limits, 1000)));
    });

    it('makes settle and release idempotent; release refunds tokens but the request still counts', async () => {
      const l = await fresh();
      const limits = { key: { rpm: 2, tpm: 100, maxConcurrent: 1 } };
      const a = admitted(await l.reserve(req(limits, 100)));
      await l.release(a);
      await l.release(a);
      await l.settle(a, 100);
      const d = await l.reserve(req(limits, 100));
      admitted(d);
      expect(d.status.requests?.remaining).toBe(0);
      expect(d.status.tokens?.remaining).toBe(0);
    });

    it('rejects a request larger than the TPM limit as one that can never fit', async () => {
      const l = await fresh();
      const r = rejected(await l.reserve(req({ tenant: { tpm: 100 } }, 101)));
      expect(r).toMatchObject({ scope: 'tenant', limit: 'tpm', limitValue: 100, exceedsLimit: true });
    });

    it('limits per key and per tenant independently', async () => {
      const l = await fresh();
      const limits = { key: { rpm: 3 }, tenant: { rpm: 5 } };
      for (let i = 0; i < 3; i++) admitted(await l.reserve(req(limits, 0, 'a')));
      expect(rejected(await l.reserve(req(limits, 0, 'a')))).toMatchObject({ scope: 'key', limit: 'rpm' });
      admitted(await l.reserve(req(limits, 0, 'b')));
      const last = await l.reserve(req(limits, 0, 'b'));
      expect(last.status.requests).toMatchObject({ limit: 5, remaining: 0 }); // the tenant binds now
      expect(rejected(await l.reserve(req(limits, 0, 'c')))).toMatchObject({ scope: 'tenant', limit: 'rpm', limitValue: 5 });
      admitted(await l.reserve(req(limits, 0, 'a', 't2'))); // another tenant, same key name
      admitted(await l.reserve(req({ key: { rpm: 1 } }, 0, 'a:b', 't1'))); // ids cannot collide
      admitted(await l.reserve(req({ key: { rpm: 1 } }, 0, 'a', 't1:k:b')));
    });

    it('is all-or-nothing: a rejection by one limit counts against none', async () => {
      const l = await fresh();
      const limits = { key: { rpm: 10, tpm: 1000, maxConcurrent: 5 }, tenant: { rpm: 1 } };
      admitted(await l.reserve(req(limits, 100)));
      for (let i = 0; i < 3; i++) rejected(await l.reserve(req(limits, 100)));
      const d = await l.reserve(req({ key: limits.key }, 100));
      admitted(d);
      expect(d.status.requests?.remaining).toBe(8);
      expect(d.status.tokens?.remaining).toBe(800);
    });

    it('holds max concurrency; settle frees a slot', async () => {
      const l = await fresh();
      const limits = { key: { maxConcurrent: 10 }, tenant: { maxConcurrent: 2 } };
      const a = admitted(await l.reserve(req(limits, 1, 'x')));
      admitted(await l.reserve(req(limits, 1, 'y')));
      const r = rejected(await l.reserve(req(limits, 1, 'z')));
      expect(r).toMatchObject({ scope: 'tenant', limit: 'maxConcurrent', limitValue: 2 });
      expect(r.retryAfterMs).toBe(250); // the configured hint: leases expire much later
      await l.settle(a, 1);
      admitted(await l.reserve(req(limits, 1, 'z')));
      rejected(await l.reserve(req(limits, 1, 'z')));
    });

    it('expires leases that are never settled (a crashed gateway) after leaseTtlMs', async () => {
      const l = await fresh({ concurrencyRetryMs: 60_000 });
      const limits = { key: { maxConcurrent: 2 } };
      admitted(await l.reserve(req(limits)));
      clock.advance(W);
      admitted(await l.reserve(req(limits)));
      clock.advance(4 * W - 1);
      const r = rejected(await l.reserve(req(limits)));
      expect(r.retryAfterMs).toBe(1); // capped by the earliest lease expiry
      clock.advance(1);
      admitted(await l.reserve(req(limits)));
      rejected(await l.reserve(req(limits)));
      clock.advance(W);
      admitted(await l.reserve(req(limits)));
    });

    it('rejects malformed requests and settlements with invalid_argument', async () => {
      const l = await fresh();
      await expect(l.reserve(req({}, -1))).rejects.toMatchObject({ code: 'invalid_argument', param: 'estimatedTokens' });
      await expect(l.reserve(req({ key: { rpm: 0 } }))).rejects.toMatchObject({ code: 'invalid_argument', param: 'limits.key.rpm' });
      await expect(l.reserve(req({ tenant: { tpm: 1.5 } }))).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(l.reserve(req({}, 0, ''))).rejects.toMatchObject({ code: 'invalid_argument', param: 'keyId' });
      const a = admitted(await l.reserve(req({})));
      await expect(l.settle(a, -3)).rejects.toMatchObject({ code: 'invalid_argument', param: 'actualTokens' });
    });
  });
}
