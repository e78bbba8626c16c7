/**
 * RedisRateLimiter: counters shared by every gateway on one Redis. Each reserve and each
 * settle is one Lua script (atomic: check-and-increment of all six limits at once), with the
 * same maths as ./window.ts. Time is Redis's own clock (TIME) unless a Clock is injected
 * (tests run it on a VirtualClock), so gateways with skewed clocks still agree on windows.
 *
 * Redis down: `failMode: 'open'` decides with a local MemoryRateLimiter (per-gateway limits,
 * logged once per outage), `'closed'` rejects with SwitchyardError(unavailable, 503).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Clock } from '../core/index.js';
import { SwitchyardError } from '../core/index.js';
import type { Logger } from '../observability/index.js';
import { MemoryRateLimiter, storageKeys } from './memory.js';
import type { Decision, RateLimiter, RateLimiterOptions, RateLimitRequest, Reservation, WindowStatus } from './types.js';
import type { ResolvedOptions } from './window.js';
import { bindingStatus, LIMIT_ORDER, limitAt, resolveOptions, tooLarge, validateActual, validateRequest } from './window.js';

export type FailMode = 'open' | 'closed';

export interface RedisRateLimiterOptions extends RateLimiterOptions {
  /** A redis:// URL (the limiter owns the connection) or a connected client (the caller owns it). */
  readonly redis: string | Redis;
  /** Prefix of every key. Default `sy:rl:`. */
  readonly keyPrefix?: string | undefined;
  /** What to do when Redis cannot be reached. Default 'open'. */
  readonly failMode?: FailMode | undefined;
  /** Time source. Default: the Redis server's clock (TIME), shared by every gateway. */
  readonly clock?: Clock | undefined;
  /** Per-command deadline before Redis counts as down. Default 500 ms. */
  readonly commandTimeoutMs?: number | undefined;
  readonly logger?: Pick<Logger, 'warn' | 'info'> | undefined;
}

/** Keys outlive their last window by this much (real ms), so a slow test or a paused gateway never loses a live counter. */
const KEEP_MS = 10_000;

/** Both scripts start here: W = ARGV[1] (window ms), now = ARGV[2], or Redis's own clock when it is -1. */
const CLOCK_PRELUDE = `local W = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/**
 * KEYS: the six limits in LIMIT_ORDER (rpm/tpm: hash {w, c, p}; concurrency: zset lease → expiry).
 * ARGV: windowMs, now (-1 = TIME), tokens, lease id, leaseTtlMs, concurrencyRetryMs, keepMs, six limits (-1 = none).
 * Returns {allowed, rejected index (1-based, 0 = none), retryAfterMs, window, then remaining and resetMs per limit (-1 = none)}.
 */
const RESERVE = `
${CLOCK_PRELUDE}local cost = tonumber(ARGV[3])
local lease = ARGV[4]
local leaseTtl = tonumber(ARGV[5])
local concRetry = tonumber(ARGV[6])
local keep = tonumber(ARGV[7])
local win = math.floor(now / W)
local elapsed = now - win * W
local out = {0, 0, 0, win}
local rejIdx, rejRetry = 0, 0
local cs, ps, amounts = {}, {}, {}
for i = 1, 6 do
  local limit = tonumber(ARGV[7 + i])
  local rem, reset = -1, -1
  if limit >= 0 then
    local retry = 0
    if i == 3 or i == 6 then
      redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
      local n = redis.call('ZCARD', KEYS[i])
      if n + 1 > limit then
        local first = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
        retry = math.max(1, math.min(concRetry, tonumber(first[2]) - now))
      end
    else
      local amount = 1
      if i == 2 or i == 5 then amount = cost end
      local v = redis.call('HMGET', KEYS[i], 'w', 'c', 'p')
      local w = tonumber(v[1])
      local c, p = 0, 0
      if w == win then c, p = tonumber(v[2]), tonumber(v[3])
      elseif w == win - 1 then c, p = 0, tonumber(v[2]) end
      cs[i], ps[i], amounts[i] = c, p, amount
      local est = (p * (W - elapsed)) / W + c
      local after, cAfter = est + amount, c + amount
      if est + amount > limit then
        if c + amount > limit then retry = W - elapsed + math.ceil(W * (1 - (limit - amount) / c))
        else retry = math.ceil(W * (1 - (limit - amount - c) / p)) - elapsed end
        retry = math.max(1, retry)
        after, cAfter = est, c
      end
      rem = math.max(0, math.floor(limit - after))
      if cAfter > 0 then reset = 2 * W - elapsed elseif p > 0 then reset = W - elapsed else reset = 0 end
    end
    if retry > 0 and retry > rejRetry then rejIdx, rejRetry = i, retry end
  end
  out[3 + 2 * i] = rem
  out[4 + 2 * i] = reset
