/**
 * ClusterAgent: runs next to a cluster and reports it to the control plane.
 *
 * Every heartbeat (immediately on start, then every `heartbeatIntervalMs` on the Clock) carries
 * the node inventory (CPUs, memory, GPUs with how many this cluster's ready replicas use), the
 * health of this cluster's replica endpoints (GET {endpoint}/health, 2 s timeout), the agent
 * version and whether the inventory is simulated. Failing to reach the control plane is
 * logged once per outage (warn), then once when it is back (info), and retried at the next
 * tick; the agent never crashes on it. A tick that comes while a heartbeat is still in
 * flight is skipped.
 *
 * With a client that can watch (SwitchyardClient), the agent follows Deployments and Functions
 * through the watch stream (ResourceFollower: list once, then changes) and builds heartbeats from
 * what it holds; without one, it lists them at each heartbeat.
 *
 * With a client that can report them (`putPrefixSummary`), the agent also subscribes to the KV
 * events of its cluster's ready replicas (refreshed as Deployments change, and at each heartbeat) and
 * reports a prefix summary of what they hold (PrefixReporter, ADR 0016): the gateways' cluster
 * layer routes on it without indexing every block of every worker.
 */
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { ResourceFollower, type AnyResource, type FollowSource, type ResourceOf, type DeploymentResource, type FunctionResource, type Heartbeat, type NodeInventory } from '../api/index.js';
import type { KvFeedSource } from '../kvevents/index.js';
import { formatDuration, PeriodicTask, type Clock } from '../core/index.js';
import type { Logger } from '../observability/index.js';
import { nodeInventory, normalizeGpuType, type GpuDiscovery } from './gpus.js';
import { PrefixReporter, type PrefixReporterOptions, type PrefixSummaryClient } from './prefix-reporter.js';

/** What the agent needs of the admin API (SwitchyardClient satisfies it). */
export interface AgentClient extends Partial<PrefixSummaryClient> {
  heartbeat(cluster: string, hb: Heartbeat & { intervalMs?: number }): Promise<void>;
  list<K extends 'Deployment' | 'Function'>(kind: K): Promise<{ items: ResourceOf<K>[]; resourceVersion?: string }>;
  /** When present, Deployments and Functions are followed through the watch stream instead of listed at each heartbeat. */
  watch?: FollowSource['watch'];
}

/** Prefix summary settings (PrefixReporterOptions without what the agent supplies). */
export type AgentPrefixSummaryOptions = Omit<PrefixReporterOptions, 'cluster' | 'client' | 'clock' | 'logger'>;

export interface ProbeResult {
  healthy: boolean;
  message?: string;
}
export type Probe = (url: string) => Promise<ProbeResult>;

export interface ClusterAgentOptions {
  cluster: string;
  client: AgentClient;
  clock: Clock;
  /** Default 10 s. */
  heartbeatIntervalMs?: number;
  gpus: GpuDiscovery;
  logger: Logger;
  /** Health check of one replica endpoint; default GET {endpoint}/health with a 2 s timeout. */
  probe?: Probe;
  /** Node name in the inventory; default the hostname. */
  nodeName?: string;
  /** Default: package.json's version. */
  agentVersion?: string;
  /** Called once, after the first heartbeat the control plane accepted. */
  onRegistered?: () => void;
  /**
   * Report prefix summaries of the cluster's KV caches (when the client can). Default on, re-sent
   * unchanged every heartbeat interval; false: off.
   */
  prefixSummaries?: AgentPrefixSummaryOptions | false;
}

export const DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000;
export const PROBE_TIMEOUT_MS = 2_000;

export class ClusterAgent {
  readonly cluster: string;
  readonly intervalMs: number;
  private readonly node: NodeInventory;
  private readonly probe: Probe;
  private readonly version: string;
  private readonly heartbeats: PeriodicTask;
  private registered = false;
  /** Failed heartbeats in the current outage (0 when the control plane is reachable). */
  private failures = 0;
  private lastFailure = '';
  /** Why listing Deployments failed at the last heartbeat ('' when it worked); warned about once. */
  private listProblem = '';
  private listProblemLogged = false;
  /** The cluster's KV index and its summary reporter (undefined: not reporting). */
  readonly prefixes: PrefixReporter | undefined;
  /** Deployments and Functions from the watch stream (undefined: the client cannot watch). */
  private readonly follower: ResourceFollower | undefined;
  private readonly held = { Deployment: new Map<string, DeploymentResource>(), Function: new Map<string, FunctionResource>() };

