/**
 * Routing in the simulator: the live gateway's Router, profiles and plugins, unchanged, fed
 * EndpointViews whose loads come from the simulated engines.
 *
 * - Flat (default): one route() over every worker, as the gateway routes today.
 * - Two-layer (clusterPolicy set): route() over one aggregate view per cluster (Σ inFlight,
 *   Σ running, Σ waiting, mean KV usage), then route() over that cluster's workers with the
 *   worker policy. Each cluster has its own compiled profiles (own session pins, cursors and
 *   rings), as a cluster agent running the local layer would.
 *
 * KV-aware profiles: every request carries `tokenIds` (the exact prompt token ids the engine gets)
 * and every decision's context carries `kvIndex`, the simulator's KvBlockIndex fed by every
 * worker's KV events (keyed by worker id). In two-layer mode the cluster layer sees a
 * ClusterKvView of the same index (a cluster holds what its best worker holds), or with
 * `clusterKv: 'summary'` a ClusterSummaryView of the clusters' prefix summaries as of their last
 * rebuild (`useSummaries`, called by the simulator; see summaries.ts).
 *
 * Decision time is the wall time of the route() calls only (building views is not counted).
 */
import { Rng, SwitchyardError } from '../core/index.js';
import { aggregateLoads, ClusterKvView, ClusterSummaryView, compileProfiles, emptyLoad, KvBlockIndex, PrefixSummary, Router, SESSION_HEADER, type Decision, type EndpointLoad, type EndpointView, type ClusterPrefixSummaries, type KvOverlapIndex, type SummaryMember, type RouteRequest, type RoutingContext } from '../router/index.js';
import type { CompiledSimulator, SimulatorOptions } from './config.js';
import { renderPromptText } from './tokens.js';
import type { TraceRequest } from './trace.js';
import type { FleetWorker } from './worker.js';

const NONE: ReadonlySet<string> = new Set();
const NO_HEADERS: Readonly<Record<string, string | undefined>> = Object.freeze({});

/**
 * The routing view of a trace request. `tokenIds()` (RouteRequest's lazy token field, what
 * kv_overlap, prefill_cost and approx_prefix hash) returns `promptTokenIds`, the exact tokens the
 * engine gets, so the router's prefix hashes equal the KV index's; `loraId` is null like the
 * engines' KV events. `hashIds` are the trace's block ids. `promptText` (what consistent_hash
 * keys on) is rendered from the tokens on first read, capped at 2,048 characters like the gateway's.
 */
export class SimRouteRequest implements RouteRequest {
  readonly excluded = NONE;
  readonly loraId = null;
  readonly headers: Readonly<Record<string, string | undefined>>;
  private text: string | undefined;

  constructor(
    readonly requestId: string,
    readonly model: string,
    readonly promptTokenIds: readonly number[],
    readonly trace: TraceRequest,
  ) {
    this.headers = trace.sessionId === undefined ? NO_HEADERS : { [SESSION_HEADER]: trace.sessionId };
  }

  /** RouteRequest.tokenIds: the prompt as the engine receives it (no copy). */
  tokenIds(): ArrayLike<number> {
    return this.promptTokenIds;
  }

  get promptText(): string {
    return (this.text ??= renderPromptText(this.promptTokenIds));
  }

  /** Trace block ids (decimal strings). */
  get hashIds(): readonly string[] {
    return this.trace.hashIds;
  }
}

export interface RouteOutcome {
  readonly worker: FleetWorker | null;
  readonly decision: Decision;
  readonly clusterDecision?: Decision;
  /** Wall time of the route() call(s), µs. */
  readonly us: number;
}

interface ClusterGroup {
  readonly view: EndpointView;
  readonly load: EndpointLoad;
  readonly workers: readonly FleetWorker[];
  readonly views: readonly EndpointView[];
  readonly router: Router;
}

