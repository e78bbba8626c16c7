import { describe, expect, it } from 'vitest';
import { validateManifests, type ClusterResource, type DeploymentResource, type FunctionResource } from '../api/index.js';
import { buildTarget, deploymentName, desiredDeployments, selects } from './targets.js';

const meta = (name: string, labels: Record<string, string> = {}) => ({ name, labels, annotations: {}, uid: 'u', resourceVersion: '1', generation: 1, creationTimestamp: 't', updateTimestamp: 't' });

function resource<T>(doc: Record<string, unknown>): T {
  const [m] = validateManifests([{ apiVersion: 'switchyard.dev/v1', ...doc }]);
  return { apiVersion: 'switchyard.dev/v1', kind: m!.kind, metadata: meta(m!.metadata.name, m!.metadata.labels), spec: m!.spec } as T;
}
const cluster = (name: string, labels: Record<string, string> = {}, spec: object = {}) => resource<ClusterResource>({ kind: 'Cluster', metadata: { name, labels }, spec: { provider: 'local', ...spec } });
const fn = (targetClusters: unknown[], spec: object = {}) => resource<FunctionResource>({ kind: 'Function', metadata: { name: 'llama' }, spec: { model: 'org/m', runtime: 'sim', targetClusters, ...spec } });

describe('cluster selection', () => {
  const east = cluster('east', { tier: 'gpu' }, { region: 'us-east-1', labels: { gpu: 'A100' } });
  it.each([
    ['by name', 'east', true],
    ['another name', 'west', false],
    ['by metadata label', { matchLabels: { tier: 'gpu' } }, true],
    ['by spec label', { matchLabels: { gpu: 'A100' } }, true],
    ['by region', { matchLabels: { region: 'us-east-1' } }, true],
    ['all labels must match', { matchLabels: { tier: 'gpu', gpu: 'H100' } }, false],
  ] as const)('%s', (_n, selector, want) => {
    expect(selects(selector, east)).toBe(want);
  });

  it('gives one Deployment per matching cluster, labelled as managed', () => {
    const ds = desiredDeployments(fn(['a', { matchLabels: { tier: 'gpu' } }]), [cluster('a'), cluster('b', { tier: 'gpu' }), cluster('c')]);
    expect(ds.map((d) => d.metadata.name)).toEqual(['llama-a', 'llama-b']);
    expect(ds[0]?.metadata.labels).toMatchObject({ 'switchyard.dev/function': 'llama', 'switchyard.dev/managed-by': 'reconciler' });
  });

  it('shortens long names with a hash, within 63 characters', () => {
    const name = deploymentName('f'.repeat(40), 'c'.repeat(40));
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^f+-c+-[0-9a-f]{8}$/);
    expect(deploymentName('f'.repeat(40), 'c'.repeat(40))).toBe(name);
  });
});

describe('buildTarget', () => {
  const dep = { apiVersion: 'switchyard.dev/v1', kind: 'Deployment', metadata: meta('llama-a'), spec: { function: 'llama', cluster: 'a' } } as DeploymentResource;
  it("uses the cluster's GPU for 'any', injected latency for sim, and a specHash that follows the spec", () => {
    const c = cluster('a', {}, { labels: { gpu: 'H100' }, latency: { injectMs: 20 } });
    const t = buildTarget(fn(['a']), dep, c);
    expect(t).toMatchObject({ deployment: 'llama-a', replicas: 1, gpu: { type: 'H100', count: 1 }, servedName: 'llama', sim: { speedup: 1, networkDelayMs: 20 } });
    expect(buildTarget(fn(['a']), dep, c).specHash).toBe(t.specHash);
    expect(buildTarget(fn(['a'], { args: ['--x'] }), dep, c).specHash).not.toBe(t.specHash);
    expect(buildTarget(fn(['a'], { scaling: { minReplicas: 3, maxReplicas: 3 } }), dep, c)).toMatchObject({ replicas: 3, specHash: t.specHash });
  });
  it('passes static endpoints of the served model', () => {
    const c = cluster('a', {}, { provider: 'static', static: { endpoints: [{ url: 'http://127.0.0.1:1', model: 'llama' }, { url: 'http://127.0.0.1:2', model: 'other' }] } });
    expect(buildTarget(fn(['a'], { runtime: 'vllm' }), dep, c).endpoints).toEqual(['http://127.0.0.1:1']);
  });
});
