/**
 * The reconciler: level-triggered and idempotent. Each pass reads everything, then
 *  1. gives every Function one Deployment per matching cluster (and garbage-collects managed
 *     Deployments whose Function or cluster no longer matches),
 *  2. asks each Deployment's provider to converge to its target, and writes the replicas the
 *     provider reports into the Deployment's status (and a summary into the Function's),
 *  3. removes provider replicas that no Deployment owns any more,
 *  4. writes each Tenant's key count and GPUs in use into its status.
 * A managed Deployment that would take its tenant beyond its GPU quota is not created (the
 * Function's status says so, condition Admitted=False) and is tried again on later passes.
 * Passes run after every store commit, every provider change and on a resync timer; they never
 * overlap (a request during a pass schedules one more pass). Restarting the control plane is
 * just another pass: providers adopt their running replicas and nothing is duplicated.
 */
import type { ClusterResource, DeploymentResource, FunctionResource, Manifest } from '../api/index.js';
import { SwitchyardError, type Clock, type TimerHandle } from '../core/index.js';
import type { Logger } from '../observability/index.js';
import type { ProviderRegistry } from './providers.js';
import { gpusByTenant } from './quota.js';
import type { ResourceService } from './resources.js';
import { nextDeploymentStatus, nextFunctionStatus } from './status.js';
import { buildTarget, desiredDeployments, desiredReplicas, LABEL_FUNCTION, LABEL_MANAGED_BY, MANAGED_BY_RECONCILER } from './targets.js';

export interface ReconcilerOptions {
  service: ResourceService;
  providers: ProviderRegistry;
  clock: Clock;
  logger: Logger;
  /** Full pass at least this often (ms). Default 2 s. */
  resyncMs?: number;
}

const ACTOR = { name: 'switchyard-reconciler' };

export class Reconciler {
  private running: Promise<void> | null = null;
  private again = false;
  private timer: TimerHandle | undefined;
  private stopped = true;
  private readonly unsubscribes: (() => void)[] = [];
  /** Passes completed (for tests and /metrics). */
  passes = 0;

  constructor(private readonly o: ReconcilerOptions) {}

  start(): void {
    this.stopped = false;
    this.unsubscribes.push(this.o.service.store.onCommit(() => this.trigger()));
    for (const p of this.o.providers.all()) this.unsubscribes.push(p.onChange(() => this.trigger()));
    this.trigger();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.o.clock.clearTimeout(this.timer);
    for (const u of this.unsubscribes.splice(0)) u();
    await this.running;
  }

