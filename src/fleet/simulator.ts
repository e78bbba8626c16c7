/**
 * The fleet simulator: a discrete-event simulation of N simulated engines behind the router,
 * replaying a trace, all on ONE VirtualClock.
 *
 * Events on the clock:
 *  - arrival i (at the trace timestamp): build the prompt from the trace blocks, sample every
 *    worker's load (unless a periodic scrape is configured), route with the gateway's Router,
 *    submit to the picked worker's engine; schedule arrival i + 1.
 *  - engine steps: each worker's EngineRunner schedules a step, waits its roofline duration on
 *    the clock, completes it, and repeats while the engine has work.
 *  - scrapes (scrapeIntervalMs > 0): sample every worker's running/waiting/KV usage.
 * The run ends when the clock is idle: every request finished or was rejected.
 *
 * KV index: every engine's KV events (BlockStored / BlockRemoved, emitted the moment a step
 * changes its cache) feed one KvBlockIndex keyed by worker id, with the engines' block size and
 * the router's chained hash, so `kv_overlap` & co. see exactly the blocks each worker holds
 * (zero event delay). The router gets it as ctx.kvIndex and each request's tokens as tokenIds.
 *
 * Cluster summaries (`clusterKv: 'summary'`, two-layer only): the same events also feed one
 * index per cluster, and a clock event every summaryRefreshMs (from t = 0, while requests
 * remain) rebuilds the clusters' prefix summaries like their agents would; the cluster layer sees
 * only the last rebuild's (see summaries.ts).
 *
 * Deterministic: same trace and options → same metrics (only decisionP99Us and wallMs, which
 * measure real CPU time, vary).
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Rng, SwitchyardError, VirtualClock } from '../core/index.js';
import type { EngineObserver, FinishedRequest } from '../engines/index.js';
import type { KvEventBatch } from '../kvevents/index.js';
import { applyKvEventBatch, KvBlockIndex } from '../router/index.js';
import { compileSimulatorOptions, type CompiledSimulator, type KvEventSink, type SimulatorOptions } from './config.js';
import { hitRateUpperBound, Samples, summarize, type OutcomeSample, type SimulationMetrics, type UpperBound } from './metrics.js';
import { FleetRouting, SimRouteRequest } from './routing.js';
import { ClusterSummaries, type ClusterSummaryStats } from './summaries.js';
import { outputToken, promptTokens } from './tokens.js';
import { FleetWorker } from './worker.js';

export interface RequestOutcome extends OutcomeSample {
  /** Trace index. */
  readonly index: number;
  readonly workerId: string;
  readonly finishReason: FinishedRequest['finishReason'];
}

export interface Rejection {
  readonly index: number;
  readonly workerId: string | null;
  readonly reason: string;
}

export interface WorkerSummary {
  readonly id: string;
  readonly cluster: string;
  readonly requests: number;
  readonly promptTokens: number;
  readonly cachedTokens: number;
  readonly outputTokens: number;
  readonly preemptions: number;
  readonly evictions: number;
  readonly steps: number;
}

export interface SimulationResult {
  readonly metrics: SimulationMetrics;
  readonly upperBound: UpperBound;
  /** Finished requests, by trace index. */
  readonly outcomes: readonly RequestOutcome[];
  readonly rejections: readonly Rejection[];
  readonly workers: readonly WorkerSummary[];
  readonly config: CompiledSimulator;
  /** The clusters' prefix summaries (clusterKv 'summary' only). */
  readonly clusterSummaries?: ClusterSummaryStats;
  /** Clock events fired (arrivals, engine steps, scrapes). */
  readonly events: number;
  /** Real time the run took, ms (not deterministic). */
  readonly wallMs: number;
}

/** Run a whole simulation (synchronously; it owns its VirtualClock). */
export function simulateFleet(options: SimulatorOptions): SimulationResult {
  return new FleetSimulator(options).run();
}

export class FleetSimulator {
  readonly clock = new VirtualClock(0);
  readonly config: CompiledSimulator;
  readonly workers: readonly FleetWorker[];
  /** The fleet's KV index (backend ids = worker ids), unless options.kvIndex is false. */
  readonly kvIndex: KvBlockIndex | undefined;
  /** The clusters' prefix summaries, when config.clusterKv is 'summary'. */
  readonly summaries: ClusterSummaries | undefined;
  private readonly routing: FleetRouting;
  private readonly options: SimulatorOptions;
  private readonly outcomes: RequestOutcome[] = [];
  private readonly rejections: Rejection[] = [];
  private readonly itl = new Samples();
  private readonly decisionUs = new Samples();
  /** Requests not yet finished or rejected (arrived or not). */
  private open: number;
  private ran = false;

