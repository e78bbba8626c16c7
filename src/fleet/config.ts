/**
 * Simulator options, compiled once: defaults filled, impossible combinations rejected with
 * messages that name the option.
 *
 * Engine block size. The engine model hashes every full KV block. Trace blocks are 512 tokens,
 * so the default engine block is 512 tokens too: one engine block per trace block, ~32× fewer
 * block hashes, pool entries and KV events than vLLM's default 16, and prefix matching at
 * exactly the trace's granularity (a 16-token engine would also hit inside a partial tail
 * block; the trace cannot tell us whether real prompts share those). `buildEngineConfig`
 * accepts only vLLM's CUDA block sizes (≤ 128), so the simulator validates the rest of the
 * engine options through it and then sets its own block size and block count.
 *
 * KV capacity. Default: what vLLM would allocate on the chosen GPU for the chosen model
 * (0.9 × memory − weights − 1.5 GB reserve); for Llama-3.1-8B on an 80 GB A100/H100 that is
 * ~415k tokens (811 blocks of 512) per worker. Against the Mooncake synthetic trace (22.5M
 * distinct prompt tokens, 15k-token prompts on average) 16 such workers hold ~30% of the
 * distinct blocks, so placement decides the hit rate. Override with `kvCapacityTokens`.
 *
 * Context length. Default: the longest request of the trace (prompt + output), so every trace
 * request can be served; a request that still does not fit the KV capacity is rejected (counted).
 */
import { SwitchyardError } from '../core/index.js';
import { buildEngineConfig, computeNumGpuBlocks, GPU_PROFILES, MODEL_ARCHS, type EngineConfig, type GpuType, type PerfModel } from '../engines/index.js';
import type { KvEventBatch } from '../kvevents/index.js';
import type { Decision, PluginRegistry } from '../router/index.js';
import type { TraceRequest } from './trace.js';

/**
 * Receives every engine's KV-cache events, as each worker would publish them on its ZMQ stream
 * (one batch per engine step that changed the cache). A KV-aware router feeds its prefix index
 * from here: `onKvEvents: (w, batch) => applyKvEventBatch(index, w, batch)`.
 */
export interface KvEventSink {
  onKvEvents(workerId: string, batch: KvEventBatch): void;
}

/** One routing decision, for observers (tests, debugging, decision logs). */
export interface DecisionEvent {
  readonly request: TraceRequest;
  readonly nowMs: number;
  /** Worker id, or null when no endpoint was picked. */
  readonly workerId: string | null;
  /** The worker-level decision (in two-layer mode the cluster decision is `clusterDecision`). */
  readonly decision: Decision;
  readonly clusterDecision?: Decision;
}

