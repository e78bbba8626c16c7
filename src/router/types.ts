/**
 * The router's contract. The router is pure: no I/O, no timers. The gateway (or a cluster agent,
 * or the fleet simulator) builds EndpointViews from its routing table, health state and load
 * view, and asks a profile to pick one.
 *
 * Pipeline: built-in pre-filter (model, health, already-tried) → profile filters → weighted
 * scorers (each score in [0,1], weighted, summed, clamped) → picker.
 */

/** One serving endpoint (a replica of a model) as the routing table lists it. */
export interface Endpoint {
  /** Unique and stable, e.g. 'aws-us-east/replica-0' or the URL. */
  readonly id: string;
  /** Base URL, e.g. 'http://127.0.0.1:8001'. */
  readonly url: string;
  /** Served model name (what clients put in "model"). */
  readonly model: string;
  /** Free-form labels: cluster, region, gpu, ... */
  readonly labels: Readonly<Record<string, string>>;
  /** Static weight (default 1). */
  readonly weight: number;
}

/**
 * The load view's picture of one endpoint: the engine's scraped vLLM metrics combined with the
 * gateway's live in-flight count (scrapes lag; live counts do not).
 */
export interface EndpointLoad {
  /** Requests this gateway has in flight to the endpoint right now. */
  inFlight: number;
  /** Scraped vllm:num_requests_running (null until the first scrape). */
  running: number | null;
  /** Scraped vllm:num_requests_waiting. */
  waiting: number | null;
  /** Scraped vllm:kv_cache_usage_perc, 0..1. */
  kvUsage: number | null;
  /** Clock time (ms) of the last successful scrape, or null. */
  scrapedAt: number | null;
  /** This gateway's inFlight at the moment of that scrape. */
  inFlightAtScrape: number;
  /**
   * (Optional, for prefill_cost.) Prompt tokens queued for prefill and not yet computed, as of
   * the scrape — the sim engine's `pendingPrefillTokens`, or a load view summing the prompts it
   * sent that have no first token yet. Absent/null: estimated from `waiting`.
   */
  pendingPrefillTokens?: number | null;
  /** (Optional, for prefill_cost.) KV-cache capacity in blocks (vLLM cache_config_info num_gpu_blocks). */
  kvCapacityBlocks?: number | null;
}

/** What plugins see: the endpoint, its health and its load. */
export interface EndpointView extends Endpoint {
  /** Eligible for traffic (circuit not open, active checks passing, not ejected). */
  readonly healthy: boolean;
  /** Slow-start factor in (0, 1]: a recovering endpoint ramps up from a small share. */
  readonly weightFactor: number;
  readonly load: EndpointLoad;
}

/** The request being routed, reduced to what routing needs. */
export interface RouteRequest {
  readonly requestId: string;
  readonly model: string;
  /** Lower-cased header map. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The OpenAI `user` field, if any. */
  readonly user?: string;
  /** Rendered prompt text (for hashing/prefix plugins), if the gateway extracted it. */
  readonly promptText?: string;
  /**
   * The prompt's token ids (what the engine will prefill), if the caller has them. A function so
   * tokenizing stays lazy: it is called at most once per request, and only when a KV-aware plugin
   * asks (through `promptTokenIds` / `promptPrefixHashes`, which memoise per request object).
   */
  readonly tokenIds?: () => ArrayLike<number>;
  /** LoRA adapter id as engines report it in KV events (`lora_id`); absent/null = base model. */
  readonly loraId?: number | null;
  /** Endpoint ids already tried for this request (retries go elsewhere). */
  readonly excluded: ReadonlySet<string>;
}

export interface RoutingContext {
  /** Clock time in ms. */
  readonly now: number;
  /** Uniform [0,1) random source (seedable for tests). */
  readonly random: () => number;
  readonly request: RouteRequest;
  /**
   * The exact KV index (which endpoint holds how many leading blocks of a prompt), for
   * kv_overlap, prefill_cost and cluster_score. Absent: those plugins see no cached blocks.
   * A KvBlockIndex is one; pass the same long-lived object with every request.
   */
  readonly kvIndex?: KvOverlapIndex;
}

/**
 * What KV-aware plugins need from a KV index (`KvBlockIndex` implements it): the block size its
 * hashes use, and the allocation-free lookup by backend slot. Backend ids are endpoint ids.
 */
export interface KvOverlapIndex {
  readonly blockSize: number;
  /** out[slotOf(id)] = leading blocks of `hashes` ([hi0, lo0, hi1, lo1, ...]) held by backend `id`; reused array. */
  lookupSlots(hashes: Uint32Array): ArrayLike<number>;
  /** The backend's slot in lookupSlots' result, or -1 (unknown backend). */
  slotOf(backendId: string): number;
}

export interface ScoredEndpoint {
  readonly endpoint: EndpointView;
  /** Weighted sum of scorer outputs, clamped to [0, Σweights] and normalised to [0,1]. */
  readonly score: number;
}

interface PluginBase {
  /** Instance name (unique within a profile); defaults to the type. */
  readonly name: string;
  /** Plugin type, e.g. 'least_request'. */
  readonly type: string;
}

export interface Filter extends PluginBase {
  readonly kind: 'filter';
  filter(ctx: RoutingContext, endpoints: readonly EndpointView[]): EndpointView[];
}

export interface Scorer extends PluginBase {
  readonly kind: 'scorer';
  /** One score per endpoint, same order, each in [0,1]. */
  score(ctx: RoutingContext, endpoints: readonly EndpointView[]): number[];
}

export interface Picker extends PluginBase {
  readonly kind: 'picker';
  pick(ctx: RoutingContext, candidates: readonly ScoredEndpoint[]): ScoredEndpoint | undefined;
  /**
   * (Added.) True when the pick follows the scores (max_score, weighted random). The framework
   * then names the scorer that decided the pick in Decision.reason, e.g. 'max_score 0.91 (queue_depth)'.
   */
  readonly usesScores?: boolean;
}

export type Plugin = Filter | Scorer | Picker;

/** Optional hooks for stateful plugins (session pins, round-robin cursors, ...). */
export interface PluginHooks {
  /** The request was sent to `endpoint`. */
  onPicked?(ctx: RoutingContext, endpoint: EndpointView): void;
  /** The endpoint became unhealthy or was removed: drop state tied to it (e.g. session pins). */
  onEndpointGone?(endpointId: string): void;
  /**
   * (Added.) A short explanation for Decision.reason. Pickers: how the last pick() chose, e.g.
   * 'round_robin' or 'consistent_hash (bounded load, 1 hop)'. Scorers: called only when this scorer
   * decided a score-based pick, e.g. session_affinity → 'pinned to w2'. Undefined → default text.
   */
  explain?(ctx: RoutingContext, picked: ScoredEndpoint): string | undefined;
}

/** Why a request went where it went: exposed in headers and on the debug endpoint. */
export interface Decision {
  readonly endpoint: EndpointView | null;
  readonly profile: string;
  /** Short human-readable reason, e.g. 'session_affinity pin' or 'max_score 0.82'. */
  readonly reason: string;
  /** Endpoints considered after filtering. */
  readonly candidates: number;
  readonly scores: readonly { endpointId: string; total: number; parts: Readonly<Record<string, number>> }[];
  /** Time spent in each plugin call, in microseconds. */
  readonly timings: readonly { plugin: string; us: number }[];
  /** Picked from unhealthy endpoints because no healthy untried one was left (RouteOptions.panic). */
  readonly panic: boolean;
}
