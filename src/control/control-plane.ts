/**
 * ControlPlane: the store, the resource service (with its admission checks: GPU quotas, API
 * key tenants), git history, tokens, API keys, cluster health, the reconciler, usage metering
 * (with the price table), the audit log and the clusters' prefix summaries, wired together.
 * `switchyard up` (src/server.ts) mounts its HTTP API next to a gateway and gives the gateway
 * `usage` as its UsageSink; tests open one directly.
 */
import { join } from 'node:path';
import { KIND_NAMES } from '../api/index.js';
import type { Clock, TimerHandle } from '../core/index.js';
import { RealClock, SwitchyardError } from '../core/index.js';
import { createMetricsRegistry, createNullLogger, type Logger, type MetricsRegistry } from '../observability/index.js';
import type { Provider } from '../providers/index.js';
import { openStore, type ResourceStore } from '../store/index.js';
import { ApiKeyService, apiKeyTenantCheck } from './apikeys.js';
import { AuditLog } from './audit.js';
import { ClusterMonitor } from './clusters.js';
import { GitHistory } from './history.js';
import { ProviderRegistry } from './providers.js';
import { PriceBook } from './pricing.js';
import { PrefixSummaryRegistry } from './prefix-summaries.js';
import { gpuQuotaCheck } from './quota.js';
import { Reconciler } from './reconciler.js';
import { manifestOf, ResourceService } from './resources.js';
import { Tokens } from './tokens.js';
import { UsageMeter } from './usage.js';

/** Settings of usage metering (see UsageMeter for the defaults and the crash-loss bound). */
export interface UsageOptions {
  flushIntervalMs?: number;
  maxBatch?: number;
  maxBuffered?: number;
  /** How long raw usage records are kept (daily aggregates are kept for good). Default 30 days. */
  retainMs?: number;
}

export interface ControlPlaneOptions {
  /** Where the embedded database, the history repository and replica state live. */
  dataDir: string;
  /** postgres://… to share state between control-plane replicas; default: SQLite in dataDir. */
  databaseUrl?: string;
  providers: readonly Provider[];
  clock?: Clock;
  logger?: Logger;
  /** SWITCHYARD_ADMIN_TOKEN at first start. */
  adminToken?: string;
  /** Reconciler resync period (ms). */
  resyncMs?: number;
  /** Cluster heartbeat check period (ms). */
  heartbeatCheckMs?: number;
  /** Watch events kept for resuming watchers (older ones are compacted every minute). Default 10,000. */
  retainEvents?: number;
  /** Where the per-tenant usage counters are registered (serve it on /metrics); default: a private registry. */
  metrics?: MetricsRegistry;
  usage?: UsageOptions;
}

const DEFAULT_USAGE_RETAIN_MS = 30 * 86_400_000;

export class ControlPlane {
  readonly reconciler: Reconciler;
  readonly clusters: ClusterMonitor;
  readonly providers: ProviderRegistry;
  readonly apiKeys: ApiKeyService;
  /** Usage metering: the gateway's UsageSink (record once per finished request). */
  readonly usage: UsageMeter;
  /** The price table usage is priced with. */
  readonly pricing: PriceBook;
  /** The audit log of admin actions. */
  readonly audit: AuditLog;
  /** Each cluster's latest prefix summary from its agent (in memory; ADR 0016). */
  readonly prefixSummaries: PrefixSummaryRegistry;
  /** Set when the admin token was created at this start (print it once). */
  bootstrapToken: { token: string; generated: boolean } | undefined;
  private readonly abort = new AbortController();
  private unsubscribeHistory: (() => void) | undefined;
  private compactTimer: TimerHandle | undefined;
  readonly clock: Clock;
  private readonly retainEvents: number;
  private readonly retainUsageMs: number;