export interface SimulatorOptions {
  /** Prepared trace (see prepareTrace): arrival order, index = position. */
  readonly trace: readonly TraceRequest[];
  /** Total workers (engines), spread evenly over the clusters. */
  readonly workers: number;
  /** Clusters (default 1). Workers carry the label `cluster: c<i>`. */
  readonly clusters?: number;
  /** Routing profile deciding the worker: a built-in (round_robin, default, ...) or one of `profiles`. */
  readonly policy: string;
  /**
   * Two-layer routing: this profile first picks a cluster (from per-cluster aggregate loads),
   * then `policy` picks a worker inside it, with its own plugin state per cluster (as a cluster
   * agent would). Unset: one flat decision over every worker, as the gateway routes today.
   */
  readonly clusterPolicy?: string;
  /**
   * What the cluster layer knows of the clusters' KV caches (two-layer routing only):
   * 'exact' (default): a ClusterKvView of the fleet's exact index (a cluster holds what its best
   * worker holds, at every decision). 'summary': each cluster's prefix summary (ADR 0016), built
   * like its agent would from its workers' KV events every `summaryRefreshMs` and stale in
   * between (ClusterSummaryView, as the gateway's `routing.clusterKv: summary`; see summaries.ts).
   * The worker layer reads the exact index either way.
   */
  readonly clusterKv?: ClusterKvMode;
  /** 'summary' mode: rebuild the summaries every this many ms of simulated time (default 1 s, the agent's interval). */
  readonly summaryRefreshMs?: number;
  /** Extra routing profiles: the `profiles:` mapping of a gateway config. */
  readonly profiles?: unknown;
  /** Plugin types to compile profiles against (default: the router's built-ins). */
  readonly registry?: PluginRegistry;
  readonly gpu?: GpuType;
  /** Model architecture profile (MODEL_ARCHS); default llama-3.1-8b. */
  readonly arch?: string;
  readonly tensorParallelSize?: number;
  /** Engine KV block size in tokens (default 512, the trace's block size). */
  readonly blockSize?: number;
  /** KV cache capacity per worker, in tokens (default: computed from GPU and model). */
  readonly kvCapacityTokens?: number;
  readonly maxNumSeqs?: number;
  readonly maxNumBatchedTokens?: number;
  /** Default: the longest request of the trace. */
  readonly maxModelLen?: number;
  /** Tokens per trace hash id (default 512). */
  readonly traceBlockSize?: number;
  /** Seeds routing randomness, padding and output tokens (default 0). */
  readonly seed?: number;
  /**
   * 0 (default): every decision sees the engines' current running/waiting/KV usage (a perfect
   * load view). > 0: those fields are sampled every N ms of simulated time, like the gateway's
   * scraper; inFlight stays live either way.
   */
  readonly scrapeIntervalMs?: number;
  /**
   * Maintain the fleet's exact KV index (default true): one KvBlockIndex (block size = the
   * engine's) fed by every worker's KV events, keyed by worker id, passed to the router as
   * ctx.kvIndex (what kv_overlap, prefill_cost and cluster_score read). false: no index, and the
   * engines emit no KV events unless `kvEventSink` is set (slightly faster, for profiles that do
   * not read the index).
   */
  readonly kvIndex?: boolean;
  /** Also receives every engine's KV events (after the simulator's own index, if any). */
  readonly kvEventSink?: KvEventSink;
  readonly onDecision?: (e: DecisionEvent) => void;
}

export interface CompiledSimulator {
  readonly trace: readonly TraceRequest[];
  readonly workers: number;
  readonly clusters: number;
  readonly policy: string;
  readonly clusterPolicy: string | undefined;
  /** The cluster layer's KV view (two-layer only; 'exact' otherwise). */
  readonly clusterKv: ClusterKvMode;
  /** 'summary' mode's rebuild interval, ms. */
  readonly summaryRefreshMs: number;
  readonly model: string;
  readonly gpu: GpuType;
  readonly engine: EngineConfig;
  readonly perf: PerfModel;
  readonly kvCapacityTokens: number;
  readonly traceBlockSize: number;
  readonly seed: number;
  readonly scrapeIntervalMs: number;
  /** The simulator maintains a KV index and passes it as ctx.kvIndex. */
  readonly kvIndex: boolean;
}

export type ClusterKvMode = 'exact' | 'summary';

/**
 * Default summary rebuild interval: the agent's (DEFAULT_PREFIX_SUMMARY_INTERVAL_MS in
 * src/agent/prefix-reporter.ts, which fleet may not import; simulate.test.ts checks they agree).
 */
export const DEFAULT_SUMMARY_REFRESH_MS = 1_000;

const invalid = (param: string, message: string): SwitchyardError => new SwitchyardError('invalid_argument', message, { param });

function intIn(v: number, lo: number, hi: number, param: string, what: string): number {
  if (!Number.isInteger(v) || v < lo || v > hi) throw invalid(param, `${what} must be an integer in [${lo}, ${hi}], got ${v}`);
  return v;
}

