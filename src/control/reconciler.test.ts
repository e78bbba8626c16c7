import { afterEach, describe, expect, it } from 'vitest';
import { validateManifests } from '../api/index.js';
import { VirtualClock } from '../core/index.js';
import { createNullLogger } from '../observability/index.js';
import type { DeploymentTarget, LogOptions, Provider, ReplicaStatus } from '../providers/index.js';
import { SqliteStore } from '../store/index.js';
import { ProviderRegistry } from './providers.js';
import { gpuQuotaCheck } from './quota.js';
import { Reconciler } from './reconciler.js';
import { ResourceService } from './resources.js';

/** A provider that "starts" replicas instantly and records what it was asked. */
class RecordingProvider implements Provider {
  readonly kind = 'local';
  readonly applied: DeploymentTarget[] = [];
  readonly removed: string[] = [];
  readonly running = new Map<string, DeploymentTarget>();
  async apply(t: DeploymentTarget): Promise<void> {
    this.applied.push(t);
    this.running.set(t.deployment, t);
  }
  async remove(d: string): Promise<void> {
    this.removed.push(d);
    this.running.delete(d);
  }
  status(d: string): ReplicaStatus[] {
    const t = this.running.get(d);
    return t ? Array.from({ length: t.replicas }, (_, i) => ({ index: i, id: `${d}-${i}`, state: 'ready' as const, endpoint: `http://127.0.0.1:${9000 + i}`, restarts: 0 })) : [];
  }
  deployments(): string[] {
    return [...this.running.keys()];
  }
  onChange(): () => void {
    return () => undefined;
  }
  async *logs(_d: string, _r: number, _o?: LogOptions): AsyncIterable<string> {}
  async close(): Promise<void> {}
}

const ACTOR = { name: 'test' };
const doc = (kind: string, name: string, spec: object, labels: Record<string, string> = {}) => ({ apiVersion: 'switchyard.dev/v1', kind, metadata: { name, labels }, spec });
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

async function setup() {
  const store = await SqliteStore.open(':memory:');
  stores.push(store);
  const clock = new VirtualClock();
  const service = new ResourceService(store, clock);
  service.addAdmissionCheck(gpuQuotaCheck);
  const provider = new RecordingProvider();
  const reconciler = new Reconciler({ service, providers: new ProviderRegistry([provider]), clock, logger: createNullLogger('t') });
  const apply = (...docs: object[]) => service.apply(validateManifests(docs), { actor: ACTOR });
  return { store, service, provider, reconciler, apply };
}

