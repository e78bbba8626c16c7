import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ageOf, clusterTable, deploymentTable, formatAge, functionTable, gpuSummary, listText, renderResources, renderTable, shortDate, targetsText, toYaml } from './output.js';
import { NOW, sampleCluster, sampleDeployment, sampleFunction } from './test-support.js';

describe('renderTable', () => {
  it('pads every column to its widest cell, 3 spaces apart, without trailing spaces', () => {
    const out = renderTable({ headers: ['NAME', 'PHASE', 'AGE'], rows: [['a', 'Ready', '5s'], ['longer-name', 'Pending', '3m']] });
    expect(out).toBe(['NAME          PHASE     AGE', 'a             Ready     5s', 'longer-name   Pending   3m', ''].join('\n'));
  });

  it('handles short rows, an empty last cell and non-ASCII text', () => {
    const out = renderTable({ headers: ['A', 'B', 'C'], rows: [['µs', 'x'], ['1', '2', '']] });
    expect(out.split('\n')).toEqual(['A    B   C', 'µs   x', '1    2', '']);
  });

  it('headers only', () => {
    expect(renderTable({ headers: ['NAME', 'AGE'], rows: [] })).toBe('NAME   AGE\n');
  });
});

describe('formatAge', () => {
  it.each([
    [0, '0s'],
    [-5_000, '0s'],
    [999, '0s'],
    [5_000, '5s'],
    [59_999, '59s'],
    [60_000, '1m'],
    [3 * 60_000 + 59_000, '3m'],
    [2 * 3_600_000, '2h'],
    [23 * 3_600_000 + 59 * 60_000, '23h'],
    [4 * 86_400_000, '4d'],
    [400 * 86_400_000, '1y'],
    [Number.NaN, '<unknown>'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatAge(ms)).toBe(text);
  });

  it('ageOf reads ISO timestamps; missing or bad ones show a placeholder', () => {
    expect(ageOf(new Date(NOW - 90_000).toISOString(), NOW)).toBe('1m');
    expect(ageOf(undefined, NOW, '<never>')).toBe('<never>');
    expect(ageOf('yesterday', NOW)).toBe('<unknown>');
  });

  it('shortDate', () => {
    expect(shortDate('2026-01-01T10:00:00.123Z')).toBe('2026-01-01 10:00:00Z');
    expect(shortDate('not a date')).toBe('not a date');
  });
});

describe('cells', () => {
  it('gpuSummary sums over nodes and marks simulated inventories', () => {
    const node = (gpus: [string, number][]) => ({ name: 'n', cpus: 1, memoryBytes: 1, source: 'declared' as const, gpus: gpus.map(([type, count]) => ({ type, count, memoryMiB: 1, inUse: 0 })) });
    expect(gpuSummary([node([['A100', 8]])])).toBe('8xA100');
    expect(gpuSummary([node([['A100', 4], ['L4', 2]]), node([['A100', 4]])], true)).toBe('8xA100,2xL4 (simulated)');
    expect(gpuSummary([])).toBe('-');
  });

  it('targetsText and listText', () => {
    expect(targetsText(['a', { matchLabels: { region: 'eu', tier: 'gpu' } }])).toBe('a,{region=eu,tier=gpu}');
    expect(targetsText([])).toBe('<none>');
    expect(listText(['a', 'b', 'c', 'd'])).toBe('a,b +2 more');
    expect(listText([])).toBe('<none>');
  });
});