export class FleetRouting {
  private readonly flat: Router;
  private readonly views: readonly EndpointView[];
  private readonly byId: ReadonlyMap<string, FleetWorker>;
  private readonly groups: readonly ClusterGroup[] | undefined;
  private readonly clusterViews: readonly EndpointView[];
  private readonly random: () => number;
  /** What the cluster layer sees of kvIndex (two-layer mode only; replaced by useSummaries in summary mode). */
  private clusterKv: KvOverlapIndex | undefined;

  /** `kvIndex`: the workers' KV index (backend ids = worker ids), passed as ctx.kvIndex. */
  constructor(
    private readonly config: CompiledSimulator,
    private readonly options: Pick<SimulatorOptions, 'profiles' | 'registry'>,
    workers: readonly FleetWorker[],
    rng: Rng,
    private readonly kvIndex?: KvOverlapIndex,
  ) {
    this.flat = this.compile();
    requireProfile(this.flat, config.policy, 'policy');
    this.views = workers.map((w) => w.view);
    this.byId = new Map(workers.map((w) => [w.id, w]));
    this.random = () => rng.next();
    if (config.clusterPolicy === undefined) {
      this.groups = undefined;
      this.clusterViews = [];
      this.clusterKv = undefined;
      return;
    }
    requireProfile(this.flat, config.clusterPolicy, 'cluster-policy');
    const names = [...new Set(workers.map((w) => w.cluster))];
    this.groups = names.map((name) => {
      const members = workers.filter((w) => w.cluster === name);
      const load: EndpointLoad = emptyLoad();
      const view: EndpointView = { id: name, url: `sim://${name}`, model: config.model, labels: { cluster: name, simulated: 'true' }, weight: members.length, healthy: true, weightFactor: 1, load };
      return { view, load, workers: members, views: members.map((w) => w.view), router: this.compile() };
    });
    this.clusterViews = this.groups.map((g) => g.view);
    this.clusterKv = kvIndex === undefined ? undefined : new ClusterKvView(kvIndex, this.clusterMembers());
  }

  /** The clusters (two-layer mode; empty otherwise): id and worker ids. */
  private clusterMembers(): { id: string; workerIds: string[] }[] {
    return (this.groups ?? []).map((g) => ({ id: g.view.id, workerIds: g.workers.map((w) => w.id) }));
  }

  /**
   * Summary mode: from now on the cluster layer sees these summaries (as the gateway's
   * `routing.clusterKv: summary`: no fallback to the exact index; a cluster without a summary
   * holds nothing).
   */
  useSummaries(summaries: ClusterPrefixSummaries): void {
    if (this.groups === undefined) return;
    const blockSize = this.kvIndex?.blockSize ?? this.config.engine.blockSize;
    this.clusterKv = new ClusterSummaryView(blockSize, this.summaryMembers(summaries), undefined);
  }

  private summaryMembers(summaries: ClusterPrefixSummaries): SummaryMember[] {
    return this.clusterMembers().map((m) => ({ ...m, summary: summaries.summary(m.id) }));
  }

  /**
   * Pick a worker for `request` at `now` (loads must be current: see FleetWorker.sample). The
   * prompt text is rendered before the clock starts: the gateway's equivalent (joining message
   * strings) costs far less than rendering token ids, and would otherwise inflate decision time.
   */
  route(request: SimRouteRequest, now: number): RouteOutcome {
    void request.promptText;
    const kvIndex = this.kvIndex;
    const ctx: RoutingContext = kvIndex === undefined ? { now, random: this.random, request } : { now, random: this.random, request, kvIndex };
    if (this.groups === undefined) {
      const t0 = performance.now();
      const decision = this.flat.route(this.config.policy, ctx, this.views);
      const us = (performance.now() - t0) * 1000;
      return { worker: decision.endpoint ? (this.byId.get(decision.endpoint.id) ?? null) : null, decision, us };
    }
    for (const g of this.groups) aggregateLoads(g.workers.map((w) => w.load), g.load);
    const t0 = performance.now();
    const clusterKv = this.clusterKv;
    const clusterCtx: RoutingContext = clusterKv === undefined ? ctx : { now, random: this.random, request, kvIndex: clusterKv };
    const clusterDecision = this.flat.route(this.config.clusterPolicy!, clusterCtx, this.clusterViews);
    const picked = clusterDecision.endpoint?.id;
    const group = picked === undefined ? undefined : this.groups.find((g) => g.view.id === picked);
    if (group === undefined) return { worker: null, decision: clusterDecision, clusterDecision, us: (performance.now() - t0) * 1000 };
    const decision = group.router.route(this.config.policy, ctx, group.views);
    const us = (performance.now() - t0) * 1000;
    return { worker: decision.endpoint ? (this.byId.get(decision.endpoint.id) ?? null) : null, decision, clusterDecision, us };
  }

