/** `switchyard simulate`: replay a request trace against a SIMULATED fleet routed by the gateway's router. */
import { basename } from 'node:path';
import { z } from 'zod';
import { loadConfig } from '../../config/index.js';
import { MODEL_ARCHS } from '../../engines/index.js';
import { FleetSimulator, loadMooncakeTrace, prepareTrace, type SimulationMetrics, type SimulationResult } from '../../fleet/index.js';
import { BUILTIN_PROFILES } from '../../router/index.js';
import { defineCommand, UsageError } from '../framework.js';
import { renderTable } from '../output.js';

const ProfilesFile = z.object({ profiles: z.unknown().optional() });

export const simulateCommand = defineCommand({
  name: 'simulate',
  summary: 'Replay a request trace against a SIMULATED fleet routed by the gateway router (no GPUs)',
  description: [
    'A discrete-event simulation: --workers simulated vLLM engines (continuous batching, paged KV cache with',
    'prefix caching and LRU eviction, roofline step times of the chosen GPU) on one virtual clock, with the',
    "gateway's own router, profiles and plugins picking a worker for every request from the engines' load",
    '(in flight, running, waiting, KV usage). Nothing is served and no time passes: a 4,000-request trace',
    'runs in seconds, and the same inputs always give the same numbers.',
    '',
    'The trace is Mooncake JSON Lines: {"timestamp": ms, "input_length": n, "output_length": n, "hash_ids": [..]}',
    'where each hash id names a 512-token prompt block (equal ids = equal tokens). Each id becomes a fixed',
    'block of token ids, so prompts that share blocks share a prefix the engines can cache.',
    '',
    'Reported: token-weighted prefix-cache hit rate and its infinite-cache upper bound, TTFT and inter-token',
    'latency percentiles (simulated ms), output throughput (tokens/s of simulated time), load imbalance',
    '(max/mean per worker) and the p99 real CPU time of one routing decision.',
    '',
    'KV capacity per worker defaults to what vLLM would allocate for --arch on --gpu (about 415k tokens for',
    'Llama-3.1-8B on an 80 GB GPU); engine blocks are 512 tokens (the trace block size) unless --block-size.',
  ].join('\n'),
  flags: {
    trace: { type: 'string', required: true, description: 'Mooncake-format trace (JSON Lines)', placeholder: 'file' },
    workers: { type: 'int', required: true, min: 1, max: 4096, description: 'Number of simulated workers (engines), spread over the clusters', placeholder: 'n' },
    clusters: { type: 'int', default: 1, min: 1, max: 4096, description: 'Number of clusters; workers carry the label cluster=c<i>', placeholder: 'n' },
    policy: { type: 'string', required: true, description: `Routing profile that picks the worker: ${Object.keys(BUILTIN_PROFILES).join(', ')}, or one from --profiles`, placeholder: 'profile' },
    'cluster-policy': { type: 'string', description: 'Two-layer routing: this profile picks the cluster, then --policy the worker in it (needs --clusters >= 2)', placeholder: 'profile' },
    profiles: { type: 'string', description: "YAML/JSON file whose 'profiles:' mapping adds routing profiles (a gateway config works)", placeholder: 'file' },
    gpu: { type: 'enum', values: ['A100', 'H100', 'L4'], default: 'A100', description: 'GPU profile of every worker' },
    arch: { type: 'enum', values: Object.keys(MODEL_ARCHS), default: 'llama-3.1-8b', description: 'Model architecture (step times, KV bytes per token)' },
    'tensor-parallel-size': { type: 'int', default: 1, min: 1, max: 8, description: 'GPUs per worker (1, 2, 4 or 8)' },
    'block-size': { type: 'int', default: 512, min: 1, max: 4096, description: 'Engine KV block size in tokens (16 = vLLM default; slower to simulate)' },
    'kv-capacity': { type: 'int', min: 1, description: 'KV cache capacity per worker in tokens (default: computed from --gpu and --arch)', placeholder: 'tokens' },
    'max-num-seqs': { type: 'int', min: 1, description: 'Maximum requests in a batch (default 256)' },
    'max-num-batched-tokens': { type: 'int', min: 1, description: 'Token budget per engine step (default: 8192 on A100/H100, 2048 on L4)' },
    'max-model-len': { type: 'int', min: 1, description: 'Context limit; longer requests are rejected (default: the longest trace request)' },
    'trace-block-size': { type: 'int', default: 512, min: 1, description: 'Tokens per hash id in the trace' },
    'rate-scale': { type: 'number', default: 1, min: 1e-9, description: 'Multiply arrival times: 0.5 replays twice as fast', placeholder: 'x' },
    limit: { type: 'int', min: 1, description: 'Replay only the first N requests', placeholder: 'n' },
    seed: { type: 'int', default: 0, description: 'Seed for routing randomness, padding and output tokens' },
    'scrape-interval': { type: 'duration', default: 0, description: 'Sample engine load every interval like the gateway scraper (0 = exact load at every decision)' },
    json: { type: 'bool', description: 'Print one JSON object instead of the table' },
  },
  examples: [
    'switchyard simulate --trace traces/mooncake/synthetic_trace.jsonl --workers 16 --policy round_robin',
    'switchyard simulate --trace trace.jsonl --workers 16 --policy consistent_hash --json',
    'switchyard simulate --trace trace.jsonl --workers 8 --policy default --gpu H100 --rate-scale 0.5 --limit 1000',
    'switchyard simulate --trace trace.jsonl --workers 16 --clusters 2 --cluster-policy least_request --policy consistent_hash',
    'switchyard simulate --trace trace.jsonl --workers 16 --policy my_profile --profiles gateway.yaml --kv-capacity 200000',
  ],
  async run({ flags, io, signal }) {
    if (flags.clusterPolicy !== undefined && flags.clusters < 2) throw new UsageError('--cluster-policy needs --clusters 2 or more', 'cluster-policy');
    if (flags.clusters > flags.workers) throw new UsageError(`--clusters (${flags.clusters}) cannot exceed --workers (${flags.workers})`, 'clusters');
    const profiles = flags.profiles === undefined ? undefined : loadConfig(ProfilesFile, { file: flags.profiles }).profiles;
    const raw = await loadMooncakeTrace(flags.trace);
    const trace = prepareTrace(raw, { rateScale: flags.rateScale, ...(flags.limit === undefined ? {} : { limit: flags.limit }) });
    const sim = new FleetSimulator({
      trace,
      workers: flags.workers,
      clusters: flags.clusters,
      policy: flags.policy,
      ...(flags.clusterPolicy === undefined ? {} : { clusterPolicy: flags.clusterPolicy }),
      ...(profiles === undefined ? {} : { profiles }),
      gpu: flags.gpu,
      arch: flags.arch,
      tensorParallelSize: flags.tensorParallelSize,
      blockSize: flags.blockSize,
      ...(flags.kvCapacity === undefined ? {} : { kvCapacityTokens: flags.kvCapacity }),
      ...(flags.maxNumSeqs === undefined ? {} : { maxNumSeqs: flags.maxNumSeqs }),
      ...(flags.maxNumBatchedTokens === undefined ? {} : { maxNumBatchedTokens: flags.maxNumBatchedTokens }),
      ...(flags.maxModelLen === undefined ? {} : { maxModelLen: flags.maxModelLen }),
      traceBlockSize: flags.traceBlockSize,
      seed: flags.seed,
      scrapeIntervalMs: flags.scrapeInterval,
    });
    const result = await sim.runAsync({ signal });
    if (result === undefined) {
      io.stderr('switchyard simulate: interrupted\n');
      return 130;
    }
    if (flags.json) io.stdout(`${JSON.stringify(jsonOf(result.metrics))}\n`);
    else io.stdout(renderReport(result, { trace: flags.trace, rateScale: flags.rateScale }));
    return 0;
  },
});

