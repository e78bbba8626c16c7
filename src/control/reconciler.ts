/**
 * The reconciler: level-triggered and idempotent. Each pass reads everything, then
 *  1. gives every Function one Deployment per matching cluster (and garbage-collects managed
 *     Deployments whose Function or cluster no longer matches),
 *  2. asks each Deployment's provider to converge to its target, and writes the replicas the
 *     provider reports into the Deployment's status (and a summary into the Function's),
 *  3. removes provider replicas that no Deployment owns any more.
 * Passes run after every store commit, every provider change and on a resync timer; they never
 * overlap (a request during a pass schedules one more pass). Restarting the control plane is
 * just another pass: providers adopt their running replicas and nothing is duplicated.
 */
import type { ClusterResource, DeploymentResource, FunctionResource } from '../api/index.js';
import type { Clock, TimerHandle } from '../core/index.js';
import type { Logger } from '../observability/index.js';
import type { ProviderRegistry } from './providers.js';
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
    await this.ensureDeployments(fns, clusters);
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
      await svc.updateStatus('Function', fn.metadata.name, (cur) => nextFunctionStatus({ prev: cur.status, deployments: mine, generation: cur.metadata.generation, now }));
    }
    this.passes++;
  }

  /** Create missing managed Deployments and delete managed ones that are no longer wanted. */
  private async ensureDeployments(fns: readonly FunctionResource[], clusters: readonly ClusterResource[]): Promise<void> {
    const svc = this.o.service;
    const existing = (await svc.list('Deployment')).items;
    const byName = new Map<string, DeploymentResource>(existing.map((d) => [d.metadata.name, d]));
    const wanted = new Set<string>();
    const toCreate = [];
    for (const fn of fns) {
      for (const m of desiredDeployments(fn, clusters)) {
        wanted.add(m.metadata.name);
        if (!byName.has(m.metadata.name)) toCreate.push(m);
      }
    }
    if (toCreate.length > 0) {
      this.o.logger.info({ deployments: toCreate.map((m) => m.metadata.name) }, 'creating deployments');
      await svc.apply(toCreate, { actor: ACTOR, note: 'from Function.targetClusters' });
    }
    for (const d of existing) {
      if (d.metadata.labels[LABEL_MANAGED_BY] !== MANAGED_BY_RECONCILER || wanted.has(d.metadata.name)) continue;
      this.o.logger.info({ deployment: d.metadata.name, function: d.metadata.labels[LABEL_FUNCTION] }, 'deleting deployment no longer targeted');
      await svc.delete('Deployment', d.metadata.name, { actor: ACTOR }).catch((e: unknown) => this.o.logger.warn({ err: e }, 'could not delete deployment'));
    }
  }
}
