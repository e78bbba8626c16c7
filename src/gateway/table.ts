/**
 * The routing table: which endpoints serve which model, and with which routing profile.
 * The gateway reads it only through this interface. Today it comes from the config file
 * (reloaded on SIGHUP or file change); the control plane will supply it next.
 */
import type { ClusterPrefixSummaries, Endpoint } from '../router/index.js';
import type { GatewayConfig } from './config.js';

/** Where an endpoint publishes vLLM KV events (ZMQ PUB, and the ROUTER that replays them). */
export interface KvEventSource {
  readonly endpoint: string;
  readonly replayEndpoint?: string;
  readonly topic?: string;
}

/** An endpoint as the gateway knows it: the router's view plus where its KV events come from. */
export interface GatewayEndpoint extends Endpoint {
  readonly kvEvents?: KvEventSource;
}

/**
 * How the gateway tokenizes a model's prompts for exact KV-aware routing: 'sim' = the simulator's
 * tokenizer and chat template; `{ path }` = a local model directory's tokenizer.json + chat
 * template (never downloaded: a remote or missing path leaves the model on approximate routing).
 */
export type TokenizerSpec = 'sim' | { readonly path: string };

export interface ModelRoute {
  readonly model: string;
  readonly profile: string;
  readonly endpoints: readonly GatewayEndpoint[];
  /** How to tokenize prompts for exact KV-aware routing; absent: none (approximate routing). */
  readonly tokenizer?: TokenizerSpec;
  /** Two-layer routing: this profile picks the cluster, then `profile` the endpoint in it. */
  readonly clusterProfile?: string;
  /** Two-layer routing: the cluster layer's KV signal ('summary': agents' prefix summaries only; 'exact': this gateway's index; absent: summary when available). */
  readonly clusterKv?: 'summary' | 'exact';
}

export interface RoutingTable {
  /** Served model names, sorted. */
  models(): readonly string[];
  route(model: string): ModelRoute | undefined;
  /** Every endpoint of every model. */
  allEndpoints(): readonly GatewayEndpoint[];
  /** Subscribe to changes; returns an unsubscribe function. */
  onChange(cb: () => void): () => void;
  /** The clusters' prefix summaries, when the table comes from a control plane that has them. */
  readonly prefixSummaries?: ClusterPrefixSummaries | undefined;
}

/** A table that can be swapped atomically (a reload replaces the whole map at once). */
export class StaticRoutingTable implements RoutingTable {
  private byModel = new Map<string, ModelRoute>();
  private names: string[] = [];
  private all: GatewayEndpoint[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(routes: readonly ModelRoute[] = []) {
    this.replace(routes);
  }

  static fromConfig(cfg: GatewayConfig): StaticRoutingTable {
    return new StaticRoutingTable(routesFromConfig(cfg));
  }

  replace(routes: readonly ModelRoute[]): void {
    this.byModel = new Map(routes.map((r) => [r.model, r]));
    this.names = [...this.byModel.keys()].sort();
    this.all = routes.flatMap((r) => r.endpoints);
    for (const cb of this.listeners) cb();
  }

  models(): readonly string[] {
    return this.names;
  }
  route(model: string): ModelRoute | undefined {
    return this.byModel.get(model);
  }
  allEndpoints(): readonly GatewayEndpoint[] {
    return this.all;
  }
  onChange(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }
}

export function routesFromConfig(cfg: GatewayConfig): ModelRoute[] {
  return cfg.models.map((m) => ({
    model: m.name,
    profile: m.profile,
    ...(m.tokenizer === 'none' ? {} : { tokenizer: m.tokenizer }),
    ...(m.clusterProfile !== undefined ? { clusterProfile: m.clusterProfile } : {}),
    endpoints: m.endpoints.map((e) => ({
      id: e.id ?? e.url.replace(/\/+$/, ''),
      url: e.url.replace(/\/+$/, ''),
      model: m.name,
      labels: e.labels,
      weight: e.weight,
      ...(e.kvEvents ? { kvEvents: e.kvEvents } : {}),
    })),
  }));
}
