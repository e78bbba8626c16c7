/**
 * Pure helpers of the reconciler: which clusters a Function targets, the Deployments it
 * should have, and the provider target of a Deployment.
 */
import { createHash } from 'node:crypto';
import { clusterLabels, servedNameOf, type ClusterResource, type ClusterSelector, type DeploymentResource, type DeploymentSpec, type FunctionResource, type FunctionSpec, type Manifest } from '../api/index.js';
import type { DeploymentTarget } from '../providers/index.js';

export const LABEL_FUNCTION = 'switchyard.dev/function';
export const LABEL_CLUSTER = 'switchyard.dev/cluster';
export const LABEL_MANAGED_BY = 'switchyard.dev/managed-by';
export const MANAGED_BY_RECONCILER = 'reconciler';

export function selects(selector: ClusterSelector, c: ClusterResource): boolean {
  if (typeof selector === 'string') return selector === c.metadata.name;
  const labels = clusterLabels(c);
  return Object.entries(selector.matchLabels).every(([k, v]) => labels[k] === v);
}

/** Deployment name for (function, cluster): `<function>-<cluster>`, shortened with a hash to fit 63 characters. */
export function deploymentName(fn: string, cluster: string): string {
  const name = `${fn}-${cluster}`;
  if (name.length <= 63) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, 54).replace(/-+$/, '')}-${hash}`;
}

/** The Deployments a Function should have, one per matching cluster. */
export function desiredDeployments(fn: FunctionResource, clusters: readonly ClusterResource[]): Manifest<'Deployment'>[] {
  const matched = clusters.filter((c) => fn.spec.targetClusters.some((s) => selects(s, c)));
  return matched.map((c) => ({
    kind: 'Deployment' as const,
    metadata: {
      name: deploymentName(fn.metadata.name, c.metadata.name),
      labels: { [LABEL_FUNCTION]: fn.metadata.name, [LABEL_CLUSTER]: c.metadata.name, [LABEL_MANAGED_BY]: MANAGED_BY_RECONCILER },
    },
    spec: { function: fn.metadata.name, cluster: c.metadata.name, ...(fn.spec.tenant ? { tenant: fn.spec.tenant } : {}) },
  }));
}

/** Desired replicas: the Deployment's own count, else the Function's minReplicas (at least 1 until the autoscaler exists). */
export function desiredReplicas(fn: { readonly spec: Pick<FunctionSpec, 'scaling'> }, dep: { readonly spec: Pick<DeploymentSpec, 'replicas'> }): number {
  return dep.spec.replicas ?? Math.max(1, fn.spec.scaling.minReplicas);
}

export function buildTarget(fn: FunctionResource, dep: DeploymentResource, cluster: ClusterResource): DeploymentTarget {
  const s = fn.spec;
  const base = {
    cluster: cluster.metadata.name,
    function: fn.metadata.name,
    servedName: servedNameOf(fn.metadata.name, s),
    model: s.model,
    runtime: s.runtime,
    gpu: { type: s.resources.gpu.type === 'any' ? (clusterLabels(cluster).gpu ?? 'A100') : s.resources.gpu.type, count: s.resources.gpu.count },
    tensorParallelSize: s.resources.tensorParallelSize,
    ...(s.resources.maxModelLen !== undefined ? { maxModelLen: s.resources.maxModelLen } : {}),
    ...(s.quantization !== undefined ? { quantization: s.quantization } : {}),
    args: s.args,
    env: s.env,
    ...(s.command !== undefined ? { command: s.command } : {}),
    ...(s.runtime === 'sim' ? { sim: { speedup: s.sim?.speedup ?? 1, ...(cluster.spec.latency.injectMs ? { networkDelayMs: cluster.spec.latency.injectMs } : {}) } } : {}),
    ...(cluster.spec.static ? { endpoints: cluster.spec.static.endpoints.filter((e) => e.model === servedNameOf(fn.metadata.name, s) || e.model === fn.metadata.name).map((e) => e.url) } : {}),
  };
  const specHash = createHash('sha256').update(JSON.stringify(base)).digest('hex').slice(0, 16);
  return { deployment: dep.metadata.name, replicas: desiredReplicas(fn, dep), ...base, specHash };
}