export function compileSimulatorOptions(o: SimulatorOptions): CompiledSimulator {
  if (o.trace.length === 0) throw invalid('trace', 'the trace has no requests');
  const workers = intIn(o.workers, 1, 4096, 'workers', 'workers');
  const clusters = intIn(o.clusters ?? 1, 1, workers, 'clusters', 'clusters (at most one per worker)');
  const traceBlockSize = intIn(o.traceBlockSize ?? 512, 1, 1 << 20, 'trace-block-size', 'trace block size');
  const blockSize = intIn(o.blockSize ?? traceBlockSize, 1, 4096, 'block-size', 'engine block size');
  const gpu = o.gpu ?? 'A100';
  const archName = o.arch ?? 'llama-3.1-8b';
  if (MODEL_ARCHS[archName] === undefined) throw invalid('arch', `unknown arch '${archName}'; expected one of ${Object.keys(MODEL_ARCHS).join(', ')}`);
  const base = buildEngineConfig({
    model: archName,
    arch: archName,
    gpu,
    blockSize: 16,
    numGpuBlocks: 1,
    ...(o.tensorParallelSize === undefined ? {} : { tensorParallelSize: o.tensorParallelSize }),
    ...(o.maxNumSeqs === undefined ? {} : { maxNumSeqs: intIn(o.maxNumSeqs, 1, 1 << 20, 'max-num-seqs', 'max num seqs') }),
    ...(o.maxNumBatchedTokens === undefined ? {} : { maxNumBatchedTokens: intIn(o.maxNumBatchedTokens, 1, 1 << 24, 'max-num-batched-tokens', 'max num batched tokens') }),
    enablePrefixCaching: true,
    emitKvEvents: o.kvEventSink !== undefined || (o.kvIndex ?? true),
  });
  const computed = computeNumGpuBlocks({ gpu: GPU_PROFILES[gpu], arch: base.arch, tensorParallelSize: base.tensorParallelSize, blockSize: 1 });
  const kvCapacityTokens = o.kvCapacityTokens ?? computed;
  if (!Number.isFinite(kvCapacityTokens) || kvCapacityTokens < blockSize) {
    throw invalid('kv-capacity', `KV capacity must hold at least one block (${blockSize} tokens), got ${kvCapacityTokens}`);
  }
  const numGpuBlocks = Math.floor(kvCapacityTokens / blockSize);
  let longest = 1;
  for (const r of o.trace) longest = Math.max(longest, r.inputLength + r.outputLength);
  const maxModelLen = o.maxModelLen === undefined ? longest : intIn(o.maxModelLen, 1, 1 << 30, 'max-model-len', 'max model len');
  if (o.clusterPolicy !== undefined && clusters < 2) throw invalid('cluster-policy', 'a cluster policy (two-layer routing) needs at least 2 clusters');
  const clusterKv = o.clusterKv ?? 'exact';
  if (clusterKv !== 'exact' && clusterKv !== 'summary') throw invalid('cluster-kv', `cluster KV view must be 'exact' or 'summary', got '${String(clusterKv)}'`);
  if (o.clusterKv !== undefined && o.clusterPolicy === undefined) throw invalid('cluster-kv', 'a cluster KV view is for two-layer routing: it needs a cluster policy');
  if (clusterKv === 'summary' && o.kvIndex === false) throw invalid('cluster-kv', "the 'summary' cluster KV view needs the engines' KV events (kvIndex must not be false)");
  const summaryRefreshMs = o.summaryRefreshMs ?? DEFAULT_SUMMARY_REFRESH_MS;
  if (!(summaryRefreshMs > 0) || !Number.isFinite(summaryRefreshMs)) throw invalid('summary-refresh', `summary refresh interval must be > 0 ms, got ${summaryRefreshMs}`);
  if (o.summaryRefreshMs !== undefined && clusterKv !== 'summary') throw invalid('summary-refresh', "a summary refresh interval is for the 'summary' cluster KV view only");
  const scrapeIntervalMs = o.scrapeIntervalMs ?? 0;
  if (!(scrapeIntervalMs >= 0) || !Number.isFinite(scrapeIntervalMs)) throw invalid('scrape-interval', `scrape interval must be >= 0 ms, got ${scrapeIntervalMs}`);
  return {
    trace: o.trace,
    workers,
    clusters,
    policy: o.policy,
    clusterPolicy: o.clusterPolicy,
    clusterKv,
    summaryRefreshMs,
    model: archName,
    gpu,
    engine: { ...base.config, blockSize, numGpuBlocks, maxModelLen },
    perf: base.perf,
    kvCapacityTokens: numGpuBlocks * blockSize,
    traceBlockSize,
    seed: o.seed ?? 0,
    scrapeIntervalMs,
    kvIndex: o.kvIndex ?? true,
  };
}
