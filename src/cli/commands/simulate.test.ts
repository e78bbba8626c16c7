/** `switchyard simulate` in-process, on the tiny trace fixture. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_PREFIX_SUMMARY_INTERVAL_MS } from '../../agent/index.js';
import { PREFIX_SUMMARY_MAX_BYTES } from '../../api/index.js';
import { DEFAULT_SUMMARY_REFRESH_MS } from '../../fleet/index.js';
import { DEFAULT_PREFIX_SUMMARY_MAX_BYTES } from '../../router/index.js';
import { runCliCaptured } from '../framework-testing.js';
import { simulateCommand } from './simulate.js';

const TRACE = fileURLToPath(new URL('../../fleet/testdata/tiny_trace.jsonl', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'sy-simulate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (...args: string[]) => runCliCaptured(['simulate', ...args], [simulateCommand]);

describe('switchyard simulate', () => {
  it('--json prints one object with the contract keys, the same for the same inputs', async () => {
    const args = ['--trace', TRACE, '--workers', '4', '--policy', 'round_robin', '--json', '--kv-capacity', '8192'];
    const r = await run(...args);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out).slice(0, 8)).toEqual(['hitRate', 'hitRateUpperBound', 'ttft', 'itl', 'throughputTokensPerS', 'imbalance', 'decisionP99Us', 'requests']);
    expect(Object.keys(out.ttft)).toEqual(['p50', 'p90', 'p99']);
    expect(Object.keys(out.itl)).toEqual(['p50', 'p90']);
    expect(out).toMatchObject({ requests: 40, completed: 40, rejected: 0, imbalance: 1 });
    expect(out.hitRate).toBeGreaterThan(0);
    expect(out.hitRate).toBeLessThanOrEqual(out.hitRateUpperBound);
    const again = JSON.parse((await run(...args)).stdout);
    delete out.decisionP99Us;
    delete again.decisionP99Us;
    expect(again).toEqual(out);
  });

  it('prints a labelled table that says it is a simulation; --limit and --rate-scale apply', async () => {
    const r = await run('--trace', TRACE, '--workers', '2', '--clusters', '2', '--cluster-policy', 'least_request', '--policy', 'consistent_hash', '--limit', '10', '--rate-scale', '0.5', '--gpu', 'H100');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^SIMULATION: /);
    expect(r.stdout).toContain('tiny_trace.jsonl: 10 requests arriving over 0.7 s (rate scale 0.5)');
    expect(r.stdout).toContain('2 × simulated H100 llama-3.1-8b in 2 clusters');
    expect(r.stdout).toContain('least_request picks the cluster, then consistent_hash the worker');
    for (const label of ['prefix-cache hit rate', 'upper bound (infinite cache)', 'TTFT p50 / p90 / p99', 'ITL p50 / p90', 'throughput', 'imbalance (max/mean)', 'router decision p99', 'requests'])
      expect(r.stdout).toContain(label);
    expect(r.stdout).toMatch(/requests\s+10 completed, 0 rejected/);
  });

  it('--cluster-kv summary: the cluster layer reads prefix summaries; --json adds clusterSummaries, the table a row', async () => {
    const base = ['--trace', TRACE, '--workers', '4', '--clusters', '2', '--cluster-policy', 'cluster_score', '--policy', 'default'];
    const r = await run(...base, '--cluster-kv', 'summary', '--summary-refresh', '500ms', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ requests: 40, completed: 40, clusterSummaries: { refreshMs: 500 } });
    expect(out.clusterSummaries.sent).toBeGreaterThan(0);
    expect(out.clusterSummaries.bytesMax).toBeGreaterThan(24);
    const exact = JSON.parse((await run(...base, '--cluster-kv', 'exact', '--json')).stdout);
    const plain = JSON.parse((await run(...base, '--json')).stdout);
    expect(exact.clusterSummaries).toBeUndefined();
    delete exact.decisionP99Us;
    delete plain.decisionP99Us;
    expect(exact).toEqual(plain);
    const table = await run(...base, '--cluster-kv', 'summary');
    expect(table.stdout).toContain('cluster_score picks the cluster (KV: prefix summaries rebuilt every 1000 ms), then default the worker');
    expect(table.stdout).toMatch(/cluster summaries\s+\d+ sent/);
  });

  it("the simulator's summaries use the agent's defaults (rebuild interval, size cap)", () => {
    expect(DEFAULT_SUMMARY_REFRESH_MS).toBe(DEFAULT_PREFIX_SUMMARY_INTERVAL_MS);
    expect(DEFAULT_PREFIX_SUMMARY_MAX_BYTES).toBe(PREFIX_SUMMARY_MAX_BYTES);
  });

  it('takes extra profiles from a config file', async () => {
    const file = path.join(dir, 'profiles.yaml');
    writeFileSync(file, 'listen: { port: 0 }\nprofiles:\n  short_prefix:\n    picker: { type: consistent_hash, params: { promptChars: 32 } }\n');
    const r = await run('--trace', TRACE, '--workers', '3', '--policy', 'short_prefix', '--profiles', file, '--json');
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ completed: 40 });
  });

  it('errors: a bad trace line is named, an unknown profile lists the known ones, misuse exits 2', async () => {
    const bad = path.join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"timestamp":0,"input_length":8,"output_length":2,"hash_ids":[1]}\n{"timestamp":1,"input_length":-8,"output_length":2,"hash_ids":[1]}\n');
    const r1 = await run('--trace', bad, '--workers', '2', '--policy', 'round_robin');
    expect(r1.code).toBe(1);
    expect(r1.stderr).toContain(`${bad}:2: input_length must be an integer >= 1, got -8`);
    const r2 = await run('--trace', TRACE, '--workers', '2', '--policy', 'nope');
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/unknown routing profile 'nope' for --policy; known: .*round_robin/);
    const r3 = await run('--trace', TRACE, '--workers', '2', '--policy', 'round_robin', '--cluster-policy', 'random');
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain('--cluster-policy needs --clusters 2 or more');
    const r4 = await run('--trace', TRACE, '--workers', '2', '--clusters', '2', '--policy', 'round_robin', '--cluster-kv', 'summary');
    expect(r4.code).toBe(2);
    expect(r4.stderr).toContain('--cluster-kv needs --cluster-policy');
    const r5 = await run('--trace', TRACE, '--workers', '2', '--clusters', '2', '--cluster-policy', 'random', '--policy', 'round_robin', '--summary-refresh', '2s');
    expect(r5.code).toBe(2);
    expect(r5.stderr).toContain('--summary-refresh needs --cluster-kv summary');
    expect((await run('--trace', TRACE, '--workers', '2', '--clusters', '2', '--cluster-policy', 'random', '--policy', 'round_robin', '--cluster-kv', 'fuzzy')).code).toBe(2);
    expect((await run('--workers', '2', '--policy', 'round_robin')).code).toBe(2);
  });

  it('--compare runs the simulator and a live replay (SIMULATED engines behind a real gateway) on the same trace', async () => {
    const r = await run('--trace', TRACE, '--workers', '2', '--policy', 'default', '--limit', '8', '--compare', '--speedup', '4', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['mode', 'tolerance', 'desRuns', 'diff', 'des', 'live']);
    expect(out).toMatchObject({ mode: 'compare', tolerance: 0.15, desRuns: 8 });
    expect(Object.keys(out.live).slice(0, 9)).toEqual(['hitRate', 'hitRateUpperBound', 'ttft', 'itl', 'throughputTokensPerS', 'imbalance', 'decisionP99Us', 'requests', 'mode']);
    expect(out.live).toMatchObject({ mode: 'live', requests: 8, completed: 8, rejected: 0, speedup: 4, gatewayScrapeIntervalMs: 250 });
    expect(out.des).toMatchObject({ requests: 8, completed: 8, rejected: 0 });
    expect(out.diff.hitRate).toMatchObject({ des: out.des.hitRate, live: out.live.hitRate });
    expect(out.diff.ttftP50).toMatchObject({ des: out.des.ttft.p50, live: out.live.ttft.p50 });
    expect(typeof out.diff.ttftP50.within).toBe('boolean');
  }, 30_000);

  it('--live prints a table labelled SIMULATED ENGINES', async () => {
    const r = await run('--trace', TRACE, '--workers', '2', '--policy', 'round_robin', '--limit', '4', '--live', '--speedup', '4');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('live replay of 4 requests on 2 simulated engines behind a real gateway');
    expect(r.stdout).toMatch(/^LIVE REPLAY on SIMULATED ENGINES: /);
    expect(r.stdout).toContain('round_robin in the gateway');
    for (const label of ['prefix-cache hit rate', 'TTFT p50 / p90 / p99', 'ITL p50 / p90', 'throughput', 'imbalance (max/mean)', 'router decision p99', 'machine kept up']) expect(r.stdout).toContain(label);
    expect(r.stdout).toMatch(/requests\s+4 completed, 0 failed/);
  }, 30_000);

  it('--live misuse exits 2 before starting anything', async () => {
    const base = ['--trace', TRACE, '--workers', '2', '--policy', 'round_robin'];
    const r1 = await run(...base, '--clusters', '2', '--cluster-policy', 'random', '--live');
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain('--cluster-policy is for the simulator only');
    const r2 = await run(...base, '--compare', '--speedup', '10', '--scrape-interval', '50ms');
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('the live gateway scrapes at most every 10 ms of real time');
    expect((await run(...base, '--live', '--compare')).code).toBe(2);
  });

  it('--help shows the usage and examples', async () => {
    const r = await run('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--rate-scale');
    expect(r.stdout).toContain('switchyard simulate --trace traces/mooncake/synthetic_trace.jsonl --workers 16 --policy round_robin');
  });
});