  /** Fresh profile instances (own plugin state) from the configured profiles and registry. */
  private compile(): Router {
    const { profiles, registry } = this.options;
    return new Router(compileProfiles(profiles, registry ? { registry } : {}));
  }

  /**
   * JIT warm-up, so decision times measure steady state rather than the interpreter: route
   * `n` synthetic requests with freshly compiled copies of the profiles (their plugin state is
   * thrown away; the simulation's routers, views and random stream are untouched).
   */
  warmUp(n = 1000): void {
    const spare = this.compile();
    const rng = new Rng(0x3a7);
    const random = (): number => rng.next();
    const views = this.views.map((v) => ({ ...v, load: { ...v.load } }));
    // Prompts of two full blocks from one of 7 prefixes plus a unique token; a throw-away index
    // holds each prefix on one view, so the KV-aware plugins run their whole lookup path.
    const bs = this.kvIndex?.blockSize ?? this.config.engine.blockSize;
    const prefixes = Array.from({ length: 7 }, (_, p) => Array.from({ length: 2 * bs }, (_, t) => (p * 7919 + t) % 100_000));
    const index = this.kvIndex === undefined ? undefined : new KvBlockIndex({ blockSize: bs, expectedBlocks: 64, expectedBackends: views.length });
    if (index !== undefined) {
      prefixes.forEach((tokens, p) => index.blockStored(views[p % views.length]!.id, { blockHashes: [BigInt(2 * p + 1), BigInt(2 * p + 2)], parentBlockHash: null, tokenIds: tokens, blockSize: bs, loraId: null }));
    }
    const clusterKv = index === undefined || this.groups === undefined ? undefined : this.warmUpClusterKv(index);
    for (let i = 0; i < n; i++) {
      const tr: TraceRequest = { index: i, line: 0, timestampMs: i, inputLength: 2 * bs + 1, outputLength: 1, hashIds: [String(i % 7)], ...(i % 2 === 0 ? { sessionId: `s${i % 5}` } : {}) };
      const request = new SimRouteRequest(`warmup-${i}`, this.config.model, [...prefixes[i % 7]!, 100_000 + i], tr);
      void request.promptText;
      const ctx: RoutingContext = index === undefined ? { now: i, random, request } : { now: i, random, request, kvIndex: index };
      for (const v of views) {
        Object.assign(v.load, { inFlight: rng.int(4), running: rng.int(4), waiting: rng.int(2), kvUsage: rng.next(), scrapedAt: i, inFlightAtScrape: 0, pendingPrefillTokens: rng.int(4) * bs });
      }
      spare.route(this.config.policy, ctx, views);
      if (this.config.clusterPolicy !== undefined) spare.route(this.config.clusterPolicy, clusterKv === undefined ? ctx : { ...ctx, kvIndex: clusterKv }, views);
    }
  }

  /** The warm-up's cluster view of its throw-away index, of the run's kind (summary: every cluster holds all of it). */
  private warmUpClusterKv(index: KvBlockIndex): KvOverlapIndex {
    if (this.config.clusterKv === 'exact') return new ClusterKvView(index, this.clusterMembers());
    const all = PrefixSummary.build(index);
    return new ClusterSummaryView(index.blockSize, this.summaryMembers({ summary: () => all }), undefined);
  }
}

function requireProfile(router: Router, name: string, param: string): void {
  if (!router.hasProfile(name)) throw new SwitchyardError('invalid_argument', `unknown routing profile '${name}' for --${param}; known: ${router.names().join(', ')}`, { param });
}

