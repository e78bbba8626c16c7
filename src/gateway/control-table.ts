/**
 * The routing table from the control plane: list Functions, Deployments and Clusters, then
 * follow the watch stream. Endpoints are the ready replicas of every Deployment whose cluster
 * is not Unhealthy. When the control plane is unreachable the gateway keeps serving from the
 * last table it built, and reconnects with backoff (resuming from the last resourceVersion).
 * It also polls the clusters' prefix summaries (PrefixSummaryFeed) for two-layer routing.
 */
import { clusterLabels, localModelPath, ResourceFollower, SwitchyardClient, type AnyResource, type ApiWatchEvent, type ClusterResource, type DeploymentResource, type FunctionResource, type Kind } from '../api/index.js';
import { ApiKeyIndex } from '../control/index.js';
import { createNullLogger, type Logger } from '../observability/index.js';
import type { ClusterPrefixSummaries } from '../router/index.js';
import { PrefixSummaryFeed } from './prefix-summaries.js';
import { StaticRoutingTable, type GatewayEndpoint, type ModelRoute, type RoutingTable, type TokenizerSpec } from './table.js';

/**
 * How the gateway tokenizes a Function's prompts: `spec.routing.tokenizer` when set; else the
 * simulator's for runtime sim (the model directory's when `model` is a local path: the local
 * provider runs `worker sim --tokenizer` with it); else the model's own tokenizer.json, which
 * KvRouting loads only from a local directory (a Hugging Face id that is not one, or an s3://
 * URI, is logged once and routes approximately).
 */
export function tokenizerOf(fn: FunctionResource): { tokenizer?: TokenizerSpec } {
  const set = fn.spec.routing.tokenizer;
  if (set !== undefined) return set === 'none' ? {} : { tokenizer: set };
  const local = localModelPath(fn.spec.model);
  if (fn.spec.runtime === 'sim' && fn.spec.command === undefined) return { tokenizer: local !== undefined ? { path: local } : 'sim' };
  return { tokenizer: { path: local ?? fn.spec.model } };
}

/** Build routes from resources (pure). */
export function routesFromResources(fns: Iterable<FunctionResource>, deps: Iterable<DeploymentResource>, clusters: Iterable<ClusterResource>): ModelRoute[] {
  const fnBy = new Map([...fns].map((f) => [f.metadata.name, f]));
  const clBy = new Map([...clusters].map((c) => [c.metadata.name, c]));
  const byModel = new Map<string, { profile: string; tokenizer?: TokenizerSpec; clusterProfile?: string; clusterKv?: 'summary' | 'exact'; endpoints: GatewayEndpoint[] }>();
  for (const d of deps) {
    const fn = fnBy.get(d.spec.function);
    const cl = clBy.get(d.spec.cluster);
    if (!fn || !cl || cl.status?.health === 'Unhealthy') continue;
    const model = fn.spec.servedName ?? fn.metadata.name;
    let route = byModel.get(model);
    // Prompts are tokenized here exactly as the engine does them (exact KV routing) when possible.
    if (!route) {
      const r = fn.spec.routing;
      route = { profile: r.profile, ...tokenizerOf(fn), ...(r.clusterProfile !== undefined ? { clusterProfile: r.clusterProfile } : {}), ...(r.clusterKv !== undefined ? { clusterKv: r.clusterKv } : {}), endpoints: [] };
      byModel.set(model, route);
    }
    const gpu = fn.spec.resources.gpu.type;
    const labels: Record<string, string> = { ...(gpu !== 'any' ? { gpu } : {}), ...clusterLabels(cl), deployment: d.metadata.name, function: fn.metadata.name, runtime: fn.spec.runtime };
    for (const r of d.status?.replicas ?? []) {
      if (r.state !== 'ready' || !r.endpoint) continue;
      route.endpoints.push({ id: r.id, url: r.endpoint.replace(/\/+$/, ''), model, labels, weight: 1, ...(r.kvEvents ? { kvEvents: r.kvEvents } : {}) });
    }
  }
  return [...byModel].filter(([, r]) => r.endpoints.length > 0).map(([model, r]) => ({ model, ...r, endpoints: r.endpoints.sort((a, b) => a.id.localeCompare(b.id)) }));
}

export interface ControlPlaneTableOptions {
  token: string;
  logger?: Logger;
  /** Reconnect backoff bounds (ms). */
  backoff?: { initial: number; max: number };
  /** Also follow ApiKeys and Tenants into `keys` (for API-key auth). Default true. */
  apiKeys?: boolean;
  /** Poll the clusters' prefix summaries every this many ms (0: not at all). Default 1 s. */
  prefixSummaryIntervalMs?: number;
}