  private constructor(
    readonly store: ResourceStore,
    readonly service: ResourceService,
    readonly history: GitHistory,
    readonly tokens: Tokens,
    readonly logger: Logger,
    clock: Clock,
    o: ControlPlaneOptions,
  ) {
    this.clock = clock;
    this.retainEvents = o.retainEvents ?? 10_000;
    this.retainUsageMs = o.usage?.retainMs ?? DEFAULT_USAGE_RETAIN_MS;
    this.pricing = new PriceBook(store, clock, logger.child({ component: 'pricing' }));
    this.audit = new AuditLog(store, clock, logger.child({ component: 'audit' }));
    const { retainMs: _retain, ...usage } = o.usage ?? {};
    const metrics = o.metrics ?? createMetricsRegistry();
    this.usage = new UsageMeter({ store, service, prices: () => this.pricing.current(), clock, logger: logger.child({ component: 'usage' }), metrics, ...usage });
    this.prefixSummaries = new PrefixSummaryRegistry(clock, metrics);
    this.providers = new ProviderRegistry(o.providers);
    this.apiKeys = new ApiKeyService(service, clock);
    this.clusters = new ClusterMonitor(service, clock, logger, o.heartbeatCheckMs ?? 1000);
    this.reconciler = new Reconciler({ service, providers: this.providers, clock, logger: logger.child({ component: 'reconciler' }), ...(o.resyncMs !== undefined ? { resyncMs: o.resyncMs } : {}) });
  }

  static async open(o: ControlPlaneOptions): Promise<ControlPlane> {
    const clock = o.clock ?? new RealClock();
    const logger = o.logger ?? createNullLogger('control');
    const store = await openStore(o.databaseUrl, o.dataDir);
    const service = new ResourceService(store, clock);
    service.addAdmissionCheck(gpuQuotaCheck);
    service.addAdmissionCheck(apiKeyTenantCheck);
    const history = await GitHistory.open(join(o.dataDir, 'history'));
    const tokens = new Tokens(store, clock);
    const cp = new ControlPlane(store, service, history, tokens, logger, clock, o);
    cp.bootstrapToken = await tokens.bootstrap(o.adminToken);
    await cp.pricing.load();
    // Catch up on history a crash may have lost (store commit done, git commit not).
    const all = [];
    for (const kind of KIND_NAMES) for (const r of (await service.list(kind)).items) all.push({ kind, name: r.metadata.name, manifest: manifestOf(r) });
    const recovered = await history.sync(all);
    if (recovered > 0) logger.warn({ recovered }, 'history: recorded changes missed before a crash');
    cp.unsubscribeHistory = service.onSpecChange((changes) => {
      history.record(changes).catch((e: unknown) => logger.error({ err: e }, 'history: git commit failed (the change itself is saved; it is recorded at next start)'));
    });
    return cp;
  }

  /** Aborted when the control plane closes (long-lived responses such as watches end then). */
  get closing(): AbortSignal {
    return this.abort.signal;
  }

  start(): void {
    this.clusters.start();
    this.reconciler.start();
    this.scheduleCompaction();
  }

  private scheduleCompaction(): void {
    if (this.abort.signal.aborted) return;
    this.compactTimer = this.clock.setTimeout(() => {
      const usageFloor = Math.max(0, Math.floor(this.clock.epochMs() - this.retainUsageMs));
      void Promise.all([
        this.store.compact(this.retainEvents).catch((e: unknown) => this.logger.warn({ err: e }, 'event log compaction failed')),
        this.store.pruneUsage(usageFloor).catch((e: unknown) => this.logger.warn({ err: e }, 'pruning old usage records failed')),
      ]).finally(() => this.scheduleCompaction());
    }, 60_000);
  }

  /** The provider that runs a Deployment's replicas. */
  async providerOf(deployment: string): Promise<Provider> {
    const dep = await this.service.get('Deployment', deployment);
    const cluster = await this.service.get('Cluster', dep.spec.cluster);
    const p = this.providers.forCluster(cluster);
    if (!p) throw new SwitchyardError('not_implemented', `provider '${cluster.spec.provider}' is not available here`);
    return p;
  }

  /**
   * Stop. `stopReplicas: true` (Ctrl-C) drains and stops local replicas; false leaves them
   * running for the next start to adopt.
   */
  async close(options: { stopReplicas: boolean }): Promise<void> {
    this.abort.abort();
    this.clock.clearTimeout(this.compactTimer);
    this.clusters.stop();
    await this.reconciler.stop();
    this.unsubscribeHistory?.();
    for (const p of this.providers.all()) await p.close(options);
    await this.usage.close();
    await this.history.flush();
    await this.store.close();
  }
}
