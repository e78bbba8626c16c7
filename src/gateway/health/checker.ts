/**
 * ActiveHealthChecker: GET `${url}${path}` (default /health) for each endpoint every
 * `interval` (± jitter) on the injected Clock, and feed the verdict to `recordCheck`.
 * Thin glue over EndpointPoller (scheduling, no overlap, Clock-measured timeout) and a
 * `Probe` (the I/O, injectable for tests). A probe that throws or times out counts as failed.
 */
import { request } from 'undici';
import type { Clock } from '../../core/index.js';
import { ActiveCheckConfigSchema } from './config.js';
import type { ActiveCheckConfig } from './config.js';
import { EndpointPoller } from './poller.js';
import type { PollTarget } from './poller.js';
import type { z } from 'zod';

/** Probe one URL: true when healthy. Must settle within about `timeoutMs`, or soon after `signal` aborts. */
export type Probe = (url: string, timeoutMs: number, signal?: AbortSignal) => Promise<boolean>;

/** Where results go; a HealthPool fits. Unknown ids are skipped. */
export interface HealthCheckTarget {
  get(id: string): { recordCheck(ok: boolean): void } | undefined;
}

export type ActiveCheckConfigInput = z.input<typeof ActiveCheckConfigSchema>;

export interface ActiveHealthCheckerOptions {
  readonly clock: Clock;
  readonly target: HealthCheckTarget;
  /** Raw or compiled `health.active` config. */
  readonly config?: ActiveCheckConfigInput;
  /** Default: httpProbe (undici). */
  readonly probe?: Probe;
  /** Uniform [0, 1) source for jitter; default Math.random. */
  readonly random?: () => number;
  readonly endpoints?: readonly PollTarget[];
}

/** The probe URL for a base URL: trailing slashes of the base are dropped. */
export function healthUrl(baseUrl: string, path: string): string {
  return baseUrl.replace(/\/+$/, '') + path;
}

export class ActiveHealthChecker {
  readonly config: ActiveCheckConfig;
  private readonly poller: EndpointPoller<boolean>;

  constructor(opts: ActiveHealthCheckerOptions) {
    const config = ActiveCheckConfigSchema.parse(opts.config ?? {});
    this.config = config;
    const probe = opts.probe ?? httpProbe;
    const target = opts.target;
    this.poller = new EndpointPoller<boolean>({
      clock: opts.clock,
      interval: config.interval,
      timeout: config.timeout,
      jitter: config.jitter,
      ...(opts.random ? { random: opts.random } : {}),
      run: (t, timeoutMs, signal) => probe(healthUrl(t.url, config.path), timeoutMs, signal),
      onResult: (id, r) => target.get(id)?.recordCheck(r.ok && r.value),
    });
    if (opts.endpoints) this.poller.setTargets(opts.endpoints);
  }

  get running(): boolean {
    return this.poller.isRunning;
  }

  /** Begin checking (each endpoint at once, then every interval). No-op when `enabled` is false. */
  start(): void {
    if (this.config.enabled) this.poller.start();
  }

  /** Cancel timers and abort probes in flight. */
  stop(): void {
    this.poller.stop();
  }

  /** Replace the endpoint set: new ones are checked at once (when running), removed ones stop. */
  setEndpoints(endpoints: readonly PollTarget[]): void {
    this.poller.setTargets(endpoints);
  }
}

/**
 * Default probe: undici GET; healthy ⇔ 2xx. The body is drained (up to 64 KiB, then the
 * connection is dropped) so the keep-alive connection can be reused. Errors → false.
 */
export async function httpProbe(url: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const sig = signal ? AbortSignal.any([signal, timeout]) : timeout;
  try {
    const res = await request(url, { method: 'GET', signal: sig, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    await res.body.dump({ limit: 65_536, signal: sig });
    return res.statusCode >= 200 && res.statusCode < 300;
  } catch {
    return false;
  }
}