const ROUTING_KINDS: readonly Kind[] = ['Function', 'Deployment', 'Cluster'];
const KEY_KINDS: readonly Kind[] = ['ApiKey', 'Tenant'];

export class ControlPlaneTable implements RoutingTable {
  private readonly inner = new StaticRoutingTable();
  /** API keys and tenants as the control plane has them (revocations arrive with the watch stream). */
  readonly keys = new ApiKeyIndex();
  private readonly kinds: readonly Kind[];
  private client: SwitchyardClient | undefined;
  private readonly logger: Logger;
  private readonly objects = new Map<Kind, Map<string, AnyResource>>(ROUTING_KINDS.map((k) => [k, new Map()]));
  private follower: ResourceFollower | undefined;
  private synced!: () => void;
  /** Resolves after the first complete list. */
  readonly ready: Promise<void> = new Promise((r) => (this.synced = r));
  private summaries: PrefixSummaryFeed | undefined;

  constructor(private readonly o: ControlPlaneTableOptions) {
    this.logger = o.logger ?? createNullLogger('control-table');
    this.kinds = o.apiKeys === false ? ROUTING_KINDS : [...ROUTING_KINDS, ...KEY_KINDS];
  }

  /** Start following the control plane at `server` (e.g. http://127.0.0.1:8080). */
  start(server: string): void {
    if (this.follower) return;
    const client = new SwitchyardClient({ server, token: this.o.token, timeoutMs: 10_000 });
    this.client = client;
    this.follower = new ResourceFollower({
      source: client,
      kinds: this.kinds,
      ...(this.o.backoff ? { backoff: this.o.backoff } : {}),
      onList: (lists) => this.replaceAll(lists),
      onEvent: (ev) => this.apply(ev),
      onLost: (e) => this.logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'lost the control plane; serving the last known routing table'),
    });
    void this.follower.ready.then(() => this.synced());
    this.follower.start();
    if (this.o.prefixSummaryIntervalMs !== 0) {
      this.summaries = new PrefixSummaryFeed({ source: client, logger: this.logger, ...(this.o.prefixSummaryIntervalMs !== undefined ? { intervalMs: this.o.prefixSummaryIntervalMs } : {}) });
      this.summaries.start();
    }
  }

  /** Whether the control plane is reachable (false during an outage, while the last table is served). */
  get connected(): boolean {
    return this.follower?.connected ?? false;
  }

  async stop(): Promise<void> {
    await this.follower?.stop();
    await this.summaries?.stop();
    await this.client?.close();
  }

  /** The clusters' prefix summaries (two-layer routing's cluster layer), once started. */
  get prefixSummaries(): ClusterPrefixSummaries | undefined {
    return this.summaries;
  }

  /** The summary feed itself (stats, tests). */
  get prefixSummaryFeed(): PrefixSummaryFeed | undefined {
    return this.summaries;
  }

  models(): readonly string[] {
    return this.inner.models();
  }
  route(model: string): ModelRoute | undefined {
    return this.inner.route(model);
  }
  allEndpoints(): readonly GatewayEndpoint[] {
    return this.inner.allEndpoints();
  }
  onChange(cb: () => void): () => void {
    return this.inner.onChange(cb);
  }

  private rebuild(): void {
    const of = <K extends Kind>(k: K) => [...this.objects.get(k)!.values()] as never[];
    this.inner.replace(routesFromResources(of('Function'), of('Deployment'), of('Cluster')));
  }

  /** A complete list (first sync, or after a 410): replace everything. */
  private replaceAll(lists: ReadonlyMap<Kind, readonly AnyResource[]>): void {
    this.keys.clear();
    for (const [k, items] of lists) {
      if (KEY_KINDS.includes(k)) for (const o of items) this.keys.upsert(o);
      else this.objects.set(k, new Map(items.map((o) => [o.metadata.name, o])));
    }
    this.rebuild();
  }

  private apply(ev: ApiWatchEvent): void {
    if (this.keys.apply(ev)) return;
    const m = this.objects.get(ev.object.kind);
    if (!m) return;
    if (ev.type === 'DELETED') m.delete(ev.object.metadata.name);
    else m.set(ev.object.metadata.name, ev.object);
    this.rebuild();
  }
}
