/**
 * Tenant GPU quotas. A Deployment holds `gpu.count × desired replicas` GPUs of its Function
 * (0 while the Function is unknown) and counts against the Tenant named in its spec.tenant.
 * The admission check compares every tenant's total before and after an apply: an apply that
 * raises a tenant's total above its gpuQuota is refused (409 quota_exceeded). Lowering a quota
 * below the current use is allowed; it only stops further growth.
 */
import type { DeploymentSpec, FunctionSpec, Kind, TenantSpec } from '../api/index.js';
import { SwitchyardError } from '../core/index.js';
import type { AdmissionCheck, PendingWrite } from './resources.js';
import { desiredReplicas } from './targets.js';

interface Named<S> {
  readonly name: string;
  readonly spec: S;
}

/** GPUs one Deployment holds. */
export function deploymentGpus(dep: { readonly spec: DeploymentSpec }, fn: { readonly spec: FunctionSpec } | undefined): number {
  return fn ? fn.spec.resources.gpu.count * desiredReplicas(fn, dep) : 0;
}

/** GPUs held per tenant (Deployments without a tenant are not counted). */
export function gpusByTenant(deps: readonly Named<DeploymentSpec>[], fns: readonly Named<FunctionSpec>[]): Map<string, number> {
  const fnByName = new Map(fns.map((f) => [f.name, f]));
  const out = new Map<string, number>();
  for (const d of deps) {
    if (!d.spec.tenant) continue;
    out.set(d.spec.tenant, (out.get(d.spec.tenant) ?? 0) + deploymentGpus(d, fnByName.get(d.spec.function)));
  }
  return out;
}

/** The message of a refusal, e.g. `tenant 'acme' GPU quota exceeded: 6 GPUs in use + 4 requested > quota 8`. */
export function quotaMessage(tenant: string, inUse: number, requested: number, quota: number): string {
  return `tenant '${tenant}' GPU quota exceeded: ${inUse} GPUs in use + ${requested} requested > quota ${quota}; raise spec.gpuQuota of Tenant/${tenant}, or ask for fewer replicas or GPUs`;
}

/** Throws quota_exceeded when `after` raises a tenant's total above its quota. Pure. */
export function checkGpuQuotas(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>, quotas: ReadonlyMap<string, number | undefined>): void {
  for (const [tenant, total] of after) {
    const quota = quotas.get(tenant);
    const was = before.get(tenant) ?? 0;
    if (quota !== undefined && total > quota && total > was) {
      throw new SwitchyardError('quota_exceeded', quotaMessage(tenant, was, total - was, quota), { param: 'spec', detail: { tenant, inUse: was, requested: total - was, quota } });
    }
  }
}

const RELEVANT: ReadonlySet<Kind> = new Set(['Function', 'Deployment', 'Tenant']);

/** Current objects of a kind, with the pending writes of that kind laid over them. */
function overlay<S>(current: readonly Named<S>[], writes: readonly PendingWrite[], kind: Kind): Named<S>[] {
  const byName = new Map(current.map((o) => [o.name, o]));
  for (const w of writes) if (w.kind === kind) byName.set(w.name, { name: w.name, spec: w.spec as S });
  return [...byName.values()];
}

/** The admission check that enforces Tenant.spec.gpuQuota. */
export const gpuQuotaCheck: AdmissionCheck = async (writes, service) => {
  if (!writes.some((w) => RELEVANT.has(w.kind))) return;
  const named = <S>(items: readonly { metadata: { name: string }; spec: S }[]): Named<S>[] => items.map((r) => ({ name: r.metadata.name, spec: r.spec }));
  const fns = named((await service.list('Function')).items);
  const deps = named((await service.list('Deployment')).items);
  const tenants = named((await service.list('Tenant')).items);
  const before = gpusByTenant(deps, fns);
  const after = gpusByTenant(overlay(deps, writes, 'Deployment'), overlay(fns, writes, 'Function'));
  const quotas = new Map(overlay<TenantSpec>(tenants, writes, 'Tenant').map((t) => [t.name, t.spec.gpuQuota]));
  checkGpuQuotas(before, after, quotas);
};