end
if rejIdx > 0 then
  out[2], out[3] = rejIdx, rejRetry
  return out
end
for i = 1, 6 do
  if tonumber(ARGV[7 + i]) >= 0 then
    if i == 3 or i == 6 then
      redis.call('ZADD', KEYS[i], now + leaseTtl, lease)
      redis.call('PEXPIRE', KEYS[i], leaseTtl + keep)
    else
      redis.call('HSET', KEYS[i], 'w', win, 'c', cs[i] + amounts[i], 'p', ps[i])
      redis.call('PEXPIRE', KEYS[i], 2 * W + keep)
    end
  end
end
out[1] = 1
return out
`;

/**
 * KEYS: key tpm, tenant tpm (hashes), key and tenant concurrency (zsets).
 * ARGV: windowMs, now (-1 = TIME), window of the reservation, delta tokens, lease id, keepMs.
 * Token counters that do not exist (no tpm limit, or long expired) are left alone.
 */
const SETTLE = `
${CLOCK_PRELUDE}local resWin = tonumber(ARGV[3])
local delta = tonumber(ARGV[4])
local win = math.floor(now / W)
if delta ~= 0 then
  for i = 1, 2 do
    local v = redis.call('HMGET', KEYS[i], 'w', 'c', 'p')
    local w = tonumber(v[1])
    if w then
      local c, p = 0, 0
      if w == win then c, p = tonumber(v[2]), tonumber(v[3])
      elseif w == win - 1 then c, p = 0, tonumber(v[2]) end
      if resWin == win then c = math.max(0, c + delta)
      elseif resWin == win - 1 then p = math.max(0, p + delta)
      elseif delta > 0 then c = c + delta end
      redis.call('HSET', KEYS[i], 'w', win, 'c', c, 'p', p)
      redis.call('PEXPIRE', KEYS[i], 2 * W + tonumber(ARGV[6]))
    end
  end
