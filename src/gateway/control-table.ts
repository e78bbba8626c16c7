/**
 * The routing table from the control plane: list Functions, Deployments and Clusters, then
 * follow the watch stream. Endpoints are the ready replicas of every Deployment whose cluster
 * is not Unhealthy. When the control plane is unreachable the gateway keeps serving from the
 * last table it built, and reconnects with backoff (resuming from the last resourceVersion).
 * It also polls the clusters' prefix summaries (PrefixSummaryFeed) for two-layer routing.
 */
import { clusterLabels, localModelPath, SwitchyardClient, type AnyResource, type ClusterResource, type DeploymentResource, type FunctionResource, type Kind } from '../api/index.js';
import { ApiKeyIndex } from '../control/index.js';
import { SwitchyardError } from '../core/index.js';
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
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private synced!: () => void;
  /** Resolves after the first complete list. */
  readonly ready: Promise<void> = new Promise((r) => (this.synced = r));
  /** Whether the last connection attempt is up (for /debug and logs). */
  connected = false;
  private summaries: PrefixSummaryFeed | undefined;

  constructor(private readonly o: ControlPlaneTableOptions) {
    this.logger = o.logger ?? createNullLogger('control-table');
    this.kinds = o.apiKeys === false ? ROUTING_KINDS : [...ROUTING_KINDS, ...KEY_KINDS];
  }

  /** Start following the control plane at `server` (e.g. http://127.0.0.1:8080). */
  start(server: string): void {
    if (this.loop) return;
    const client = new SwitchyardClient({ server, token: this.o.token, timeoutMs: 10_000 });
    this.client = client;
    this.loop = this.run(client);
    if (this.o.prefixSummaryIntervalMs !== 0) {
      this.summaries = new PrefixSummaryFeed({ source: client, logger: this.logger, ...(this.o.prefixSummaryIntervalMs !== undefined ? { intervalMs: this.o.prefixSummaryIntervalMs } : {}) });
      this.summaries.start();
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
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

  private async run(client: SwitchyardClient): Promise<void> {
    const backoff = this.o.backoff ?? { initial: 250, max: 10_000 };
    let delay = backoff.initial;
    let rv: string | undefined;
    // Reachable again (a list or the watch went through): the next failure is logged once, and
    // the back-off starts over. Until then, retries back off to backoff.max, silently.
    const reached = (): void => {
      this.connected = true;
      delay = backoff.initial;
    };
    while (!this.abort.signal.aborted) {
      try {
        if (rv === undefined) {
          rv = await this.relist(client);
          reached();
        }
        for await (const ev of client.watch({ resourceVersion: rv, kinds: this.kinds, signal: this.abort.signal, onOpen: reached })) {
          rv = ev.resourceVersion;
          if (this.keys.apply(ev)) continue;
          const m = this.objects.get(ev.object.kind);
          if (!m) continue;
          if (ev.type === 'DELETED') m.delete(ev.object.metadata.name);
          else m.set(ev.object.metadata.name, ev.object);
          this.rebuild();
        }
        // The server ended the stream (e.g. it is shutting down): reconnect.
      } catch (e) {
        if (this.abort.signal.aborted) break;
        if (e instanceof SwitchyardError && e.code === 'gone') rv = undefined;
        if (this.connected) this.logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'lost the control plane; serving the last known routing table');
        this.connected = false;
      }
      if (this.abort.signal.aborted) break;
      await new Promise<void>((resolve) => {
        const signal = this.abort.signal;
        const onAbort = (): void => {
          clearTimeout(t);
          resolve();
        };
        const t = setTimeout(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        }, delay);
        signal.addEventListener('abort', onAbort, { once: true });
      });
      delay = Math.min(backoff.max, delay * 2);
    }
  }

  /** Full list of every kind; returns the resourceVersion to watch from. */
  private async relist(client: SwitchyardClient): Promise<string> {
    let minRv: number | undefined;
    const keys: AnyResource[] = [];
    for (const k of this.kinds) {
      const list = await client.list(k);
      if (KEY_KINDS.includes(k)) keys.push(...list.items);
      else this.objects.set(k, new Map(list.items.map((o) => [o.metadata.name, o])));
      minRv = Math.min(minRv ?? Infinity, Number(list.resourceVersion));
    }
    this.keys.clear();
    for (const o of keys) this.keys.upsert(o);
    this.rebuild();
    this.synced();
    return String(minRv ?? 0);
  }
}
