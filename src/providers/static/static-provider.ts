/**
 * StaticProvider: the replicas of a deployment are `target.endpoints`, servers that already exist
 * (started by hand, by another system, in another cloud). Nothing is started or stopped; each
 * endpoint is probed (`GET /health`, or `GET /v1/models` when /health answers 404) and reported
 * `starting` until it answers 200, then `ready`, and `failed` once it stops answering
 * (`failureThreshold` probes in a row) until it answers again. `target.replicas` is ignored:
 * the endpoints are the replicas.
 */
import { parseDuration, RealClock, SwitchyardError, type Clock, type TimerHandle } from '../../core/index.js';
import { httpProbe, type ProbeResult } from '../http-probe.js';
import { ChangeListeners } from '../listeners.js';
import type { DeploymentTarget, LogOptions, Provider, ReplicaState, ReplicaStatus } from '../types.js';

/** Options of `new StaticProvider(...)`. */
export interface StaticProviderOptions {
  readonly clock?: Clock;
  /** Probe interval until ready or while failed (default 500 ms) and once ready (default 5 s); ms or '5s'. */
  readonly probeInterval?: { readonly starting?: number | string; readonly ready?: number | string };
  /** Timeout of one probe (default 2 s). */
  readonly probeTimeout?: number | string;
  /** Failed probes in a row that make a ready endpoint failed (default 3). */
  readonly failureThreshold?: number;
  /** Probe function (tests); default GET over node:http. */
  readonly probe?: (url: string, timeoutMs: number) => Promise<ProbeResult>;
}

interface Endpoint {
  readonly index: number;
  readonly url: string;
  readonly startedAt: string;
  state: ReplicaState;
  message: string | undefined;
  failures: number;
  timer: TimerHandle | undefined;
  gone: boolean;
}

/** The Provider for endpoints that already exist. */
export class StaticProvider implements Provider {
  readonly kind = 'static';
  private readonly clock: Clock;
  private readonly startingMs: number;
  private readonly readyMs: number;
  private readonly timeoutMs: number;
  private readonly threshold: number;
  private readonly probe: (url: string, timeoutMs: number) => Promise<ProbeResult>;
  private readonly deps = new Map<string, Endpoint[]>();
  private readonly listeners = new ChangeListeners();
  private closed = false;

  constructor(options: StaticProviderOptions = {}) {
    this.clock = options.clock ?? new RealClock();
    this.startingMs = parseDuration(options.probeInterval?.starting ?? 500, 'probeInterval.starting');
    this.readyMs = parseDuration(options.probeInterval?.ready ?? 5000, 'probeInterval.ready');
    this.timeoutMs = parseDuration(options.probeTimeout ?? 2000, 'probeTimeout');
    this.threshold = options.failureThreshold ?? 3;
    this.probe = options.probe ?? httpProbe;
  }

  async apply(target: DeploymentTarget): Promise<void> {
    if (this.closed) throw new SwitchyardError('unavailable', 'the static provider is closed', { retryable: false });
    if (!target.endpoints) {
      throw new SwitchyardError('invalid_argument', `deployment '${target.deployment}': the static provider needs endpoints (URLs of running servers)`, {
        param: 'endpoints',
      });
    }
    const urls = target.endpoints.map((u, i) => normalize(u, i));
    const old = this.deps.get(target.deployment) ?? [];
    if (old.length === urls.length && old.every((e, i) => e.url === urls[i])) return;
    const next = urls.map((url, index) => {
      const same = old[index];
      return same && same.url === url ? same : this.register(target.deployment, index, url);
    });
    for (const e of old) if (!next.includes(e)) this.forget(e);
    this.deps.set(target.deployment, next);
    this.listeners.emit(target.deployment);
  }

  async remove(deployment: string): Promise<void> {
    const eps = this.deps.get(deployment);
    if (!eps) return;
    for (const e of eps) this.forget(e);
    this.deps.delete(deployment);
    this.listeners.emit(deployment);
  }

  status(deployment: string): ReplicaStatus[] {
    return (this.deps.get(deployment) ?? []).map((e) => ({
      index: e.index,
      id: `${deployment}-${e.index}`,
      state: e.state,
      endpoint: e.url,
      restarts: 0,
      startedAt: e.startedAt,
      ...(e.message !== undefined ? { message: e.message } : {}),
    }));
  }

  deployments(): string[] {
    return [...this.deps.keys()].sort();
  }

  onChange(cb: (deployment: string) => void): () => void {
    return this.listeners.add(cb);
  }

  async *logs(deployment: string, replica: number, _options: LogOptions = {}): AsyncGenerator<string> {
    const url = this.deps.get(deployment)?.[replica]?.url;
    if (url === undefined) throw new SwitchyardError('not_found', `deployment '${deployment}' has no replica ${replica} on this static cluster`, { param: 'replica' });
    yield `replica ${replica} of deployment '${deployment}' is a static endpoint (${url}): its logs live where that server runs, not in Switchyard`;
  }

  async close(_options: { stopReplicas: boolean }): Promise<void> {
    this.closed = true;
    for (const d of [...this.deps.keys()]) for (const e of this.deps.get(d) ?? []) this.forget(e);
    this.deps.clear();
    this.listeners.clear();
  }

  private register(deployment: string, index: number, url: string): Endpoint {
    const e: Endpoint = {
      index,
      url,
      startedAt: new Date(this.clock.epochMs()).toISOString(),
      state: 'starting',
      message: 'waiting for the endpoint to answer',
      failures: 0,
      timer: undefined,
      gone: false,
    };
    e.timer = this.clock.setTimeout(() => void this.check(deployment, e), 0);
    return e;
  }

  private forget(e: Endpoint): void {
    e.gone = true;
    this.clock.clearTimeout(e.timer);
  }

  private async check(deployment: string, e: Endpoint): Promise<void> {
    e.timer = undefined;
    const probe = (path: string): Promise<ProbeResult> =>
      this.probe(`${e.url}${path}`, this.timeoutMs).catch((err: unknown) => ({ ok: false, error: err instanceof Error ? err.message : String(err) }));
    let res = await probe('/health');
    if (!res.ok && res.status === 404) res = await probe('/v1/models');
    if (e.gone) return;
    const before = e.state;
    if (res.ok) {
      e.state = 'ready';
      e.failures = 0;
      e.message = undefined;
    } else {
      const why = res.error ?? `HTTP ${res.status}`;
      e.failures++;
      if (e.state === 'ready' && e.failures >= this.threshold) e.state = 'failed';
      e.message = e.state === 'starting' ? `waiting for the endpoint to answer: ${why}` : `not answering (${e.failures} probes in a row): ${why}`;
    }
    if (e.state !== before) this.listeners.emit(deployment);
    e.timer = this.clock.setTimeout(() => void this.check(deployment, e), e.state === 'ready' ? this.readyMs : this.startingMs);
  }
}

function normalize(url: string, i: number): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SwitchyardError('invalid_argument', `endpoints[${i}]: '${url}' is not a URL; use e.g. http://10.0.0.5:8000`, { param: `endpoints[${i}]` });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new SwitchyardError('invalid_argument', `endpoints[${i}]: '${url}' must be http:// or https://`, { param: `endpoints[${i}]` });
  }
  return u.href.replace(/\/+$/, '');
}