  constructor(options: SimulatorOptions) {
    this.options = options;
    const config = (this.config = compileSimulatorOptions(options));
    const observer: EngineObserver = { interToken: (_id, ms) => this.itl.push(ms) };
    const perCluster = Math.ceil(config.workers / config.clusters);
    const pad = String(perCluster - 1).length;
    const index = (this.kvIndex = config.kvIndex
      ? new KvBlockIndex({ blockSize: config.engine.blockSize, expectedBlocks: config.workers * config.engine.numGpuBlocks, expectedBackends: config.workers })
      : undefined);
    const layout = Array.from({ length: config.workers }, (_, i) => {
      const c = Math.floor((i * config.clusters) / config.workers);
      const first = Math.ceil((c * config.workers) / config.clusters);
      const cluster = `c${c}`;
      return { cluster, id: `${cluster}/w${String(i - first).padStart(pad, '0')}` };
    });
    const summaries = (this.summaries = config.clusterKv === 'summary' ? new ClusterSummaries(clustersOf(layout), config.engine.blockSize, config.summaryRefreshMs) : undefined);
    const sink = kvSink(index, summaries === undefined ? options.kvEventSink : chainSinks(summaries, options.kvEventSink));
    this.workers = layout.map(({ cluster, id }, i) => new FleetWorker(i, id, cluster, config, this.clock, observer, sink));
    this.routing = new FleetRouting(config, options, this.workers, new Rng(config.seed), index);
    this.open = config.trace.length;
  }

  /** Run to the end, synchronously. */
  run(): SimulationResult {
    const t0 = this.start();
    const events = this.clock.runUntilIdle(Number.MAX_SAFE_INTEGER);
    return this.finish(t0, events);
  }

  /**
   * Run to the end, yielding to the event loop every `yieldEvery` clock events (so signals are
   * handled). Returns undefined when `signal` aborts the run.
   */
  async runAsync(options: { signal?: AbortSignal; yieldEvery?: number } = {}): Promise<SimulationResult | undefined> {
    const t0 = this.start();
    const every = options.yieldEvery ?? 50_000;
    let events = 0;
    for (;;) {
      if (options.signal?.aborted === true) return undefined;
      let n = 0;
      while (n < every && this.clock.step()) n++;
      events += n;
      if (n < every) break;
      await yieldToEventLoop();
    }
    return this.finish(t0, events);
  }

  private start(): number {
    if (this.ran) throw new SwitchyardError('conflict', 'a FleetSimulator runs once; create a new one');
    this.ran = true;
    this.routing.warmUp();
    const t0 = performance.now();
    this.clock.setTimeout(() => this.arrive(0), this.config.trace[0]!.timestampMs);
    if (this.config.scrapeIntervalMs > 0) this.scrape();
    if (this.summaries !== undefined) this.rebuildSummaries(this.summaries);
    return t0;
  }

  private finish(t0: number, events: number): SimulationResult {
    if (this.open !== 0) throw new SwitchyardError('internal_error', `simulation stalled with ${this.open} requests unfinished`);
    const trace = this.config.trace;
    this.outcomes.sort((a, b) => a.index - b.index);
    const upperBound = hitRateUpperBound(trace, { traceBlockSize: this.config.traceBlockSize, engineBlockSize: this.config.engine.blockSize });
    const metrics = summarize({
      requests: trace.length,
      rejected: this.rejections.length,
      workers: this.workers.length,
      outcomes: this.outcomes,
      itlMs: this.itl.values(),
      decisionUs: this.decisionUs.values(),
      upperBound: upperBound.hitRate,
    });
    const summaries = this.summaries === undefined ? {} : { clusterSummaries: this.summaries.stats() };
    return { metrics, upperBound, outcomes: this.outcomes, rejections: this.rejections, workers: this.workerSummaries(), config: this.config, ...summaries, events, wallMs: performance.now() - t0 };
  }

