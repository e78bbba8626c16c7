/**
 * Health parameters for one pool of backends (one model's replicas), as a strict zod schema
 * with defaults, so the gateway config can embed it (`health: HealthConfigSchema.prefault({})`).
 * Durations accept '10s'-style strings or numbers of milliseconds and come out as ms.
 *
 * ```yaml
 * health:
 *   circuit:  { consecutiveFailures: 5, window: 20, minRequests: 10, failureRatio: 0.5,
 *               openDuration: 10s, maxOpenDuration: 2m, halfOpenMaxRequests: 1 }
 *   outlier:  { consecutive5xx: 5, baseEjectionTime: 10s, maxEjectionTime: 5m, maxEjectionPercent: 50 }
 *   active:   { enabled: true, path: /health, interval: 5s, timeout: 2s, jitter: 0.1,
 *               unhealthyThreshold: 2, healthyThreshold: 1, startHealthy: true }
 *   slowStart: { duration: 10s, minFactor: 0.1 }
 * ```
 */
import { z } from 'zod';
import { ConfigError, formatZodIssues, zodDuration, zodParseOptions } from '../../config/index.js';

/** Circuit breaker: trips on a failure streak or a high failure ratio, then probes with trials. */
export const CircuitConfigSchema = z
  .strictObject({
    /** Open after this many failures in a row (connect, timeout, reset, 5xx; 429 is neutral). */
    consecutiveFailures: z.number().int().min(1).default(5),
    /** Size of the rolling window: the outcomes of the last `window` requests. */
    window: z.number().int().min(1).default(20),
    /** The ratio rule applies only once the window holds at least this many outcomes. */
    minRequests: z.number().int().min(1).default(10),
    /** Open when failures / outcomes in the window exceeds this (strictly greater). */
    failureRatio: z.number().gt(0).max(1).default(0.5),
    /** First open period; each further opening without recovery doubles it. */
    openDuration: zodDuration({ min: '1ms' }).default(10_000),
    /** Cap on the doubled open period. */
    maxOpenDuration: zodDuration({ min: '1ms' }).default(120_000),
    /** Trial requests admitted at once in half_open. */
    halfOpenMaxRequests: z.number().int().min(1).default(1),
  })
  .check((ctx) => {
    const c = ctx.value;
    if (c.minRequests > c.window) {
      ctx.issues.push({ code: 'custom', input: c.minRequests, path: ['minRequests'], message: `minRequests (${c.minRequests}) must not exceed window (${c.window}); lower minRequests or raise window` });
    }
    if (c.maxOpenDuration < c.openDuration) {
      ctx.issues.push({ code: 'custom', input: c.maxOpenDuration, path: ['maxOpenDuration'], message: 'maxOpenDuration must be at least openDuration' });
    }
  });

/** Passive outlier ejection (Envoy-style), decided per backend, capped across the pool. */
export const OutlierConfigSchema = z
  .strictObject({
    /** Eject after this many gateway-observed errors in a row (5xx, connect, reset, first-byte timeout; not 429). */
    consecutive5xx: z.number().int().min(1).default(5),
    /** Ejection time = baseEjectionTime × times ejected, capped at maxEjectionTime. */
    baseEjectionTime: zodDuration({ min: '1ms' }).default(10_000),
    maxEjectionTime: zodDuration({ min: '1ms' }).default(300_000),
    /** At most this percent of the pool may be ejected at once; further ejections are refused. */
    maxEjectionPercent: z.number().min(0).max(100).default(50),
  })
  .check((ctx) => {
    if (ctx.value.maxEjectionTime < ctx.value.baseEjectionTime) {
      ctx.issues.push({ code: 'custom', input: ctx.value.maxEjectionTime, path: ['maxEjectionTime'], message: 'maxEjectionTime must be at least baseEjectionTime' });
    }
  });

/** Active health checks: GET `${url}${path}` every `interval` (± jitter). */
export const ActiveCheckConfigSchema = z.strictObject({
  /** Run the ActiveHealthChecker. When false, recordCheck is never called and backends stay activeHealthy. */
  enabled: z.boolean().default(true),
  path: z.string().startsWith('/').default('/health'),
  interval: zodDuration({ min: '10ms' }).default(5_000),
  timeout: zodDuration({ min: '1ms' }).default(2_000),
  /** Each delay is interval × (1 + jitter × u), u uniform in [-1, 1). */
  jitter: z.number().min(0).max(0.5).default(0.1),
  /** Consecutive failed checks that mark a backend unhealthy. */
  unhealthyThreshold: z.number().int().min(1).default(2),
  /** Consecutive passed checks that mark an unhealthy backend healthy again. */
  healthyThreshold: z.number().int().min(1).default(1),
  /** Whether a new backend counts as healthy before its first check. */
  startHealthy: z.boolean().default(true),
});

/** Slow start: a backend back in service ramps its weight from minFactor to 1 over duration. */
export const SlowStartConfigSchema = z.strictObject({
  /** Ramp length; 0 turns slow start off (weightFactor is always 1). */
  duration: zodDuration().default(10_000),
  minFactor: z.number().gt(0).max(1).default(0.1),
});

export const HealthConfigSchema = z.strictObject({
  circuit: CircuitConfigSchema.prefault({}),
  outlier: OutlierConfigSchema.prefault({}),
  active: ActiveCheckConfigSchema.prefault({}),
  slowStart: SlowStartConfigSchema.prefault({}),
});

export type CircuitConfig = z.infer<typeof CircuitConfigSchema>;
export type OutlierConfig = z.infer<typeof OutlierConfigSchema>;
export type ActiveCheckConfig = z.infer<typeof ActiveCheckConfigSchema>;
export type SlowStartConfig = z.infer<typeof SlowStartConfigSchema>;
/** The compiled config (durations in ms, every default filled). */
export type HealthConfig = z.infer<typeof HealthConfigSchema>;
/** What a config file or caller may write (every field optional, durations as '10s' or ms). */
export type HealthConfigInput = z.input<typeof HealthConfigSchema>;

/**
 * Parse and fill defaults; throws ConfigError (code invalid_config) listing every issue.
 * A compiled HealthConfig is also valid input (parsing is idempotent).
 */
export function resolveHealthConfig(input: HealthConfigInput = {}, source = 'health'): HealthConfig {
  const r = HealthConfigSchema.safeParse(input, zodParseOptions);
  if (!r.success) throw new ConfigError(source, formatZodIssues(r.error));
  return r.data;
}
