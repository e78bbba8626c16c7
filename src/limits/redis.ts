/**
 * RedisRateLimiter: counters shared by every gateway on one Redis. Each reserve and each
 * settle is one Lua script (atomic: check-and-increment of all six limits at once), with the
 * same bucketed sliding-window maths as ./window.ts (one hash per limit, one field per bucket). Time is Redis's own clock (TIME) unless a Clock is injected
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

/**
 * Both scripts start here: W = ARGV[1] (window ms), B = ARGV[2] (buckets per window), now =
 * ARGV[3], or Redis's own clock when it is -1. Then window.ts's BucketRing as a hash: field `h`
 * = newest bucket held, `s` = sum of buckets h − B … h, field `<i>` = count of bucket i (only
 * charged buckets have one). `advance` drops (HDEL) the buckets that left and subtracts them from
 * `s`, once per bucket passed: O(1) amortized, O(B) after an idle spell. Only a rejection (the
 * retry walk, oldest-first) or a 0-token admission (reset) reads every bucket: one HGETALL of at
 * most B + 3 fields, then a walk over the B + 1 bucket indices. Time never moves back for a
 * counter (a Redis clock step back is time standing still).
 */
const PRELUDE = `local W = tonumber(ARGV[1])
local B = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local cur = math.floor(now * B / W)
local function bucketStart(i) return math.ceil(i * W / B) end
local function advance(key)
  local v = redis.call('HMGET', key, 'h', 's', cur)
  local h = tonumber(v[1])
  if h == nil then return nil, 0, 0 end
  local s = tonumber(v[2])
  if cur < h then return h, s, tonumber(redis.call('HGET', key, h)) or 0 end
  if cur > h then
    local gone, held, drop = {}, {}, 0
    for i = h - B, math.min(h, cur - B - 1) do gone[#gone + 1] = i end
    local counts = redis.call('HMGET', key, unpack(gone))
    for k = 1, #counts do
      if counts[k] then
        drop = drop + tonumber(counts[k])
        held[#held + 1] = gone[k]
      end
    end
    if #held > 0 then redis.call('HDEL', key, unpack(held)) end
    s = s - drop
    redis.call('HSET', key, 'h', cur, 's', s)
  end
  return cur, s, tonumber(v[3]) or 0
end
local function buckets(key)
  local flat = redis.call('HGETALL', key)
  local cnt = {}
  for k = 1, #flat, 2 do
    local i = tonumber(flat[k])
    if i ~= nil then cnt[i] = tonumber(flat[k + 1]) end
  end
  return cnt
end
local function newest(cnt, h)
  for i = h, h - B, -1 do
    local c = cnt[i]
    if c ~= nil and c > 0 then return i end
  end
  return nil
end
local function resetMs(n)
  if n == nil then return 0 end
  return bucketStart(n + B + 1) - now
end
`;

/**
 * KEYS: the six limits in LIMIT_ORDER (rpm/tpm: bucket hash as above; concurrency: zset lease → expiry).
 * ARGV: windowMs, buckets, now (-1 = TIME), tokens, lease id, leaseTtlMs, concurrencyRetryMs, keepMs, six limits (-1 = none).
 * Returns {allowed, rejected index (1-based, 0 = none), retryAfterMs, bucket, then remaining and resetMs per limit (-1 = none)}.
 */
const RESERVE = `
${PRELUDE}local cost = tonumber(ARGV[4])
local lease = ARGV[5]
local leaseTtl = tonumber(ARGV[6])
local concRetry = tonumber(ARGV[7])
local keep = tonumber(ARGV[8])
local out = {0, 0, 0, cur}
local rejIdx, rejRetry = 0, 0
local amounts, heads, sums, headCounts = {}, {}, {}, {}
for i = 1, 6 do
  local limit = tonumber(ARGV[8 + i])
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
      local h, s, hc = advance(KEYS[i])
      amounts[i], heads[i], sums[i], headCounts[i] = amount, h, s, hc
      if s + amount > limit then
        local cnt = buckets(KEYS[i])
        local rest, j = s, h - B
        while rest + amount > limit and j <= h do
          rest = rest - (cnt[j] or 0)
          j = j + 1
        end
        retry = math.max(1, bucketStart(j + B) - now)
        rem = math.max(0, math.floor(limit - s))
        reset = resetMs(newest(cnt, h))
      else
        rem = math.max(0, math.floor(limit - s - amount))
        if amount > 0 then reset = resetMs(h or cur)
        elseif h ~= nil then reset = resetMs(newest(buckets(KEYS[i]), h))
        else reset = 0 end
      end
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
  if tonumber(ARGV[8 + i]) >= 0 then
    if i == 3 or i == 6 then
      redis.call('ZADD', KEYS[i], now + leaseTtl, lease)
      redis.call('PEXPIRE', KEYS[i], leaseTtl + keep)
    else
      local c = heads[i] or cur
      redis.call('HSET', KEYS[i], 'h', c, 's', sums[i] + amounts[i], c, headCounts[i] + amounts[i])
      redis.call('PEXPIRE', KEYS[i], 2 * W + keep)
    end
  end
end
out[1] = 1
return out
`;

/**
 * KEYS: key tpm, tenant tpm (bucket hashes), key and tenant concurrency (zsets).
 * ARGV: windowMs, buckets, now (-1 = TIME), bucket of the reservation, delta tokens, lease id, keepMs.
 * The delta goes to the reservation's bucket while it is in the window (never below 0); once it
 * has aged out, only an overcharge is billed, to the current bucket. Token counters that do not
 * exist (no tpm limit, or idle long enough to expire) are left alone.
 */
const SETTLE = `
${PRELUDE}local charged = tonumber(ARGV[4])
local delta = tonumber(ARGV[5])
if delta ~= 0 then
  for i = 1, 2 do
    local h, s, hc = advance(KEYS[i])
    if h ~= nil then
      local f = nil
      if charged >= h - B and charged <= h then f = charged elseif delta > 0 then f = h end
      if f ~= nil then
        local v = hc
        if f ~= h then v = tonumber(redis.call('HGET', KEYS[i], f)) or 0 end
        local nv = math.max(0, v + delta)
        redis.call('HSET', KEYS[i], 'h', h, 's', s + nv - v, f, nv)
        redis.call('PEXPIRE', KEYS[i], 2 * W + tonumber(ARGV[7]))
      end
    end
  end
end
redis.call('ZREM', KEYS[3], ARGV[6])
redis.call('ZREM', KEYS[4], ARGV[6])
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
      out = await this.cmds.syRateReserve(...storageKeys(req, this.keyPrefix), W, this.opts.bucketsPerWindow, this.now(), req.estimatedTokens, id, this.opts.leaseTtlMs, this.opts.concurrencyRetryMs, KEEP_MS, ...limits);
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
    const reservation: Reservation = { id, tenantId: req.tenantId, keyId: req.keyId, reservedTokens: req.estimatedTokens, bucket: n(3) };
    return { allowed: true, reservation, status: bindingStatus(statuses) };
  }

  async settle(handle: Reservation, actualTokens: number): Promise<void> {
    validateActual(actualTokens);
    if (local.has(handle)) return this.fallback.settle(handle, actualTokens);
    if (this.done.has(handle)) return;
    this.done.add(handle);
    const keys = storageKeys(handle, this.keyPrefix);
    try {
      await this.cmds.syRateSettle(keys[1]!, keys[4]!, keys[2]!, keys[5]!, this.opts.windowMs, this.opts.bucketsPerWindow, this.now(), handle.bucket, actualTokens - handle.reservedTokens, handle.id, KEEP_MS);
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