  constructor(private readonly opts: ClusterAgentOptions) {
    this.cluster = opts.cluster;
    this.intervalMs = opts.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
    if (!(this.intervalMs > 0)) throw new RangeError(`heartbeatIntervalMs must be > 0, got ${this.intervalMs}`);
    this.node = nodeInventory(opts.gpus, opts.nodeName);
    this.probe = opts.probe ?? httpHealthProbe;
    this.version = opts.agentVersion ?? packageVersion();
    this.heartbeats = new PeriodicTask(opts.clock, this.intervalMs, () => this.beat(), { onSkip: () => opts.logger.debug('previous heartbeat still in flight; skipping this tick') });
    const client = opts.client;
    if (opts.prefixSummaries !== false && client.putPrefixSummary) {
      const put = client.putPrefixSummary.bind(client);
      this.prefixes = new PrefixReporter({ refreshMs: this.intervalMs, ...opts.prefixSummaries, cluster: opts.cluster, client: { putPrefixSummary: put }, clock: opts.clock, logger: opts.logger });
    }
    if (client.watch) {
      const watch = client.watch.bind(client);
      const source: FollowSource = {
        list: async (kind) => {
          const l = await client.list(kind as 'Deployment' | 'Function');
          return { items: l.items, resourceVersion: l.resourceVersion ?? '0' };
        },
        watch,
      };
      this.follower = new ResourceFollower({
        source,
        kinds: ['Deployment', 'Function'],
        clock: opts.clock,
        onList: (lists) => {
          for (const kind of ['Deployment', 'Function'] as const) this.held[kind] = new Map((lists.get(kind) ?? []).map((r) => [r.metadata.name, r as never]));
          this.resync();
        },
        onEvent: (ev) => this.hold(ev.type, ev.object),
        onLost: (e) => opts.logger.debug({ cluster: opts.cluster, error: errorText(e) }, 'watch of Deployments interrupted; reconnecting'),
      });
    }
  }

  private hold(type: 'ADDED' | 'MODIFIED' | 'DELETED', r: AnyResource): void {
    if (r.kind !== 'Deployment' && r.kind !== 'Function') return;
    const m = this.held[r.kind] as Map<string, AnyResource>;
    if (type === 'DELETED') m.delete(r.metadata.name);
    else m.set(r.metadata.name, r);
    if (r.kind === 'Deployment' && r.spec.cluster === this.cluster) this.resync();
  }

  /** Follow this cluster's ready replicas' KV events as soon as Deployments change. */
  private resync(): void {
    this.prefixes?.sync(kvSourcesOf([...this.held.Deployment.values()].filter((d) => d.spec.cluster === this.cluster)));
  }

  /** True once the control plane has accepted a heartbeat. */
  get isRegistered(): boolean {
    return this.registered;
  }

  /** Heartbeat now and every interval. Resolves when the first heartbeat attempt is over (it never rejects). */
  start(): Promise<void> {
    if (this.heartbeats.isRunning) return this.idle();
    this.follower?.start();
    this.heartbeats.start();
    this.prefixes?.start();
    return this.idle();
  }

  /** Stop the timer and wait for an in-flight heartbeat. */
  async stop(): Promise<void> {
    await this.heartbeats.stop();
    await this.follower?.stop();
    await this.prefixes?.stop();
  }

  /** Resolves when no heartbeat is in flight. */
  idle(): Promise<void> {
    return this.heartbeats.idle();
  }

  /** Build the heartbeat this agent would send now (exposed for tests and debugging). */
  async buildHeartbeat(): Promise<Heartbeat & { intervalMs: number }> {
    const { deployments, functions, listed } = await this.fetchResources();
    const ours = deployments.filter((d) => d.spec.cluster === this.cluster);
    if (listed) this.prefixes?.sync(kvSourcesOf(ours)); // followed Deployments sync on every change (resync)
    const inUse = gpusInUse(ours, functions);
    const node: NodeInventory = { ...this.node, gpus: this.node.gpus.map((g) => ({ ...g, inUse: Math.min(g.count, inUse.get(g.type) ?? 0) })) };
    const urls = [...new Set(ours.flatMap((d) => (d.status?.replicas ?? []).filter((r) => r.endpoint && r.state !== 'stopped').map((r) => r.endpoint!)))];
    const endpoints = await Promise.all(
      urls.map(async (url) => {
        const res = await this.probe(url).catch((e: unknown): ProbeResult => ({ healthy: false, message: errorText(e) }));
        return { url, healthy: res.healthy, ...(res.message ? { message: res.message } : {}) };
      }),
    );
    return { agentVersion: this.version, nodes: [node], endpoints, simulated: this.opts.gpus.simulated, intervalMs: this.intervalMs };
  }

  private async beat(): Promise<void> {
    let hb: Heartbeat & { intervalMs: number };
    try {
      hb = await this.buildHeartbeat();
      await this.opts.client.heartbeat(this.cluster, hb);
    } catch (e) {
      this.failed(e);
      return;
    }
    this.succeeded(hb);
  }