end
redis.call('ZREM', KEYS[3], ARGV[5])
redis.call('ZREM', KEYS[4], ARGV[5])
return 1
`;

type Arg = string | number;
interface LimiterCommands {
  syRateReserve(...args: Arg[]): Promise<number[]>;
  syRateSettle(...args: Arg[]): Promise<number>;
}

/** A reservation made while Redis was down is settled on the local limiter that made it. */
const local = new WeakSet<Reservation>();

export class RedisRateLimiter implements RateLimiter {
  readonly opts: ResolvedOptions;
  readonly failMode: FailMode;
  readonly keyPrefix: string;
  private readonly client: Redis;
  private readonly owned: boolean;
  private readonly clock: Clock | undefined;
  private readonly logger: Pick<Logger, 'warn' | 'info'> | undefined;
  private readonly fallback: MemoryRateLimiter;
  private readonly done = new WeakSet<Reservation>();
  private down = false;

  constructor(options: RedisRateLimiterOptions) {
    this.opts = resolveOptions(options);
    this.failMode = options.failMode ?? 'open';
    if (this.failMode !== 'open' && this.failMode !== 'closed') {
      throw new SwitchyardError('invalid_config', `rate limiter failMode must be 'open' or 'closed', got '${String(this.failMode)}'`, { param: 'failMode' });
    }
    this.keyPrefix = options.keyPrefix ?? 'sy:rl:';
    this.clock = options.clock;
    this.logger = options.logger;
    this.fallback = new MemoryRateLimiter({ ...options, clock: options.clock });
    this.owned = typeof options.redis === 'string';
    this.client = typeof options.redis === 'string'
      ? new Redis(options.redis, {
        enableOfflineQueue: false, // fail fast while disconnected instead of queueing
        maxRetriesPerRequest: 0,
        commandTimeout: options.commandTimeoutMs ?? 500,
        retryStrategy: (times) => Math.min(times * 100, 2000),
      })
      : options.redis;
    if (this.owned) this.client.on('error', () => undefined); // surfaced per command, logged once per outage
    this.client.defineCommand('syRateReserve', { numberOfKeys: 6, lua: RESERVE });
    this.client.defineCommand('syRateSettle', { numberOfKeys: 4, lua: SETTLE });
  }

  /** Resolve once connected (or reject after `timeoutMs`); reserve works before this, via failMode. */
  async ready(timeoutMs = 5000): Promise<void> {
    if (this.client.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.client.off('ready', onReady);
        reject(new SwitchyardError('unavailable', `Redis not ready after ${timeoutMs} ms`));
      }, timeoutMs);
      const onReady = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.client.once('ready', onReady);
    });
  }

  private get cmds(): LimiterCommands {
    return this.client as unknown as LimiterCommands;
  }

  private now(): number {
    return this.clock ? Math.floor(this.clock.epochMs()) : -1;
  }

  async reserve(req: RateLimitRequest): Promise<Decision> {
    validateRequest(req);
    const W = this.opts.windowMs;
    const early = tooLarge(req, W);
    if (early) return early;
    const id = randomUUID();
    const limits = LIMIT_ORDER.map((_, i) => limitAt(req, i) ?? -1);
    let out: number[];
    try {
      out = await this.cmds.syRateReserve(...storageKeys(req, this.keyPrefix), W, this.now(), req.estimatedTokens, id, this.opts.leaseTtlMs, this.opts.concurrencyRetryMs, KEEP_MS, ...limits);
      this.up();
    } catch (e) {
      this.failed(e);
      if (this.failMode === 'closed') throw new SwitchyardError('unavailable', 'rate limiter state (Redis) is unavailable', { cause: e });
      const d = await this.fallback.reserve(req);
      if (d.allowed) local.add(d.reservation);
      return d;
    }
    const n = (i: number): number => out[i] ?? -1;
    const statuses: (WindowStatus | undefined)[] = LIMIT_ORDER.map((_, i) => {
      const limit = limits[i]!;
      return limit >= 0 && n(4 + 2 * i) >= 0 ? { limit, remaining: n(4 + 2 * i), resetMs: n(5 + 2 * i) } : undefined;
    });
    if (n(0) !== 1) {
      const i = n(1) - 1;
      const [scope, limit] = LIMIT_ORDER[i]!;
      return { allowed: false, scope, limit, limitValue: limits[i]!, retryAfterMs: n(2), exceedsLimit: false, status: bindingStatus(statuses) };
    }
    const reservation: Reservation = { id, tenantId: req.tenantId, keyId: req.keyId, reservedTokens: req.estimatedTokens, window: n(3) };
    return { allowed: true, reservation, status: bindingStatus(statuses) };
  }

  async settle(handle: Reservation, actualTokens: number): Promise<void> {
    validateActual(actualTokens);
    if (local.has(handle)) return this.fallback.settle(handle, actualTokens);
    if (this.done.has(handle)) return;
    this.done.add(handle);
    const keys = storageKeys(handle, this.keyPrefix);
    try {
      await this.cmds.syRateSettle(keys[1]!, keys[4]!, keys[2]!, keys[5]!, this.opts.windowMs, this.now(), handle.window, actualTokens - handle.reservedTokens, handle.id, KEEP_MS);
      this.up();
    } catch (e) {
      this.failed(e); // the reservation stands; its lease expires after leaseTtlMs
    }
  }

  release(handle: Reservation): Promise<void> {
    return this.settle(handle, 0);
  }

  async close(): Promise<void> {
    await this.fallback.close();
    if (this.owned) this.client.disconnect();
  }

  private failed(e: unknown): void {
    if (this.down) return;
    this.down = true;
    const how = this.failMode === 'open' ? 'failing open to a per-gateway in-memory limiter' : 'rejecting requests (failMode closed)';
    this.logger?.warn({ err: e instanceof Error ? e.message : String(e) }, `rate limiter: Redis unavailable, ${how}`);
  }

  private up(): void {
    if (!this.down) return;
    this.down = false;
    this.logger?.info('rate limiter: Redis reachable again');
  }
}
