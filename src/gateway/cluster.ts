/**
 * Multi-process serving (`switchyard gateway --workers N`): one event loop per core. The primary
 * forks N workers with node:cluster; each worker is a whole gateway (its own routing table, health
 * and load view, pools to the backends) and they share one listening port — the primary accepts
 * connections and hands them to the workers in turn (Node's round-robin scheduling on Linux), so
 * keep-alive clients are spread evenly and the primary's own work is one accept per connection.
 *
 * - SIGHUP at the primary reloads every worker; SIGTERM/SIGINT drain them all (each stops
 *   accepting and finishes its in-flight requests up to drainTimeout) and then the primary exits.
 * - A worker that dies is forked again after a back-off (100 ms, doubling up to 10 s; back to
 *   100 ms once a worker has lived 10 s). A worker whose primary disappears drains and exits.
 * - /metrics, whichever worker answers it, is the sum over all workers (prom-client's cluster
 *   aggregation: counters and histograms add up; each metric's `aggregator` decides otherwise —
 *   e.g. the circuit-state gauge takes the worst state any worker sees). Gauges of state every
 *   worker keeps a copy of (the KV index, …) therefore read N times one copy.
 *
 * Not shared between workers: in-memory rate-limit counters (use --redis-url for exact limits),
 * fair-queue state (each worker admits maxInFlightPerEndpoint per endpoint), session pins and
 * round-robin positions.
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Logger } from '../observability/index.js';

/** Primary → worker. */
type ToWorker = { sy: 'reload' } | { sy: 'shutdown' } | { sy: 'collect'; id: number } | { sy: 'metrics'; id: number; text?: string; error?: string };
/** Worker → primary. */
type ToPrimary = { sy: 'ready'; url: string; models: string[]; drainTimeoutMs: number } | { sy: 'metrics?'; id: number } | { sy: 'collected'; id: number; metrics: MetricJson[] };

/** One registry's metrics as getMetricsAsJSON() returns them. */
type MetricJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>[number];

const isMessage = (m: unknown): m is { sy: string } => typeof m === 'object' && m !== null && typeof (m as { sy?: unknown }).sy === 'string';

export interface PrimaryOptions {
  workers: number;
  logger: Logger;
  /** Back-off before forking a replacement for a worker that died (doubling from initialMs). */
  restartBackoff?: { initialMs: number; maxMs: number };
  /** How long workers have to start listening. */
  startTimeoutMs?: number;
}

interface WorkerState {
  worker: Worker;
  startedAt: number;
  ready: boolean;
}

/** The primary of a multi-process gateway. */
export class GatewayPrimary {
  url = '';
  models: string[] = [];
  /** Workers forked again after one died. */
  restarts = 0;
  private readonly states = new Map<number, WorkerState>();
  private stopping = false;
  private failures = 0;
  private drainTimeoutMs = 30_000;
  private nextCollect = 0;
  private readonly collections = new Map<number, { metrics: MetricJson[][]; pending: Set<number>; done: () => void }>();
  private readonly restartTimers = new Set<NodeJS.Timeout>();

  private constructor(private readonly o: PrimaryOptions) {}

