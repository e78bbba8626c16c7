/**
 * RedisRateLimiter: the shared contract (a VirtualClock drives the scripts' time, one key
 * prefix per limiter), the same decisions as the memory backend step by step, two gateways
 * sharing one limit on Redis's own clock, and fail modes.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterEach, expect, it } from 'vitest';
import { createLogger } from '../observability/index.js';
import { describeWithRedis, startRedis } from '../../test/helpers/redis.js';
import { describeRateLimiterContract } from './contract.js';
import { VirtualClock } from '../core/index.js';
import type { Decision, RateLimiter, RateLimitRequest, Reservation } from './index.js';
import { MemoryRateLimiter } from './index.js';
import { RedisRateLimiter } from './redis.js';

const prefix = (): string => `sy:test:${process.pid}:${randomBytes(4).toString('hex')}:`;

describeWithRedis('RedisRateLimiter', (redis) => {
  const opened: RateLimiter[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((l) => l.close()));
  });
  const limiter = async (options: Omit<ConstructorParameters<typeof RedisRateLimiter>[0], 'redis'> & { redis?: string }): Promise<RedisRateLimiter> => {
    const l = new RedisRateLimiter({ keyPrefix: prefix(), redis: await redis.url(), ...options });
    opened.push(l);
    await l.ready();
    return l;
  };

  describeRateLimiterContract('redis', async (clock, options) => limiter({ ...options, clock }));

  it('shares one limit between two gateways: never more than the limit in any B + 1 consecutive buckets, and the limit per B + 1 under overload', async () => {
    const W = 1000;
    const B = 60; // buckets of 16-17 ms
    const rpm = 50; // low enough that four loops overload it even on a busy CI machine
    const periods = 3;
    const keyPrefix = prefix();
    const a = await limiter({ keyPrefix, windowMs: W, bucketsPerWindow: B });
    const b = await limiter({ keyPrefix, windowMs: W, bucketsPerWindow: B });
    const r: RateLimitRequest = { tenantId: 't', keyId: 'k', estimatedTokens: 1, limits: { tenant: { rpm } } };
    const perBucket = new Map<number, number>();
    let first: number | undefined;
    const load = async (l: RedisRateLimiter): Promise<void> => {
      for (;;) {
        const d = await l.reserve(r);
        if (d.allowed) {
          const i = d.reservation.bucket;
          first ??= i;
          if (i >= first + periods * (B + 1)) return;
          perBucket.set(i, (perBucket.get(i) ?? 0) + 1);
          await l.release(d.reservation);
        }
        await new Promise((resolve) => setImmediate(resolve)); // yield; each loop offers one request per Redis round trip
      }
    };
    await Promise.all([load(a), load(a), load(b), load(b)]);
    const at = (i: number): number => perBucket.get(first! + i) ?? 0;
    const spans = Array.from({ length: (periods - 1) * (B + 1) + 1 }, (_, k) => Array.from({ length: B + 1 }, (_, i) => at(k + i)).reduce((s, x) => s + x, 0));
    expect(Math.max(...spans), 'admitted in B + 1 consecutive buckets (W + W/B ms)').toBeLessThanOrEqual(rpm);
    const total = [...perBucket.values()].reduce((s, x) => s + x, 0);
    // Each bucket's capacity comes back B + 1 buckets later and is taken at once: `rpm` per B + 1 buckets.
    expect(Math.abs(total - periods * rpm) / (periods * rpm), `admitted over ${periods} × (B + 1) buckets`).toBeLessThanOrEqual(0.05);
  }, 15_000);

  it('makes the same decisions as the memory backend (the Lua scripts repeat window.ts)', async () => {
    const rand = ((x: number) => () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)(11);
    for (const bucketsPerWindow of [1, 7, 60, 240]) {
      const clock = new VirtualClock(0); // Redis reads epochMs(), memory now(): the epoch base is a whole number of windows
      const opts = { windowMs: 1000, bucketsPerWindow, leaseTtlMs: 5000 };
      const backends: RateLimiter[] = [await limiter({ ...opts, clock }), new MemoryRateLimiter({ ...opts, clock })];
      opened.push(backends[1]!);
      const held: Reservation[][] = [[], []];
      const limits = { key: { rpm: 6, tpm: 900 }, tenant: { rpm: 9, tpm: 1500, maxConcurrent: 4 } };
      for (let n = 0; n < 500; n++) {
        clock.advance(rand() < 0.03 ? 1000 + Math.floor(rand() * 1500) : Math.floor(rand() * 120)); // now and then an idle spell
        const tokens = rand() < 0.05 ? 0 : Math.floor(rand() * 400);
        const keyId = rand() < 0.5 ? 'a' : 'b';
        const settleIdx = held[0]!.length > 0 && rand() < 0.5 ? Math.floor(rand() * held[0]!.length) : -1;
        const actual = rand() < 0.3 ? 0 : Math.floor(rand() * 500); // releases (refunds to 0), under- and overcharges
        const ds: Decision[] = [];
        for (const [j, l] of backends.entries()) {
          if (settleIdx >= 0) await l.settle(held[j]!.splice(settleIdx, 1)[0]!, actual);
          const d = await l.reserve({ tenantId: 't', keyId, estimatedTokens: tokens, limits });
          if (d.allowed) held[j]!.push(d.reservation);
          ds.push(d);
        }
        const strip = (d: Decision): unknown => (d.allowed ? { status: d.status } : d);
        expect(strip(ds[0]!), `step ${n}, ${bucketsPerWindow} buckets`).toEqual(strip(ds[1]!));
      }
    }
  });

  it.skipIf(!redis.canStart)('fails open to a local limiter when Redis stops, logging once per outage', async () => {
    const server = await startRedis();
    try {
      const lines: string[] = [];
      const destination = new Writable({ write: (chunk: Buffer, _enc, cb) => { lines.push(chunk.toString()); cb(); } });
      const logger = createLogger({ name: 'limits-test', level: 'info', pretty: false, destination });
      const l = await limiter({ redis: server.url, failMode: 'open', logger, windowMs: 60_000 });
      const r: RateLimitRequest = { tenantId: 't', keyId: 'k', estimatedTokens: 1, limits: { key: { rpm: 3 } } };
      expect((await l.reserve(r)).allowed).toBe(true);
      await server.stop();
      const decisions = [];
      for (let i = 0; i < 5; i++) decisions.push(await l.reserve(r));
      expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false, false]); // the local limiter still limits
      const held = decisions[0]!;
      if (held.allowed) await l.settle(held.reservation, 1); // settled on the limiter that admitted it
      expect(lines.filter((s) => s.includes('Redis unavailable'))).toHaveLength(1);
    } finally {
      await server.stop();
    }
  });

  it.skipIf(!redis.canStart)('fails closed with unavailable (503) when Redis stops', async () => {
    const server = await startRedis();
    try {
      const l = await limiter({ redis: server.url, failMode: 'closed' });
      const r: RateLimitRequest = { tenantId: 't', keyId: 'k', estimatedTokens: 1, limits: { key: { rpm: 3 } } };
      const d = await l.reserve(r);
      expect(d.allowed).toBe(true);
      await server.stop();
      await expect(l.reserve(r)).rejects.toMatchObject({ code: 'unavailable', status: 503 });
      if (d.allowed) await l.settle(d.reservation, 1); // does not throw: the lease expires on its own
    } finally {
      await server.stop();
    }
  });

  it('rejects an unknown failMode with invalid_config', () => {
    expect(() => new RedisRateLimiter({ redis: 'redis://127.0.0.1:1', failMode: 'maybe' as 'open' })).toThrow(expect.objectContaining({ code: 'invalid_config', param: 'failMode' }));
  });
});