  /** Request a pass (coalesced). */
  trigger(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
    });
  }

  /** Run one pass now and wait for it (tests, start-up). */
  async reconcileNow(): Promise<void> {
    await this.running;
    await this.pass();
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.pass();
      } catch (e) {
        this.o.logger.error({ err: e }, 'reconcile pass failed; retrying at the next resync');
      }
    } while (this.again && !this.stopped);
    if (!this.stopped) {
      this.o.clock.clearTimeout(this.timer);
      this.timer = this.o.clock.setTimeout(() => this.trigger(), this.o.resyncMs ?? 2000);
    }
  }

  private async pass(): Promise<void> {
    const svc = this.o.service;
    const [fns, clusters] = [(await svc.list('Function')).items, (await svc.list('Cluster')).items];
    const refused = await this.ensureDeployments(fns, clusters);
    const deps = (await svc.list('Deployment')).items;
    const fnByName = new Map(fns.map((f) => [f.metadata.name, f]));
    const clusterByName = new Map(clusters.map((c) => [c.metadata.name, c]));
    const now = new Date(this.o.clock.epochMs()).toISOString();

    for (const dep of deps) {
      const fn = fnByName.get(dep.spec.function);
      const cluster = clusterByName.get(dep.spec.cluster);
      let blocked: string | undefined;
      let replicas: ReturnType<NonNullable<ReturnType<ProviderRegistry['forCluster']>>['status']> = [];
      const provider = cluster ? this.o.providers.forCluster(cluster) : undefined;
      if (!fn) blocked = `Function '${dep.spec.function}' not found`;
      else if (!cluster) blocked = `Cluster '${dep.spec.cluster}' not found`;
      else if (!provider) blocked = `provider '${cluster.spec.provider}' is not available in this control plane (available: ${this.o.providers.kinds().join(', ')})`;
      else {
        try {
          await provider.apply(buildTarget(fn, dep, cluster));
        } catch (e) {
          blocked = e instanceof Error ? e.message : String(e);
        }
        replicas = provider.status(dep.metadata.name);
      }
      await svc.updateStatus('Deployment', dep.metadata.name, (cur) =>
        nextDeploymentStatus({ prev: cur.status, desired: fn ? desiredReplicas(fn, dep) : 0, replicas, generation: cur.metadata.generation, servedName: fn ? (fn.spec.servedName ?? fn.metadata.name) : undefined, ...(blocked ? { blocked } : {}), now }),
      );
    }

    // Replicas nobody owns any more (Deployment deleted, or moved to another provider).
    const owned = new Map(deps.map((d) => [d.metadata.name, d.spec.cluster]));
    for (const p of this.o.providers.all()) {
      for (const name of p.deployments()) {
        const cluster = owned.get(name);
        const c = cluster ? clusterByName.get(cluster) : undefined;
        if (c && this.o.providers.forCluster(c) === p) continue;
        this.o.logger.info({ deployment: name, provider: p.kind }, 'removing replicas of a deleted deployment');
        await p.remove(name);
      }
    }

    const fresh = (await svc.list('Deployment')).items;
    for (const fn of fns) {
      const mine = fresh.filter((d) => d.spec.function === fn.metadata.name).map((d) => ({ name: d.metadata.name, cluster: d.spec.cluster, ...(d.status ? { status: d.status } : {}) }));
      const why = refused.get(fn.metadata.name);
      await svc.updateStatus('Function', fn.metadata.name, (cur) => nextFunctionStatus({ prev: cur.status, deployments: mine, generation: cur.metadata.generation, now, ...(why ? { refused: why } : {}) }));
    }
    await this.updateTenants(fns, fresh);
    this.passes++;
  }

  /** Each Tenant's status: keys not revoked, and GPUs its Deployments hold (what gpuQuota counts). Usage is left as metering wrote it. */
  private async updateTenants(fns: readonly FunctionResource[], deps: readonly DeploymentResource[]): Promise<void> {
    const svc = this.o.service;
    const tenants = (await svc.list('Tenant')).items;
    if (tenants.length === 0) return;
    const keys = (await svc.list('ApiKey')).items;
    const gpus = gpusByTenant(
      deps.map((d) => ({ name: d.metadata.name, spec: d.spec })),
      fns.map((f) => ({ name: f.metadata.name, spec: f.spec })),
    );
    for (const t of tenants) {
      const name = t.metadata.name;
      const keyCount = keys.filter((k) => k.spec.tenant === name && !k.spec.revoked).length;
      await svc.updateStatus('Tenant', name, (cur) => ({ ...cur.status, keys: keyCount, gpusInUse: gpus.get(name) ?? 0 }));
    }
  }

  /**
   * Create missing managed Deployments (and keep their spec.tenant equal to the Function's),
   * and delete managed ones that are no longer wanted. Returns, by Function, why some of its
   * Deployments were refused (GPU quota).
   */
  private async ensureDeployments(fns: readonly FunctionResource[], clusters: readonly ClusterResource[]): Promise<Map<string, string>> {
    const svc = this.o.service;
    const existing = (await svc.list('Deployment')).items;
    const byName = new Map<string, DeploymentResource>(existing.map((d) => [d.metadata.name, d]));
    const wanted = new Set<string>();
    const toCreate: Manifest<'Deployment'>[] = [];
    const toRestamp: Manifest<'Deployment'>[] = [];
    for (const fn of fns) {
      for (const m of desiredDeployments(fn, clusters)) {
        wanted.add(m.metadata.name);
        const cur = byName.get(m.metadata.name);
        if (!cur) toCreate.push(m);
        else if (cur.metadata.labels[LABEL_MANAGED_BY] === MANAGED_BY_RECONCILER && cur.spec.tenant !== fn.spec.tenant) {
          const { tenant: _old, ...rest } = cur.spec;
          toRestamp.push({ kind: 'Deployment', metadata: { name: cur.metadata.name, labels: cur.metadata.labels, annotations: cur.metadata.annotations, resourceVersion: cur.metadata.resourceVersion }, spec: { ...rest, ...(fn.spec.tenant ? { tenant: fn.spec.tenant } : {}) } });
        }
      }
    }
    const refused = new Map<string, string>();
    // Tenant-less creations go in one apply; a tenant's go one by one, so a GPU quota admits as many as fit.
    const plain = toCreate.filter((m) => !(m.spec as { tenant?: string }).tenant);
    if (plain.length > 0) {
      this.o.logger.info({ deployments: plain.map((m) => m.metadata.name) }, 'creating deployments');
      await svc.apply(plain, { actor: ACTOR, note: 'from Function.targetClusters' });
    }
    for (const m of [...toCreate.filter((x) => !plain.includes(x)), ...toRestamp]) {
      const fn = (m.spec as { function: string }).function;
      try {
        await svc.apply([m], { actor: ACTOR, note: toRestamp.includes(m) ? 'tenant from Function.tenant' : 'from Function.targetClusters' });
        this.o.logger.info({ deployment: m.metadata.name, tenant: (m.spec as { tenant?: string }).tenant }, toRestamp.includes(m) ? 'updated deployment tenant' : 'created deployment');
      } catch (e) {
        if (!(e instanceof SwitchyardError && (e.code === 'quota_exceeded' || e.code === 'conflict'))) throw e;
        if (e.code === 'quota_exceeded' && !refused.has(fn)) refused.set(fn, `Deployment '${m.metadata.name}' not created: ${e.message}`);
        if (e.code === 'quota_exceeded') this.o.logger.warn({ deployment: m.metadata.name, err: e.message }, 'deployment refused by GPU quota');
      }
    }
    for (const d of existing) {
      if (d.metadata.labels[LABEL_MANAGED_BY] !== MANAGED_BY_RECONCILER || wanted.has(d.metadata.name)) continue;
      this.o.logger.info({ deployment: d.metadata.name, function: d.metadata.labels[LABEL_FUNCTION] }, 'deleting deployment no longer targeted');
      await svc.delete('Deployment', d.metadata.name, { actor: ACTOR }).catch((e: unknown) => this.o.logger.warn({ err: e }, 'could not delete deployment'));
    }
    return refused;
  }
}
