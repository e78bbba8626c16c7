import { describe, expect, it } from 'vitest';
import { ManifestError, parseManifests, validateManifests } from './index.js';

const FN = `apiVersion: switchyard.dev/v1
kind: Function
metadata:
  name: llama-8b
  labels: {team: search}
spec:
  model: meta-llama/Llama-3.1-8B-Instruct
  runtime: sim
  resources:
    gpu: {type: A100, count: 1}
  targetClusters: [aws-us-east, {matchLabels: {tier: gpu}}]
`;

function errorOf(fn: () => unknown): ManifestError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ManifestError) return e;
    throw e;
  }
  throw new Error('expected a ManifestError');
}

describe('parseManifests', () => {
  it('validates a Function and fills defaults', () => {
    const [m] = parseManifests(FN, 'fn.yaml');
    expect(m?.kind).toBe('Function');
    expect(m?.metadata.name).toBe('llama-8b');
    expect(m?.spec).toMatchObject({ runtime: 'sim', scaling: { minReplicas: 1, maxReplicas: 1, metric: 'queue_depth' }, routing: { profile: 'default' }, resources: { tensorParallelSize: 1 } });
  });

  it.each([
    ['a wrong type', FN.replace('count: 1', 'count: two'), 'spec.resources.gpu.count', /expected a number, got 'two'/, 10],
    ['an unknown field', FN.replace('  runtime: sim', '  runtime: sim\n  replcas: 2'), 'spec.replcas', /unknown field 'replcas'/, 9],
    ['a missing field', FN.replace('  runtime: sim\n', ''), 'spec.runtime', /missing required field/, undefined],
    ['a bad enum', FN.replace('runtime: sim', 'runtime: vlm'), 'spec.runtime', /expected one of 'vllm'/, 8],
    ['a bad name', FN.replace('name: llama-8b', 'name: Llama_8B'), 'metadata.name', /lower-case/, 4],
    ['a bad kind', FN.replace('kind: Function', 'kind: Functon'), 'kind', /expected one of 'Function'/, undefined],
    ['min > max replicas', FN + '  scaling: {minReplicas: 3, maxReplicas: 2}\n', 'spec.scaling.minReplicas', /must not exceed maxReplicas/, undefined],
  ])('rejects %s, naming the path', (_what, text, path, message, line) => {
    const err = errorOf(() => parseManifests(text, 'fn.yaml'));
    const issue = err.documents[0]?.issues.find((i) => i.path === path);
    expect(issue, err.message).toBeDefined();
    expect(issue?.message).toMatch(message);
    if (line !== undefined) expect(issue?.line).toBe(line);
    expect(err.message).toContain('nothing was applied');
    expect(err.status).toBe(400);
  });

  it('suggests close matches for unknown fields and kinds', () => {
    expect(errorOf(() => parseManifests(FN.replace('  runtime: sim', '  runtime: sim\n  servedNme: x'))).message).toMatch(/did you mean 'servedName'/);
    expect(errorOf(() => parseManifests(FN.replace('kind: Function', 'kind: Functon'))).message).toMatch(/did you mean 'Function'/);
  });

  it('reports every bad document of a multi-document file and returns nothing', () => {
    const text = `${FN}---\n${FN.replace('llama-8b', 'other').replace('runtime: sim', 'runtime: 7')}---\napiVersion: v1\nkind: Cluster\n`;
    const err = errorOf(() => parseManifests(text, 'all.yaml'));
    expect(err.documents.map((d) => d.index)).toEqual([1, 2]);
    expect(err.documents[0]?.label).toBe('all.yaml (document 2 Function/other)');
    expect(err.documents[1]?.issues[0]?.path).toBe('apiVersion');
  });

  it('rejects duplicates within one file', () => {
    const err = errorOf(() => parseManifests(`${FN}---\n${FN}`, 'dup.yaml'));
    expect(err.message).toMatch(/Function\/llama-8b is also defined in document 1/);
  });

  it('validates Clusters and Deployments, with cross-field rules', () => {
    const ok = validateManifests([
      { apiVersion: 'switchyard.dev/v1', kind: 'Cluster', metadata: { name: 'rack' }, spec: { provider: 'static', static: { endpoints: [{ url: 'http://127.0.0.1:9000', model: 'm' }] } } },
      { apiVersion: 'switchyard.dev/v1', kind: 'Deployment', metadata: { name: 'm-rack' }, spec: { function: 'm', cluster: 'rack', replicas: 2 } },
    ]);
    expect(ok.map((m) => m.kind)).toEqual(['Cluster', 'Deployment']);
    const err = errorOf(() => validateManifests([{ apiVersion: 'switchyard.dev/v1', kind: 'Cluster', metadata: { name: 'rack' }, spec: { provider: 'static' } }]));
    expect(err.documents[0]?.issues[0]).toMatchObject({ path: 'spec.static' });
  });

  it('accepts server-owned metadata and status so get -o yaml round-trips', () => {
    const [m] = validateManifests([{ apiVersion: 'switchyard.dev/v1', kind: 'Cluster', metadata: { name: 'x', uid: 'u', generation: 3, resourceVersion: '12', creationTimestamp: 't' }, spec: { provider: 'local' }, status: { health: 'Healthy' } }]);
    expect(m?.metadata.resourceVersion).toBe('12');
  });
});