  /** Fork the workers; resolves once every one listens, rejects when one exits first. */
  static async start(o: PrimaryOptions): Promise<GatewayPrimary> {
    if (!cluster.isPrimary) throw new Error('GatewayPrimary.start() in a cluster worker');
    const p = new GatewayPrimary(o);
    cluster.on('message', (w, m: unknown) => p.onMessage(w, m));
    cluster.on('exit', (w, code, signal) => p.onExit(w, code, signal));
    const all = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`gateway workers did not start within ${o.startTimeoutMs ?? 60_000} ms`)), o.startTimeoutMs ?? 60_000);
      p.onStartup = (err) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
    });
    for (let i = 0; i < o.workers; i++) p.fork();
    try {
      await all;
    } catch (e) {
      await p.stop();
      throw e;
    }
    p.onStartup = null;
    return p;
  }

  private onStartup: ((err?: Error) => void) | null = null;

  /** Workers alive now. */
  get alive(): number {
    return this.states.size;
  }

  /** Tell every worker to re-read its configuration (SIGHUP). */
  reload(): void {
    this.o.logger.info({ workers: this.states.size }, 'reloading the configuration of every worker');
    this.broadcast({ sy: 'reload' });
  }

  /** Drain every worker and wait for them to exit (killed after their drain timeout + 5 s). */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.restartTimers) clearTimeout(t);
    this.restartTimers.clear();
    const exited = [...this.states.values()].map((s) => new Promise<void>((resolve) => (s.worker.isDead() ? resolve() : s.worker.once('exit', () => resolve()))));
    this.broadcast({ sy: 'shutdown' });
    const kill = setTimeout(() => {
      for (const s of this.states.values()) s.worker.process.kill('SIGKILL');
    }, this.drainTimeoutMs + 5000);
    await Promise.all(exited);
    clearTimeout(kill);
  }

  private fork(): void {
    const worker = cluster.fork();
    this.states.set(worker.id, { worker, startedAt: Date.now(), ready: false });
  }

  private broadcast(m: ToWorker): void {
    for (const s of this.states.values()) if (s.worker.isConnected()) s.worker.send(m);
  }

  private onMessage(worker: Worker, m: unknown): void {
    if (!isMessage(m)) return;
    const msg = m as ToPrimary;
    const state = this.states.get(worker.id);
    switch (msg.sy) {
      case 'ready':
        if (state) state.ready = true;
        this.url = msg.url;
        this.models = msg.models;
        this.drainTimeoutMs = msg.drainTimeoutMs;
        if (this.onStartup && [...this.states.values()].every((s) => s.ready)) this.onStartup();
        break;
      case 'metrics?':
        void this.aggregate().then(
          (text) => worker.isConnected() && worker.send({ sy: 'metrics', id: msg.id, text } satisfies ToWorker),
          (e: unknown) => worker.isConnected() && worker.send({ sy: 'metrics', id: msg.id, error: e instanceof Error ? e.message : String(e) } satisfies ToWorker),
        );
        break;
      case 'collected': {
        const c = this.collections.get(msg.id);
        if (!c || !c.pending.delete(worker.id)) return;
        c.metrics.push(msg.metrics);
        if (c.pending.size === 0) c.done();
        break;
      }
    }
  }

  /** Every ready worker's metrics, aggregated (a worker that does not answer within 2 s is left out). */
  private async aggregate(): Promise<string> {
    const id = this.nextCollect++;
    const ready = [...this.states.values()].filter((s) => s.ready && s.worker.isConnected());
    const c = { metrics: [] as MetricJson[][], pending: new Set(ready.map((s) => s.worker.id)), done: () => undefined as void };
    const finished = new Promise<void>((resolve) => {
      c.done = resolve;
      setTimeout(resolve, 2000).unref();
    });
    this.collections.set(id, c);
    for (const s of ready) s.worker.send({ sy: 'collect', id } satisfies ToWorker);
    if (c.pending.size > 0) await finished;
    this.collections.delete(id);
    return AggregatorRegistry.aggregate(c.metrics).metrics();
  }

  private onExit(worker: Worker, code: number | null, signal: string | null): void {
    const state = this.states.get(worker.id);
    this.states.delete(worker.id);
    for (const c of this.collections.values()) if (c.pending.delete(worker.id) && c.pending.size === 0) c.done();
    if (this.stopping) return;
    if (this.onStartup) {
      this.onStartup(new Error(`a gateway worker exited before it was ready (code ${code ?? 'none'}${signal ? `, ${signal}` : ''}); see its log above`));
      return;
    }
    const lived = state ? Date.now() - state.startedAt : 0;
    if (lived >= 10_000) this.failures = 0;
    const b = this.o.restartBackoff ?? { initialMs: 100, maxMs: 10_000 };
    const delay = Math.min(b.maxMs, b.initialMs * 2 ** this.failures);
    this.failures++;
    this.o.logger.error({ worker: worker.process.pid, code, signal, restartInMs: delay }, 'gateway worker died; starting a new one');
    const t = setTimeout(() => {
      this.restartTimers.delete(t);
      if (this.stopping) return;
      this.restarts++;
      this.fork();
    }, delay);
    this.restartTimers.add(t);
  }
}

export interface WorkerHooks {
  reload(): void;
  /** Drain and exit (the primary asked, or it went away). */
  shutdown(): void;
}

/** A worker's side of the cluster: readiness, reload/shutdown from the primary, aggregated metrics. */
export class WorkerLink {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (t: string) => void; reject: (e: Error) => void }>();

  constructor(
    private readonly registry: Registry,
    hooks: WorkerHooks,
  ) {
    if (!cluster.isWorker) throw new Error('WorkerLink outside a cluster worker');
    process.on('message', (m: unknown) => {
      if (!isMessage(m)) return;
      const msg = m as ToWorker;
      switch (msg.sy) {
        case 'reload':
          return hooks.reload();
        case 'shutdown':
          return hooks.shutdown();
        case 'collect':
          void this.registry.getMetricsAsJSON().then((metrics) => this.send({ sy: 'collected', id: msg.id, metrics }));
          return;
        case 'metrics': {
          const p = this.pending.get(msg.id);
          this.pending.delete(msg.id);
          if (msg.text !== undefined) p?.resolve(msg.text);
          else p?.reject(new Error(msg.error ?? 'metrics aggregation failed'));
          return;
        }
      }
    });
    // The primary is gone (killed): finish what is in flight and exit rather than linger.
    process.once('disconnect', () => hooks.shutdown());
  }

  /** Stop listening to the primary and let go of the channel (the worker can then exit). */
  close(): void {
    process.removeAllListeners('message');
    process.removeAllListeners('disconnect');
    if (process.connected) process.disconnect();
  }

  ready(url: string, models: readonly string[], drainTimeoutMs: number): void {
    this.send({ sy: 'ready', url, models: [...models], drainTimeoutMs });
  }

  /** /metrics of the whole gateway: every worker's, aggregated by the primary (rejects after 5 s). */
  metrics(): Promise<string> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error('the gateway primary did not answer within 5 s'));
      }, 5000);
      const settle = <T>(f: (v: T) => void) => (v: T): void => {
        clearTimeout(timer);
        f(v);
      };
      this.pending.set(id, { resolve: settle(resolve), reject: settle(reject) });
      if (!this.send({ sy: 'metrics?', id })) {
        this.pending.delete(id);
        settle(reject)(new Error('the gateway primary is not reachable'));
      }
    });
  }

  private send(m: ToPrimary): boolean {
    if (!process.connected || process.send === undefined) return false;
    process.send(m);
    return true;
  }
}

/** Whether this process is a worker of a multi-process gateway. */
export function isGatewayWorker(): boolean {
  return cluster.isWorker;
}
