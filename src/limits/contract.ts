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
/** Buckets per window in most tests (100 ms buckets); some run with other counts, the default (240) and widths that do not divide W among them. */
const B = 10;
const G = W / B;
const req = (limits: { key?: Limits; tenant?: Limits }, estimatedTokens = 0, keyId = 'k1', tenantId = 't1'): RateLimitRequest => ({ tenantId, keyId, estimatedTokens, limits });

/** A small deterministic PRNG (LCG) in [0, 1), so a failing run can be replayed. */
function lcg(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

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
      clock = new VirtualClock(100 * W); // window- and bucket-aligned start
      const l = await open(clock, { windowMs: W, bucketsPerWindow: B, leaseTtlMs: 5 * W, concurrencyRetryMs: 250, ...options });
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
      expect(r.status.requests).toEqual({ limit: 3, remaining: 0, resetMs: W + G }); // the bucket ages out W after it ends
      expect(r.retryAfterMs).toBe(W + G);
    });

    it('slides bucket by bucket: a bucket counts in full until all of it has left the window', async () => {
      const l = await fresh();
      const limits = { key: { rpm: 4 } };
      for (let i = 0; i < 2; i++) admitted(await l.reserve(req(limits))); // bucket 0
      clock.advance(3 * G + 10);
      for (let i = 0; i < 2; i++) admitted(await l.reserve(req(limits))); // bucket 3
      clock.advance(W - 3 * G - 10); // W after bucket 0 began: it still overlaps (now − W, now]
      const r = rejected(await l.reserve(req(limits)));
      expect(r.retryAfterMs).toBe(G); // bucket 0 has left at W + G
      expect(r.status.requests).toEqual({ limit: 4, remaining: 0, resetMs: 4 * G }); // bucket 3 leaves at W + 4G
      clock.advance(G - 1);
      rejected(await l.reserve(req(limits)));
      clock.advance(1);
      for (let i = 0; i < 2; i++) admitted(await l.reserve(req(limits)));
      const d = rejected(await l.reserve(req(limits)));
      expect(d.retryAfterMs).toBe(3 * G); // now bucket 3 must go: at W + 4G
      clock.advance(3 * G);
      admitted(await l.reserve(req(limits)));
    });

    it('gives a retryAfter that is exact: rejected 1 ms before it, admitted at it', async () => {
      for (const bucketsPerWindow of [B, 1, 7, 60, undefined]) { // 7, 60 and the default 240 do not divide W: widths of 142-143, 16-17 and 4-5 ms
        const l = await fresh({ bucketsPerWindow });
        const limits = { key: { rpm: 5, tpm: 1000 } };
        clock.advance(300);
        for (const [n, gap] of [[2, 130], [2, 260], [1, 0]] as const) {
          for (let i = 0; i < n; i++) admitted(await l.reserve(req(limits, 10)));
          clock.advance(gap);
        }
        for (const [spent, amount] of [[0, 10], [400, 10], [100, 10], [0, 1000]] as const) {
          clock.advance(spent);
          const r = rejected(await l.reserve(req(limits, amount)));
          expect(r.retryAfterMs).toBeGreaterThan(0);
          expect(r.retryAfterMs).toBeLessThanOrEqual(W + W / (bucketsPerWindow ?? 240) + 1);
          if (spent === 100 || amount === 1000) {
            clock.advance(r.retryAfterMs - 1);
            rejected(await l.reserve(req(limits, amount)));
            clock.advance(1);
            admitted(await l.reserve(req(limits, amount)));
          }
        }
      }
    });

    it('walks buckets oldest-first for retryAfter: the wait ends when just enough of them have aged out', async () => {
      const l = await fresh();
      const limits = { key: { tpm: 1000 } };
      admitted(await l.reserve(req(limits, 300))); // bucket 0
      clock.advance(2 * G);
      admitted(await l.reserve(req(limits, 300))); // bucket 2
      clock.advance(3 * G);
      admitted(await l.reserve(req(limits, 300))); // bucket 5
      clock.advance(G / 2);
      expect(rejected(await l.reserve(req(limits, 200))).retryAfterMs).toBe(W + G - 5.5 * G); // bucket 0 must go
      expect(rejected(await l.reserve(req(limits, 500))).retryAfterMs).toBe(W + 3 * G - 5.5 * G); // buckets 0 and 2
      const r = rejected(await l.reserve(req(limits, 1000)));
      expect(r.retryAfterMs).toBe(W + 6 * G - 5.5 * G); // everything
      expect(r.status.tokens).toEqual({ limit: 1000, remaining: 100, resetMs: r.retryAfterMs });
    });

    it('holds a TPM limit on the reserved estimate', async () => {
      const l = await fresh();
      const limits = { key: { tpm: 1000 } };
      const d = await l.reserve(req(limits, 600));
      admitted(d);
      expect(d.status.tokens).toEqual({ limit: 1000, remaining: 400, resetMs: W + G });
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

    it('settles into the bucket the reservation was charged to, while it is in the window', async () => {
      const l = await fresh();
      const limits = { key: { tpm: 1000 } };
      const a = admitted(await l.reserve(req(limits, 800))); // bucket 0
      clock.advance(W / 2);
      admitted(await l.reserve(req(limits, 200))); // bucket 5
      clock.advance(W / 2 + G - 1); // bucket 0 still in the window for 1 ms
      rejected(await l.reserve(req(limits, 900)));
      await l.settle(a, 100); // refund 700 from bucket 0, not from the current bucket
      const b = admitted(await l.reserve(req(limits, 700))); // 100 + 200 + 700
      clock.advance(1); // bucket 0 (100) ages out: the refund did not outlive it
      expect((await l.reserve(req(limits, 100))).status.tokens).toMatchObject({ remaining: 0 });
      await l.settle(b, 700);
    });

    it('settles into an aged-out bucket: a refund is dropped, an overcharge is billed to the current bucket', async () => {
      const l = await fresh();
      const limits = { key: { tpm: 1000 } };
      const a = admitted(await l.reserve(req(limits, 500)));
      const b = admitted(await l.reserve(req(limits, 500)));
      clock.advance(W + G); // their bucket has left the window
      await l.settle(a, 0); // nothing left to refund
      await l.settle(b, 700); // 200 over: billed now
      const r = rejected(await l.reserve(req(limits, 801)));
      expect(r.status.tokens).toEqual({ limit: 1000, remaining: 800, resetMs: W + G });
      admitted(await l.reserve(req(limits, 800)));
    });

    it('bills an overcharge to its own bucket even when nothing was counted there (the limit came after the reservation)', async () => {
      const l = await fresh();
      const a = admitted(await l.reserve(req({}, 100))); // no tpm limit yet: nothing counted, bucket 0
      clock.advance(3 * G);
      admitted(await l.reserve(req({ key: { tpm: 1000 } }, 500))); // bucket 3
      await l.settle(a, 600); // 500 over, billed to bucket 0, older than anything counted so far
      const r = rejected(await l.reserve(req({ key: { tpm: 1000 } }, 100)));
      expect(r.retryAfterMs).toBe(W + G - 3 * G); // bucket 0 ages out first
      expect(r.status.tokens).toEqual({ limit: 1000, remaining: 0, resetMs: W + 4 * G - 3 * G });
    });

    it('never admits more than the limit in any span of W ms: random arrivals, costs, settlements and bucket counts', async () => {
      const rand = lcg(7);
      for (let run = 0; run < 12; run++) {
        const bucketsPerWindow = [1, 3, 7, 10, 60, undefined][run % 6];
        const rpm = 1 + Math.floor(rand() * 12);
        const tpm = 100 + Math.floor(rand() * 900);
        const l = await fresh({ bucketsPerWindow });
        clock.advance(Math.floor(rand() * W)); // any phase
        const requests: number[] = [];
        const tokens: [at: number, actual: number][] = [];
        const due: [at: number, r: Reservation, actual: number][] = [];
        for (let n = 0; n < 250; n++) {
          clock.advance(rand() < 0.25 ? 0 : Math.floor((rand() * 2 * W) / (2.5 * rpm))); // bursts, and ~2.5× the rpm on average
          for (const [, r, actual] of due.filter(([at]) => at <= clock.now())) await l.settle(r, actual);
          due.splice(0, due.length, ...due.filter(([at]) => at > clock.now()));
          if ((await l.reserve(req({ key: { rpm } }, 0, 'r'))).allowed) requests.push(clock.now());
          const d = await l.reserve(req({ tenant: { tpm } }, 1 + Math.floor((rand() * tpm) / 3), 'k', 'tokens'));
          if (d.allowed) {
            const actual = Math.floor(rand() * (d.reservation.reservedTokens + 1)); // never above the reservation
            due.push([clock.now() + Math.floor(rand() * W), d.reservation, actual]);
            tokens.push([clock.now(), actual]);
          }
        }
        const worst = (xs: [number, number][]): number => Math.max(...xs.map(([t]) => xs.filter(([u]) => u >= t - W && u <= t).reduce((s, [, v]) => s + v, 0)));
        expect(worst(requests.map((t) => [t, 1])), `rpm ${rpm}, ${bucketsPerWindow ?? 'default'} buckets`).toBeLessThanOrEqual(rpm);
        expect(worst(tokens), `tpm ${tpm}, ${bucketsPerWindow ?? 'default'} buckets`).toBeLessThanOrEqual(tpm);
        expect(requests.length).toBeGreaterThan(rpm); // the load was over the limit
      }
    });

    it('admits between limit·(1 − 1/B) and the limit per window under steady load at twice the limit', async () => {
      for (const bucketsPerWindow of [10, 60]) {
        const l = await fresh({ bucketsPerWindow });
        const rpm = 50;
        const tpm = 50 * 40; // requests reserve 65 tokens and use 40 of them, settled 30 ms later
        const requests: number[] = [];
        const tokens: number[] = [];
        const due: Reservation[][] = [];
        const t0 = clock.now();
        for (let t = 0; t < 15 * W; t += 10) { // one request of each kind every 10 ms: 100 per window
          clock.advance(t0 + t - clock.now());
          for (const r of due[t] ?? []) await l.settle(r, 40);
          if ((await l.reserve(req({ key: { rpm } }, 0, 'r'))).allowed) requests.push(t);
          const d = await l.reserve(req({ tenant: { tpm } }, 65, 'k', 'tokens'));
          if (d.allowed) {
            (due[t + 30] ??= []).push(d.reservation);
            tokens.push(t);
          }
        }
        // Windows after the first two (the first admits a burst of `limit`, then the pattern settles).
        const perWindow = (ts: number[]): number[] => Array.from({ length: 12 }, (_, k) => ts.filter((t) => t >= (k + 3) * W && t < (k + 4) * W).length);
        const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
        const [r, tk] = [perWindow(requests), perWindow(tokens).map((n) => n * 40)];
        const lowest = 1 - 1 / bucketsPerWindow;
        expect(Math.max(...r), `requests per window: ${r.join(', ')}`).toBeLessThanOrEqual(rpm);
        expect(mean(r), `requests per window: ${r.join(', ')}`).toBeGreaterThanOrEqual(rpm * lowest);
        expect(Math.max(...tk), `tokens per window: ${tk.join(', ')}`).toBeLessThanOrEqual(tpm);
        expect(mean(tk), `tokens per window: ${tk.join(', ')}`).toBeGreaterThanOrEqual((tpm - 65) * lowest); // less than one reservation can be left over
      }
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
