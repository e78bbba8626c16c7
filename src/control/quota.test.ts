import { afterEach, describe, expect, it } from 'vitest';
import { validateManifests, type DeploymentSpec, type FunctionSpec } from '../api/index.js';
import { SwitchyardError, VirtualClock } from '../core/index.js';
import { SqliteStore } from '../store/index.js';
import { checkGpuQuotas, gpuQuotaCheck, gpusByTenant } from './quota.js';
import { ResourceService } from './resources.js';

const fnSpec = (gpus: number, minReplicas = 1): FunctionSpec =>
  validateManifests([{ apiVersion: 'switchyard.dev/v1', kind: 'Function', metadata: { name: 'x' }, spec: { model: 'org/m', runtime: 'sim', resources: { gpu: { count: gpus } }, scaling: { minReplicas, maxReplicas: Math.max(1, minReplicas) } } }])[0]!.spec as FunctionSpec;
const dep = (name: string, fn: string, tenant?: string, replicas?: number): { name: string; spec: DeploymentSpec } => ({ name, spec: { function: fn, cluster: 'c', ...(tenant ? { tenant } : {}), ...(replicas !== undefined ? { replicas } : {}) } });

describe('gpusByTenant', () => {
  it('sums gpu.count x desired replicas per tenant; no tenant or unknown Function counts nothing', () => {
    const fns = [{ name: 'big', spec: fnSpec(4, 2) }, { name: 'small', spec: fnSpec(1) }];
    const got = gpusByTenant([dep('a', 'big', 'acme'), dep('b', 'small', 'acme', 3), dep('c', 'big'), dep('d', 'ghost', 'acme'), dep('e', 'small', 'beta', 0)], fns);
    expect([...got]).toEqual([['acme', 8 + 3], ['beta', 0]]);
  });
});

describe('checkGpuQuotas', () => {
  const q = new Map([['acme', 8]]);
  it.each<[string, number, number, string | null]>([
    ['within the quota', 4, 8, null],
    ['beyond the quota', 6, 10, "tenant 'acme' GPU quota exceeded: 6 GPUs in use + 4 requested > quota 8"],
    ['already beyond (quota lowered) and shrinking', 12, 10, null],
    ['already beyond and unchanged', 12, 12, null],
    ['already beyond and growing', 12, 13, "tenant 'acme' GPU quota exceeded: 12 GPUs in use + 1 requested > quota 8"],
  ])('%s', (_what, before, after, message) => {
    const run = () => checkGpuQuotas(new Map([['acme', before]]), new Map([['acme', after]]), q);
    if (message === null) expect(run).not.toThrow();
    else expect(run).toThrow(message);
  });
  it('a tenant without a quota is unlimited', () => {
    expect(() => checkGpuQuotas(new Map(), new Map([['free', 1000]]), new Map([['free', undefined]]))).not.toThrow();
  });
});

describe('gpuQuotaCheck on ResourceService', () => {
  const stores: SqliteStore[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });
  const doc = (kind: string, name: string, spec: object) => ({ apiVersion: 'switchyard.dev/v1', kind, metadata: { name }, spec });

  it('refuses Deployment and Function writes that raise a tenant beyond its quota, dry runs included, and writes nothing', async () => {
    const store = await SqliteStore.open(':memory:');
    stores.push(store);
    const svc = new ResourceService(store, new VirtualClock());
    svc.addAdmissionCheck(gpuQuotaCheck);
    const apply = (dryRun: boolean, ...docs: object[]) => svc.apply(validateManifests(docs), { actor: { name: 't' }, dryRun });
    await apply(false, doc('Tenant', 'acme', { gpuQuota: 8 }), doc('Function', 'f', { model: 'org/m', runtime: 'sim', resources: { gpu: { count: 2 } } }));
    await apply(false, doc('Deployment', 'd1', { function: 'f', cluster: 'c', tenant: 'acme', replicas: 3 }));
    const rv = await store.currentRv();
    const tooMany = doc('Deployment', 'd2', { function: 'f', cluster: 'c', tenant: 'acme', replicas: 2 });
    for (const dryRun of [true, false]) {
      const e = await apply(dryRun, tooMany).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(SwitchyardError);
      expect(e).toMatchObject({ code: 'quota_exceeded', status: 409, message: expect.stringContaining("tenant 'acme' GPU quota exceeded: 6 GPUs in use + 4 requested > quota 8") });
    }
    // Raising the Function's GPUs is growth too.
    await expect(apply(false, doc('Function', 'f', { model: 'org/m', runtime: 'sim', resources: { gpu: { count: 4 } } }))).rejects.toMatchObject({ code: 'quota_exceeded' });
    expect(await store.currentRv()).toBe(rv);
    // One more replica fits; the quota and the Deployment in one apply are judged together.
    await apply(false, doc('Deployment', 'd2', { function: 'f', cluster: 'c', tenant: 'acme', replicas: 1 }));
    await apply(false, doc('Tenant', 'acme', { gpuQuota: 12 }), tooMany);
    expect((await svc.list('Deployment')).items.map((d) => d.spec.replicas)).toEqual([3, 2]);
  });
});
