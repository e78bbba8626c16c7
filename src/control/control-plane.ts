/**
 * ControlPlane: the store, the resource service (with its admission checks: GPU quotas, API
 * key tenants), git history, tokens, API keys, cluster health and the reconciler, wired together. `switchyard up` (src/server.ts) mounts its HTTP API next to a
 * gateway; tests open one directly.
 */
import { join } from 'node:path';
import { KIND_NAMES } from '../api/index.js';
import type { Clock, TimerHandle } from '../core/index.js';
import { RealClock, SwitchyardError } from '../core/index.js';
import { createNullLogger, type Logger } from '../observability/index.js';
import type { Provider } from '../providers/index.js';
import { openStore, type ResourceStore } from '../store/index.js';
import { ApiKeyService, apiKeyTenantCheck } from './apikeys.js';
import { ClusterMonitor } from './clusters.js';
import { GitHistory } from './history.js';
import { ProviderRegistry } from './providers.js';
import { gpuQuotaCheck } from './quota.js';
import { Reconciler } from './reconciler.js';
import { manifestOf, ResourceService } from './resources.js';
import { Tokens } from './tokens.js';

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
}

export class ControlPlane {
  readonly reconciler: Reconciler;
  readonly clusters: ClusterMonitor;
  readonly providers: ProviderRegistry;
  readonly apiKeys: ApiKeyService;
  /** Set when the admin token was created at this start (print it once). */
  bootstrapToken: { token: string; generated: boolean } | undefined;
  private readonly abort = new AbortController();
  private unsubscribeHistory: (() => void) | undefined;
  private compactTimer: TimerHandle | undefined;
  private readonly clock: Clock;
  private readonly retainEvents: number;

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
      this.store.compact(this.retainEvents).then(
        () => this.scheduleCompaction(),
        (e: unknown) => {
          this.logger.warn({ err: e }, 'event log compaction failed');
          this.scheduleCompaction();
        },
      );
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
    await this.history.flush();
    await this.store.close();
  }
}
