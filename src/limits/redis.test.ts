/**
 * RedisRateLimiter: the shared contract (a VirtualClock drives the scripts' time, one key
 * prefix per limiter), two gateways sharing one limit on Redis's own clock, and fail modes.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterEach, expect, it } from 'vitest';
import { createLogger } from '../observability/index.js';
import { describeWithRedis, startRedis } from '../../test/helpers/redis.js';
import { describeRateLimiterContract } from './contract.js';
import type { RateLimiter, RateLimitRequest } from './index.js';
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

  it('shares one limit between two gateways: admits within 5% of it per window under steady overload', async () => {
    const W = 1000;
    const rpm = 50; // low enough that four loops overload it even on a busy CI machine
    const keyPrefix = prefix();
    const a = await limiter({ keyPrefix, windowMs: W });
    const b = await limiter({ keyPrefix, windowMs: W });
    const r: RateLimitRequest = { tenantId: 't', keyId: 'k', estimatedTokens: 1, limits: { tenant: { rpm } } };
    const perWindow = new Map<number, number>();
    let first: number | undefined;
    const load = async (l: RedisRateLimiter): Promise<void> => {
      for (;;) {
        const d = await l.reserve(r);
        if (d.allowed) {
          const w = d.reservation.window;
          first ??= w;
          if (w > first + 3) return; // three full windows after the first are done
          perWindow.set(w, (perWindow.get(w) ?? 0) + 1);
          await l.release(d.reservation);
        }
        await new Promise((resolve) => setImmediate(resolve)); // yield; each loop offers one request per Redis round trip
      }
    };
    await Promise.all([load(a), load(a), load(b), load(b)]);
    const full = [1, 2, 3].map((i) => perWindow.get(first! + i) ?? 0);
    const total = full.reduce((s, x) => s + x, 0);
    expect(Math.abs(total - 3 * rpm) / (3 * rpm), `admitted per full window: ${full.join(', ')}`).toBeLessThanOrEqual(0.05);
  }, 15_000);

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