describe('per-kind rows', () => {
  it('Function: NAME RUNTIME MODEL GPUS REPLICAS TARGETS READY AGE', () => {
    const t = functionTable([sampleFunction()], { nowMs: NOW });
    expect(t.headers).toEqual(['NAME', 'RUNTIME', 'MODEL', 'GPUS', 'REPLICAS', 'TARGETS', 'READY', 'AGE']);
    expect(t.rows).toEqual([['llama-8b', 'vllm', 'meta-llama/Llama-3.1-8B-Instruct', '1xA100', '1-4', 'gpu-east,{region=eu}', '2', '2h']]);
    expect(functionTable([sampleFunction()], { nowMs: NOW, wide: true }).rows[0]!.slice(8)).toEqual(['llama-8b', 'default', 'llama-8b-gpu-east']);
  });

  it('Deployment: NAME FUNCTION CLUSTER PHASE READY ENDPOINTS AGE', () => {
    const t = deploymentTable([sampleDeployment()], { nowMs: NOW });
    expect(t.headers).toEqual(['NAME', 'FUNCTION', 'CLUSTER', 'PHASE', 'READY', 'ENDPOINTS', 'AGE']);
    expect(t.rows).toEqual([['llama-8b-gpu-east', 'llama-8b', 'gpu-east', 'Degraded', '2/3', 'http://127.0.0.1:9001,http://127.0.0.1:9002', '3d']]);
    expect(deploymentTable([sampleDeployment()], { nowMs: NOW, wide: true }).rows[0]!.slice(7)).toEqual(['-', '4', 'llama-8b', 'ready,ready,starting']);
  });

  it('Deployment without status yet', () => {
    const d = { ...sampleDeployment(), status: undefined, spec: { function: 'f', cluster: 'c', replicas: 2 } };
    expect(deploymentTable([d], { nowMs: NOW }).rows[0]).toEqual(['llama-8b-gpu-east', 'f', 'c', 'Pending', '0/2', '<none>', '3d']);
  });

  it('Cluster: NAME PROVIDER REGION HEALTH GPUS LAST-HEARTBEAT AGE, simulated marked', () => {
    const t = clusterTable([sampleCluster('sim-a', true), sampleCluster('real-b', false)], { nowMs: NOW });
    expect(t.headers).toEqual(['NAME', 'PROVIDER', 'REGION', 'HEALTH', 'GPUS', 'LAST-HEARTBEAT', 'AGE']);
    expect(t.rows).toEqual([
      ['sim-a', 'local', 'us-east', 'Healthy', '8xA100 (simulated)', '5s', '4d'],
      ['real-b', 'local', 'us-east', 'Healthy', '8xA100', '5s', '4d'],
    ]);
    expect(clusterTable([sampleCluster()], { nowMs: NOW, wide: true }).rows[0]!.slice(7)).toEqual(['1', '1/2 healthy', '0.1.0', '']);
    const fresh = { ...sampleCluster('new'), status: undefined };
    expect(clusterTable([fresh], { nowMs: NOW }).rows[0]).toEqual(['new', 'local', 'us-east', 'Unknown', '-', '<never>', '4d']);
  });

  it('renders a whole table for a kind', () => {
    const out = renderResources('Cluster', [sampleCluster()], 'table', { nowMs: NOW, single: false });
    expect(out).toBe(['NAME       PROVIDER   REGION    HEALTH    GPUS                 LAST-HEARTBEAT   AGE', 'gpu-east   local      us-east   Healthy   8xA100 (simulated)   5s               4d', ''].join('\n'));
  });
});

describe('YAML and JSON', () => {
  it('one YAML document per resource, parseable back', () => {
    const text = toYaml([sampleFunction('a'), sampleFunction('b')]);
    const docs = parseAllDocuments(text);
    expect(Array.isArray(docs) && docs.map((d) => (d.toJS() as { metadata: { name: string } }).metadata.name)).toEqual(['a', 'b']);
    expect(text).toContain('---\n');
  });

  it('JSON: the object for one, a List for many', () => {
    expect(JSON.parse(renderResources('Function', [sampleFunction()], 'json', { nowMs: NOW, single: true }))).toMatchObject({ kind: 'Function' });
    expect(JSON.parse(renderResources('Function', [sampleFunction()], 'json', { nowMs: NOW, single: false }))).toMatchObject({ kind: 'FunctionList', items: [{ kind: 'Function' }] });
  });
});