describe('Reconciler', () => {
  it('gives a Function one Deployment per matching cluster, runs them, and writes status', async () => {
    const { service, provider, reconciler, apply } = await setup();
    await apply(doc('Cluster', 'a', { provider: 'local' }, { gpu: 'yes' }), doc('Cluster', 'b', { provider: 'local' }, { gpu: 'yes' }), doc('Cluster', 'c', { provider: 'local' }));
    await apply(doc('Function', 'f', { model: 'org/m', runtime: 'sim', targetClusters: [{ matchLabels: { gpu: 'yes' } }], scaling: { minReplicas: 2, maxReplicas: 2 } }));
    await reconciler.reconcileNow();
    const deps = (await service.list('Deployment')).items;
    expect(deps.map((d) => d.metadata.name)).toEqual(['f-a', 'f-b']);
    expect(deps.every((d) => d.status?.phase === 'Ready' && d.status.readyReplicas === 2)).toBe(true);
    expect(provider.deployments().sort()).toEqual(['f-a', 'f-b']);
    expect((await service.get('Function', 'f')).status).toMatchObject({ readyReplicas: 4 });
  });

  it('is idempotent and garbage-collects Deployments no longer targeted, and replicas nobody owns', async () => {
    const { service, provider, reconciler, apply } = await setup();
    await apply(doc('Cluster', 'a', { provider: 'local' }), doc('Cluster', 'b', { provider: 'local' }));
    await apply(doc('Function', 'f', { model: 'org/m', runtime: 'sim', targetClusters: ['a', 'b'] }));
    await reconciler.reconcileNow();
    const rv = await service.store.currentRv();
    await reconciler.reconcileNow();
    expect(await service.store.currentRv()).toBe(rv); // nothing changed, nothing written
    await provider.apply({ ...provider.running.get('f-a')!, deployment: 'orphan' });
    await apply(doc('Function', 'f', { model: 'org/m', runtime: 'sim', targetClusters: ['a'] }));
    await reconciler.reconcileNow();
    expect((await service.list('Deployment')).items.map((d) => d.metadata.name)).toEqual(['f-a']);
    expect(provider.removed.sort()).toEqual(['f-b', 'orphan']);
  });

  it('reports why a Deployment cannot run', async () => {
    const { service, reconciler, apply } = await setup();
    await apply(doc('Cluster', 'k8s', { provider: 'kubernetes' }));
    await apply(doc('Function', 'f', { model: 'org/m', runtime: 'vllm', targetClusters: ['k8s'] }), doc('Deployment', 'manual', { function: 'ghost', cluster: 'k8s' }));
    await reconciler.reconcileNow();
    expect((await service.get('Deployment', 'f-k8s')).status).toMatchObject({ phase: 'Pending', conditions: expect.arrayContaining([expect.objectContaining({ message: expect.stringMatching(/provider 'kubernetes' is not available/) })]) });
    expect((await service.get('Deployment', 'manual')).status?.conditions.find((c) => c.type === 'Progressing')?.message).toMatch(/Function 'ghost' not found/);
  });

  it('a new reconciler over the same store re-applies the same targets (adoption, no duplicates)', async () => {
    const { service, provider, reconciler, apply } = await setup();
    await apply(doc('Cluster', 'a', { provider: 'local' }));
    await apply(doc('Function', 'f', { model: 'org/m', runtime: 'sim', targetClusters: ['a'] }));
    await reconciler.reconcileNow();
    const first = provider.applied.at(-1)!;
    const again = new Reconciler({ service, providers: new ProviderRegistry([provider]), clock: new VirtualClock(), logger: createNullLogger('t') });
    await again.reconcileNow();
    expect(provider.applied.at(-1)).toEqual(first);
    expect((await service.list('Deployment')).items.length).toBe(1);
  });

  it("stamps a Function's tenant on its Deployments, creates only what fits the tenant's GPU quota, and says why in the Function's status", async () => {
    const { service, reconciler, apply } = await setup();
    await apply(doc('Tenant', 'acme', { gpuQuota: 4 }));
    await apply(doc('Cluster', 'a', { provider: 'local' }), doc('Cluster', 'b', { provider: 'local' }), doc('Cluster', 'c', { provider: 'local' }));
    await apply(doc('Function', 'f', { model: 'org/m', runtime: 'sim', tenant: 'acme', resources: { gpu: { count: 2 } }, targetClusters: ['a', 'b', 'c'] }));
    await reconciler.reconcileNow();
    const deps = (await service.list('Deployment')).items;
    expect(deps.map((d) => [d.metadata.name, d.spec.tenant])).toEqual([['f-a', 'acme'], ['f-b', 'acme']]);
    const admitted = (await service.get('Function', 'f')).status?.conditions.find((c) => c.type === 'Admitted');
    expect(admitted).toMatchObject({ status: 'False', reason: 'QuotaExceeded', message: expect.stringContaining("Deployment 'f-c' not created: tenant 'acme' GPU quota exceeded: 4 GPUs in use + 2 requested > quota 4") });
    expect((await service.get('Tenant', 'acme')).status).toEqual({ keys: 0, gpusInUse: 4 });

    // More quota: the next pass creates the third one and the condition goes away.
    await apply(doc('Tenant', 'acme', { gpuQuota: 6 }));
    await reconciler.reconcileNow();
    expect((await service.list('Deployment')).items.map((d) => d.metadata.name)).toEqual(['f-a', 'f-b', 'f-c']);
    expect((await service.get('Function', 'f')).status?.conditions.map((c) => c.type)).toEqual(['Available']);
    expect((await service.get('Tenant', 'acme')).status?.gpusInUse).toBe(6);

    // Moving the Function to no tenant re-stamps its managed Deployments.
    await apply(doc('Function', 'f', { model: 'org/m', runtime: 'sim', resources: { gpu: { count: 2 } }, targetClusters: ['a', 'b', 'c'] }));
    await reconciler.reconcileNow();
    expect((await service.list('Deployment')).items.map((d) => d.spec.tenant)).toEqual([undefined, undefined, undefined]);
    expect((await service.get('Tenant', 'acme')).status?.gpusInUse).toBe(0);
  });
});