  private failed(e: unknown): void {
    const log = this.opts.logger;
    const why = errorText(e);
    const key = (e as { code?: unknown }).code !== undefined ? String((e as { code?: unknown }).code) : why;
    this.failures++;
    if (this.failures === 1 || key !== this.lastFailure) {
      log.warn({ cluster: this.cluster, error: why }, `heartbeat failed; retrying every ${formatDuration(this.intervalMs)}`);
    } else {
      log.debug({ cluster: this.cluster, error: why, failures: this.failures }, 'heartbeat failed again');
    }
    this.lastFailure = key;
  }

  private succeeded(hb: Heartbeat): void {
    const log = this.opts.logger;
    if (this.failures > 0 && this.registered) log.info({ cluster: this.cluster, failedHeartbeats: this.failures }, 'control plane reachable again');
    this.failures = 0;
    this.lastFailure = '';
    if (!this.registered) {
      this.registered = true;
      log.info({ cluster: this.cluster, gpus: hb.nodes.flatMap((n) => n.gpus.map((g) => `${g.count}x${g.type}`)), simulated: hb.simulated }, 'registered with the control plane');
      this.opts.onRegistered?.();
    }
    if (this.listProblem && !this.listProblemLogged) {
      this.listProblemLogged = true;
      log.warn({ cluster: this.cluster, error: this.listProblem }, 'cannot list Deployments; endpoint health and GPU use are not reported');
    }
  }

  /**
   * Deployments (and Functions, for GPU counts): what the watch stream delivered once it is in
   * sync, else a listing; a failed listing leaves them empty and is logged after a heartbeat got through.
   */
  private async fetchResources(): Promise<{ deployments: DeploymentResource[]; functions: FunctionResource[]; listed: boolean }> {
    if (this.follower?.connected) return { deployments: [...this.held.Deployment.values()], functions: [...this.held.Function.values()], listed: false };
    const [deps, fns] = await Promise.allSettled([this.opts.client.list('Deployment'), this.opts.client.list('Function')]);
    this.listProblem = deps.status === 'rejected' ? errorText(deps.reason) : '';
    if (!this.listProblem && this.listProblemLogged) {
      this.listProblemLogged = false;
      this.opts.logger.info({ cluster: this.cluster }, 'listing Deployments works again');
    }
    return {
      deployments: deps.status === 'fulfilled' ? deps.value.items.filter((r) => r.kind === 'Deployment') : [],
      functions: fns.status === 'fulfilled' ? fns.value.items.filter((r) => r.kind === 'Function') : [],
      listed: true,
    };
  }
}

/** Where the ready replicas of these Deployments publish KV events, by replica id. */
export function kvSourcesOf(deployments: readonly DeploymentResource[]): Map<string, KvFeedSource> {
  const out = new Map<string, KvFeedSource>();
  for (const d of deployments) for (const r of d.status?.replicas ?? []) if (r.state === 'ready' && r.kvEvents) out.set(r.id, r.kvEvents);
  return out;
}

/** GPUs (by normalized type) used by the ready replicas of these Deployments. */
export function gpusInUse(deployments: readonly DeploymentResource[], functions: readonly FunctionResource[]): Map<string, number> {
  const byName = new Map(functions.map((f) => [f.metadata.name, f.spec.resources.gpu]));
  const out = new Map<string, number>();
  for (const d of deployments) {
    const gpu = byName.get(d.spec.function);
    if (!gpu || gpu.count === 0) continue;
    const ready = (d.status?.replicas ?? []).filter((r) => r.state === 'ready').length;
    const type = normalizeGpuType(gpu.type);
    out.set(type, (out.get(type) ?? 0) + ready * gpu.count);
  }
  return out;
}

/** GET {endpoint}/health: 2xx is healthy; anything else (status, refusal, timeout) is not, with the reason. */
export async function httpHealthProbe(endpoint: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<ProbeResult> {
  const url = `${endpoint.replace(/\/+$/, '')}/health`;
  try {
    const res = await request(url, { method: 'GET', signal: AbortSignal.timeout(timeoutMs), headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    const body = await res.body.text().catch(() => '');
    if (res.statusCode >= 200 && res.statusCode < 300) return { healthy: true };
    return { healthy: false, message: `HTTP ${res.statusCode}${body ? `: ${body.trim().slice(0, 200)}` : ''}` };
  } catch (e) {
    const name = e instanceof Error ? e.name : '';
    if (name === 'TimeoutError' || name === 'AbortError') return { healthy: false, message: `no answer within ${timeoutMs} ms` };
    return { healthy: false, message: errorText(e) };
  }
}

function errorText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    const msg = e.message || e.name;
    return typeof code === 'string' && !msg.includes(code) && /^[A-Z_]+$/.test(code) ? `${code}: ${msg}` : msg;
  }
  return String(e);
}

let cachedVersion: string | undefined;
function packageVersion(): string {
  if (cachedVersion === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
      cachedVersion = typeof pkg.version === 'string' ? pkg.version : '0.0.0';
    } catch {
      cachedVersion = '0.0.0';
    }
  }
  return cachedVersion;
}