/** The --json object: the eight contract keys first, then the extras. */
function jsonOf(m: SimulationMetrics): SimulationMetrics {
  const { hitRate, hitRateUpperBound, ttft, itl, throughputTokensPerS, imbalance, decisionP99Us, requests, ...rest } = m;
  return { hitRate, hitRateUpperBound, ttft, itl, throughputTokensPerS, imbalance, decisionP99Us, requests, ...rest };
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const ms = (x: number): string => (Number.isNaN(x) ? '-' : x >= 100 ? x.toFixed(0) : x.toFixed(1));
const int = (x: number): string => Math.round(x).toLocaleString('en-US');

export function renderReport(r: SimulationResult, info: { trace: string; rateScale: number }): string {
  const m = r.metrics;
  const c = r.config;
  const trace = c.trace;
  const span = (trace[trace.length - 1]!.timestampMs - trace[0]!.timestampMs) / 1000;
  const routing = c.clusterPolicy === undefined ? `${c.policy} (one decision over all workers)` : `${c.clusterPolicy} picks the cluster, then ${c.policy} the worker`;
  const lines = [
    "SIMULATION: simulated engines on a virtual clock (no GPU, nothing served); latencies are simulated time.",
    `trace      ${basename(info.trace)}: ${trace.length} requests arriving over ${span.toFixed(1)} s (rate scale ${info.rateScale})`,
    `fleet      ${c.workers} × simulated ${c.gpu} ${c.model} in ${c.clusters} cluster${c.clusters === 1 ? '' : 's'}; KV ${int(c.kvCapacityTokens)} tokens/worker (${c.engine.numGpuBlocks} blocks of ${c.engine.blockSize})`,
    `routing    ${routing}`,
    '',
  ].join('\n');
  const table = renderTable({
    headers: ['METRIC', 'VALUE'],
    rows: [
      ['prefix-cache hit rate', `${pct(m.hitRate)} of prompt tokens`],
      ['  upper bound (infinite cache)', pct(m.hitRateUpperBound)],
      ['TTFT p50 / p90 / p99', `${ms(m.ttft.p50)} / ${ms(m.ttft.p90)} / ${ms(m.ttft.p99)} ms`],
      ['ITL p50 / p90', `${ms(m.itl.p50)} / ${ms(m.itl.p90)} ms`],
      ['throughput', `${int(m.throughputTokensPerS)} output tokens/s (simulated)`],
      ['imbalance (max/mean)', `${m.imbalance.toFixed(2)} requests, ${m.imbalanceTokens.toFixed(2)} tokens`],
      ['router decision p99', `${m.decisionP99Us.toFixed(1)} µs (real CPU time)`],
      ['requests', `${m.completed} completed, ${m.rejected} rejected, ${m.preemptions} preemptions`],
      ['time', `${m.simulatedSeconds.toFixed(1)} s simulated in ${(r.wallMs / 1000).toFixed(1)} s`],
    ],
  });
  return `${lines}\n${table}`;
}