  private arrive(i: number): void {
    const trace = this.config.trace;
    const now = this.clock.now();
    const next = trace[i + 1];
    if (next !== undefined) this.clock.setTimeout(() => this.arrive(i + 1), next.timestampMs - now);
    const tr = trace[i]!;
    const { seed, traceBlockSize, model } = this.config;
    const prompt = promptTokens(tr, { traceBlockSize, seed });
    const request = new SimRouteRequest(`r${tr.index}`, model, prompt, tr);
    if (this.config.scrapeIntervalMs === 0) for (const w of this.workers) w.sample(now);
    const routed = this.routing.route(request, now);
    this.decisionUs.push(routed.us);
    const worker = routed.worker;
    this.options.onDecision?.({ request: tr, nowMs: now, workerId: worker?.id ?? null, decision: routed.decision, ...(routed.clusterDecision ? { clusterDecision: routed.clusterDecision } : {}) });
    if (worker === null) return this.reject(tr.index, null, routed.decision.reason);
    const index = tr.index;
    try {
      worker.submit({
        id: request.requestId,
        promptTokenIds: prompt,
        maxTokens: tr.outputLength,
        ignoreEos: true,
        nextToken: (pos) => outputToken(seed, index, pos),
        onFinish: (r) => this.finished(worker, index, r),
      });
    } catch (e) {
      if (e instanceof SwitchyardError && e.status === 400) return this.reject(index, worker.id, e.message);
      throw e;
    }
  }

  private finished(worker: FleetWorker, index: number, r: FinishedRequest): void {
    worker.done();
    this.open--;
    this.outcomes.push({
      index,
      worker: worker.index,
      workerId: worker.id,
      finishReason: r.finishReason,
      promptTokens: r.promptTokens,
      outputTokens: r.outputTokens,
      cachedTokens: r.cachedTokens,
      arrivalMs: r.arrivalMs,
      firstTokenMs: r.firstTokenMs,
      finishedMs: r.finishedMs,
      preemptions: r.preemptions,
    });
  }

  private reject(index: number, workerId: string | null, reason: string): void {
    this.open--;
    this.rejections.push({ index, workerId, reason });
  }

  /** Periodic load sampling (only while requests remain, so the clock goes idle at the end). */
  private scrape(): void {
    const now = this.clock.now();
    for (const w of this.workers) w.sample(now);
    if (this.open > 0) this.clock.setTimeout(() => this.scrape(), this.config.scrapeIntervalMs);
  }

  /** An agent tick in every cluster, then one every summaryRefreshMs while requests remain. */
  private rebuildSummaries(summaries: ClusterSummaries): void {
    summaries.rebuild();
    this.routing.useSummaries(summaries);
    if (this.open > 0) this.clock.setTimeout(() => this.rebuildSummaries(summaries), summaries.refreshMs);
  }

  private workerSummaries(): WorkerSummary[] {
    const acc = this.workers.map(() => ({ requests: 0, promptTokens: 0, cachedTokens: 0, outputTokens: 0 }));
    for (const o of this.outcomes) {
      const a = acc[o.worker]!;
      a.requests++;
      a.promptTokens += o.promptTokens;
      a.cachedTokens += o.cachedTokens;
      a.outputTokens += o.outputTokens;
    }
    return this.workers.map((w, i) => {
      const s = w.core.getStats();
      return { id: w.id, cluster: w.cluster, ...acc[i]!, preemptions: s.preemptions, evictions: s.evictions, steps: s.steps };
    });
  }
}

/** Where the engines' KV events go: the fleet's index, then the caller's sink (either may be absent). */
function kvSink(index: KvBlockIndex | undefined, user: KvEventSink | undefined): KvEventSink | undefined {
  if (index === undefined) return user;
  return chainSinks({ onKvEvents: (w: string, b: KvEventBatch) => void applyKvEventBatch(index, w, b) }, user);
}

/** Workers grouped by cluster, in order of first appearance. */
function clustersOf(layout: readonly { cluster: string; id: string }[]): { id: string; workerIds: string[] }[] {
  const out = new Map<string, string[]>();
  for (const w of layout) {
    const ids = out.get(w.cluster);
    if (ids === undefined) out.set(w.cluster, [w.id]);
    else ids.push(w.id);
  }
  return [...out].map(([id, workerIds]) => ({ id, workerIds }));
}

/** Both sinks, in order. */
function chainSinks(first: KvEventSink, then: KvEventSink | undefined): KvEventSink {
  if (then === undefined) return first;
  return {
    onKvEvents(w: string, b: KvEventBatch) {
      first.onKvEvents(w, b);
      then.onKvEvents(w, b);
    },
  };
}
