/**
 * `switchyard simulate`: replay a request trace against a SIMULATED fleet routed by the gateway's
 * router — on the discrete-event simulator (src/fleet), or with --live through a real in-process
 * gateway to `worker sim` engines (src/replay), or both with --compare.
 */
import { basename } from 'node:path';
import { z } from 'zod';
import { loadConfig } from '../../config/index.js';
import { MODEL_ARCHS } from '../../engines/index.js';
import { compileSimulatorOptions, FleetSimulator, loadMooncakeTrace, prepareTrace, type CompiledSimulator, type SimulationMetrics, type SimulationResult, type SimulatorOptions, type TraceRequest } from '../../fleet/index.js';
import { BUILTIN_PROFILES } from '../../router/index.js';
import { defineCommand, UsageError } from '../framework.js';
import { AGREEMENT_TOLERANCE, compareRuns, meanMetrics, replicaOptions, runLiveReplay, useGatewayLoadView, type Agreement, type Comparison, type LiveReplayResult } from '../../replay/index.js';
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
    '',
    '--live replays the trace for real instead: --workers `worker sim` HTTP engines (the SAME simulated engine',
    'model and settings, on a clock --speedup times faster than real time) behind a real in-process gateway',
    '(router, load scraping, exact KV index fed by the engines\' ZMQ KV events), all on 127.0.0.1. Each request',
    'is sent at its trace time / speedup as a streaming /v1/completions of the prompt\'s token ids; TTFT and',
    'inter-token gaps are measured at the client and converted to simulated time (× speedup). The engines are',
    'still simulators: only the gateway, HTTP/SSE and ZMQ path is real. Per-request HTTP and JSON cost (tens of',
    'ms of real time for prompts of ~10k tokens on a small machine) and timer lateness are multiplied by the',
    'speedup, so keep it low (1 = real time; below 1 is slow motion) when latencies matter.',
    '',
    '--compare runs both on the same trace and prints the relative differences of hit rate and TTFT p50; the',
    "simulator then sees load as the gateway does: sampled every --scrape-interval (default 1s), and only vLLM's",
    "running / waiting / KV usage (not the engines' exact pending prefill tokens and block counts). It runs",
    '--des-runs simulations with other seeds and scrape phases (what a live run cannot pin) and compares with',
    'their mean.',
  ].join('\n'),
  flags: {
    trace: { type: 'string', required: true, description: 'Mooncake-format trace (JSON Lines)', placeholder: 'file' },
    workers: { type: 'int', required: true, min: 1, max: 4096, description: 'Number of simulated workers (engines), spread over the clusters', placeholder: 'n' },
    clusters: { type: 'int', default: 1, min: 1, max: 4096, description: 'Number of clusters; workers carry the label cluster=c<i>', placeholder: 'n' },
    policy: { type: 'string', required: true, description: `Routing profile that picks the worker: ${Object.keys(BUILTIN_PROFILES).join(', ')}, or one from --profiles`, placeholder: 'profile' },
    'cluster-policy': { type: 'string', description: 'Two-layer routing: this profile picks the cluster, then --policy the worker in it (needs --clusters >= 2)', placeholder: 'profile' },
    'cluster-kv': {
      type: 'enum',
      values: ['exact', 'summary'],
      description: "With --cluster-policy: what the cluster layer knows of the clusters' KV caches: exact (default: the fleet's exact index) or summary (each cluster's prefix summary, rebuilt like its agent would every --summary-refresh and stale in between, as the gateway's routing.clusterKv: summary)",
    },
    'summary-refresh': { type: 'duration', description: 'With --cluster-kv summary: rebuild the summaries every interval of simulated time (default 1s, the agent interval)', placeholder: 'duration' },
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
    'scrape-interval': {
      type: 'duration',
      description: 'Sample engine load every interval of simulated time like the gateway scraper. Simulator default 0 (exact load at every decision); with --live / --compare default 1s, the live gateway scraping every interval / speedup of real time',
      placeholder: 'duration',
    },
    live: { type: 'bool', description: 'Replay through a real in-process gateway to `worker sim` engines (SIMULATED engines; real router, HTTP and ZMQ path)' },
    compare: { type: 'bool', description: 'Run the simulator and the live replay on the same trace and compare hit rate and TTFT p50 (15% tolerance)' },
    'des-runs': { type: 'int', default: 8, min: 1, max: 64, description: 'With --compare: simulations averaged, each with another seed and scrape phase (the nuisances a live run cannot pin)', placeholder: 'n' },
    speedup: { type: 'number', default: 1, min: 0.01, max: 1000, description: 'With --live / --compare: simulated time runs this many times faster than real time (overheads are multiplied by it)', placeholder: 'x' },
    json: { type: 'bool', description: 'Print one JSON object instead of the table' },
  },
  examples: [
    'switchyard simulate --trace traces/mooncake/synthetic_trace.jsonl --workers 16 --policy round_robin',
    'switchyard simulate --trace trace.jsonl --workers 16 --policy consistent_hash --json',
    'switchyard simulate --trace trace.jsonl --workers 8 --policy default --gpu H100 --rate-scale 0.5 --limit 1000',
    'switchyard simulate --trace trace.jsonl --workers 16 --clusters 2 --cluster-policy least_request --policy consistent_hash',
    'switchyard simulate --trace trace.jsonl --workers 16 --clusters 4 --cluster-policy cluster_score --policy default --cluster-kv summary',
    'switchyard simulate --trace trace.jsonl --workers 16 --policy my_profile --profiles gateway.yaml --kv-capacity 200000',
    'switchyard simulate --trace trace.jsonl --workers 4 --policy default --limit 300 --rate-scale 4 --live',
    'switchyard simulate --trace trace.jsonl --workers 4 --policy default --limit 300 --rate-scale 4 --compare --speedup 1',
  ],
  async run({ flags, io, signal }) {
    if (flags.clusterPolicy !== undefined && flags.clusters < 2) throw new UsageError('--cluster-policy needs --clusters 2 or more', 'cluster-policy');
    if (flags.clusterKv !== undefined && flags.clusterPolicy === undefined) throw new UsageError('--cluster-kv needs --cluster-policy (it is the cluster layer of two-layer routing)', 'cluster-kv');
    if (flags.summaryRefresh !== undefined && flags.clusterKv !== 'summary') throw new UsageError('--summary-refresh needs --cluster-kv summary', 'summary-refresh');
    if (flags.clusters > flags.workers) throw new UsageError(`--clusters (${flags.clusters}) cannot exceed --workers (${flags.workers})`, 'clusters');
    const live = flags.live || flags.compare;
    if (flags.live && flags.compare) throw new UsageError('--live and --compare exclude each other (--compare runs the live replay too)', 'compare');
    if (live && flags.clusterPolicy !== undefined) throw new UsageError('--cluster-policy is for the simulator only: the live replay routes in one layer (one gateway)', 'cluster-policy');
    // Live: the gateway scrapes every interval / speedup of real time (it cannot read exact load).
    const scrapeMs = flags.scrapeInterval ?? (live ? 1000 : 0);
    if (live && scrapeMs / flags.speedup < 10) {
      throw new UsageError(`the live gateway scrapes at most every 10 ms of real time: --scrape-interval (${scrapeMs} ms) / --speedup (${flags.speedup}) is ${(scrapeMs / flags.speedup).toFixed(2)} ms`, 'scrape-interval');
    }
    const profiles = flags.profiles === undefined ? undefined : loadConfig(ProfilesFile, { file: flags.profiles }).profiles;
    const raw = await loadMooncakeTrace(flags.trace);
    const trace = prepareTrace(raw, { rateScale: flags.rateScale, ...(flags.limit === undefined ? {} : { limit: flags.limit }) });
    const options: SimulatorOptions = {
      trace,
      workers: flags.workers,
      clusters: flags.clusters,
      policy: flags.policy,
      ...(flags.clusterPolicy === undefined ? {} : { clusterPolicy: flags.clusterPolicy }),
      ...(flags.clusterKv === undefined ? {} : { clusterKv: flags.clusterKv }),
      ...(flags.summaryRefresh === undefined ? {} : { summaryRefreshMs: flags.summaryRefresh }),
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
      scrapeIntervalMs: scrapeMs,
    };
    const info = { trace: flags.trace, rateScale: flags.rateScale };
    const interrupted = (): number => {
      io.stderr('switchyard simulate: interrupted\n');
      return 130;
    };

    const runs: SimulationResult[] = [];
    if (!flags.live) {
      const n = flags.compare ? flags.desRuns : 1;
      for (let k = 0; k < n; k++) {
        const sim = new FleetSimulator(flags.compare ? replicaOptions(options, k, n) : options);
        // Compared with the live gateway, the simulator's router sees only what the gateway's does.
        if (flags.compare) useGatewayLoadView(sim);
        const r = await sim.runAsync({ signal });
        if (r === undefined) return interrupted();
        runs.push(r);
      }
      if (!flags.compare) {
        const des = runs[0]!;
        if (flags.json) io.stdout(`${JSON.stringify(des.clusterSummaries === undefined ? jsonOf(des.metrics) : { ...jsonOf(des.metrics), clusterSummaries: des.clusterSummaries })}\n`);
        else io.stdout(renderReport(des, info));
        return 0;
      }
    }
    const config = compileSimulatorOptions(options);
    if (!flags.json) io.stderr(`switchyard simulate: live replay of ${trace.length} requests on ${flags.workers} simulated engines behind a real gateway (about ${(traceSpanMs(trace) / flags.speedup / 1000).toFixed(0)} s of real time at speedup ${flags.speedup})\n`);
    const result = await runLiveReplay({ config, speedup: flags.speedup, scrapeIntervalMs: scrapeMs / flags.speedup, tensorParallelSize: flags.tensorParallelSize, signal, ...(profiles === undefined ? {} : { profiles }) });
    if (result === undefined) return interrupted();
    if (runs.length === 0) {
      if (flags.json) io.stdout(`${JSON.stringify(result.metrics)}\n`);
      else io.stdout(renderLiveReport(result, info));
      return 0;
    }
    const cmp = compareRuns(runs.map((r) => r.metrics), result.metrics);
    if (flags.json) io.stdout(`${JSON.stringify({ mode: 'compare', tolerance: AGREEMENT_TOLERANCE, desRuns: runs.length, diff: cmp, des: jsonOf(meanMetrics(runs.map((r) => r.metrics))), live: result.metrics })}\n`);
    else io.stdout(renderComparison(runs, result, cmp, info));
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

const traceSpanMs = (trace: readonly TraceRequest[]): number => trace[trace.length - 1]!.timestampMs - trace[0]!.timestampMs;

/** The trace and fleet lines every report starts with. */
function headerLines(c: CompiledSimulator, info: { trace: string; rateScale: number }): string[] {
  const trace = c.trace;
  return [
    `trace      ${basename(info.trace)}: ${trace.length} requests arriving over ${(traceSpanMs(trace) / 1000).toFixed(1)} s (rate scale ${info.rateScale})`,
    `fleet      ${c.workers} × simulated ${c.gpu} ${c.model} in ${c.clusters} cluster${c.clusters === 1 ? '' : 's'}; KV ${int(c.kvCapacityTokens)} tokens/worker (${c.engine.numGpuBlocks} blocks of ${c.engine.blockSize})`,
  ];
}

const scrapeText = (c: CompiledSimulator): string => (c.scrapeIntervalMs === 0 ? 'exact load at every decision' : `load sampled every ${ms(c.scrapeIntervalMs)} ms`);

export function renderReport(r: SimulationResult, info: { trace: string; rateScale: number }): string {
  const m = r.metrics;
  const c = r.config;
  const routing = c.clusterPolicy === undefined ? `${c.policy} (one decision over all workers)` : `${c.clusterPolicy} picks the cluster${c.clusterKv === 'summary' ? ` (KV: prefix summaries rebuilt every ${ms(c.summaryRefreshMs)} ms)` : ''}, then ${c.policy} the worker`;
  const cs = r.clusterSummaries;
  const summaryRows = cs === undefined ? [] : [['cluster summaries', `${cs.sent} sent (${int(cs.sentBytes)} bytes); ${int(cs.bytesMean)} bytes mean, ${int(cs.bytesMax)} max per cluster; checkpoint level ≤ ${cs.sampleShiftMax}`]];
  const lines = [
    "SIMULATION: simulated engines on a virtual clock (no GPU, nothing served); latencies are simulated time.",
    ...headerLines(c, info),
    `routing    ${routing}${c.scrapeIntervalMs === 0 ? '' : `; ${scrapeText(c)}`}`,
    '',
  ].join('\n');
  const table = renderTable({
    headers: ['METRIC', 'VALUE'],
    rows: [...metricRows(m, `${m.decisionP99Us.toFixed(1)} µs (real CPU time)`, `${m.completed} completed, ${m.rejected} rejected, ${m.preemptions} preemptions`, `${m.simulatedSeconds.toFixed(1)} s simulated in ${(r.wallMs / 1000).toFixed(1)} s`), ...summaryRows],
  });
  return `${lines}\n${table}`;
}

/** The metric rows both reports share (the simulation's and the live replay's). */
function metricRows(
  m: { hitRate: number; hitRateUpperBound: number; ttft: { p50: number; p90: number; p99: number }; itl: { p50: number; p90: number }; throughputTokensPerS: number; imbalance: number; imbalanceTokens: number },
  decision: string,
  requests: string,
  time: string,
): string[][] {
  return [
    ['prefix-cache hit rate', `${pct(m.hitRate)} of prompt tokens`],
    ['  upper bound (infinite cache)', pct(m.hitRateUpperBound)],
    ['TTFT p50 / p90 / p99', `${ms(m.ttft.p50)} / ${ms(m.ttft.p90)} / ${ms(m.ttft.p99)} ms`],
    ['ITL p50 / p90', `${ms(m.itl.p50)} / ${ms(m.itl.p90)} ms`],
    ['throughput', `${int(m.throughputTokensPerS)} output tokens/s (simulated)`],
    ['imbalance (max/mean)', `${m.imbalance.toFixed(2)} requests, ${m.imbalanceTokens.toFixed(2)} tokens`],
    ['router decision p99', decision],
    ['requests', requests],
    ['time', time],
  ];
}

const LIVE_BANNER =
  'LIVE REPLAY on SIMULATED ENGINES: `worker sim` HTTP engines (simulated vLLM, no GPU, no model) behind a real in-process gateway; only the gateway, router, HTTP/SSE and ZMQ KV-event path are real. Latencies are simulated time measured at the client (real ms × speedup).';

function liveRouting(r: LiveReplayResult): string {
  const c = r.config;
  return `${c.policy} in the gateway (exact KV index from the engines' ZMQ KV events; load scraped every ${ms(c.scrapeIntervalMs / r.speedup)} ms real = ${ms(c.scrapeIntervalMs)} ms simulated)`;
}

const decisionText = (us: number | null, live: boolean): string => (us === null || Number.isNaN(us) ? '-' : `${us.toFixed(1)} µs (real CPU time${live ? ', Σ plugin times' : ''})`);

export function renderLiveReport(r: LiveReplayResult, info: { trace: string; rateScale: number }): string {
  const m = r.metrics;
  const lines = [LIVE_BANNER, ...headerLines(r.config, info), `routing    ${liveRouting(r)}`, `clock      speedup ${r.speedup}: simulated time runs ${r.speedup}× real time on the engines`, ''].join('\n');
  const table = renderTable({
    headers: ['METRIC', 'VALUE'],
    rows: [
      ...metricRows(m, decisionText(m.decisionP99Us, true), `${m.completed} completed, ${m.rejected} failed, ${m.preemptions} preemptions`, `${m.simulatedSeconds.toFixed(1)} s simulated in ${m.wallSeconds.toFixed(1)} s real`),
      ['machine kept up', `engine steps ${(100 * m.engineSlowdown).toFixed(1)}% slower than modelled (p99 +${ms(m.engineStepLateP99Ms)} ms/step); send lag p99 ${m.sendLagP99Ms.toFixed(1)} ms real`],
    ],
  });
  const failed = r.failures.length === 0 ? '' : `\nfailed requests (first 3): ${r.failures.slice(0, 3).map((f) => `r${f.index} ${f.status ?? 'error'}: ${f.message}`).join('; ')}\n`;
  return `${lines}\n${table}${failed}`;
}

const rel = (a: number, b: number): string => {
  if (a === 0 || !Number.isFinite(a) || !Number.isFinite(b)) return '-';
  const r = (b - a) / a;
  return `${r >= 0 ? '+' : '−'}${Math.abs(100 * r).toFixed(1)}%`;
};
const verdict = (a: Agreement): string => (a.within ? `within ${100 * AGREEMENT_TOLERANCE}%` : `NOT within ${100 * AGREEMENT_TOLERANCE}%`);

export function renderComparison(runs: readonly SimulationResult[], live: LiveReplayResult, cmp: Comparison, info: { trace: string; rateScale: number }): string {
  const des = runs[0]!;
  const d = meanMetrics(runs.map((r) => r.metrics));
  const l = live.metrics;
  const range = (a: Agreement, f: (x: number) => string): string => (runs.length === 1 ? f(a.des) : `${f(a.des)} (${f(a.desMin)}–${f(a.desMax)})`);
  const lines = [
    'COMPARISON on SIMULATED ENGINES: the discrete-event simulator (DES, virtual clock) vs a live replay (`worker sim` HTTP engines behind a real in-process gateway; only the gateway, router, HTTP/SSE and ZMQ path are real). Latencies are simulated time.',
    ...headerLines(des.config, info),
    `routing    DES: ${des.config.policy}, ${scrapeText(des.config)} (running, waiting, KV usage: what the gateway scrapes); LIVE: ${liveRouting(live)}`,
    `DES        ${runs.length === 1 ? 'one simulation' : `mean of ${runs.length} simulations (seeds ${des.config.seed}..${des.config.seed + runs.length - 1}, scrape phases spread over one interval; range in parentheses)`}`,
    `clock      live speedup ${live.speedup}; live engine steps ${(100 * l.engineSlowdown).toFixed(1)}% slower than modelled (p99 +${ms(l.engineStepLateP99Ms)} ms/step); send lag p99 ${l.sendLagP99Ms.toFixed(1)} ms real`,
    '',
  ].join('\n');
  const table = renderTable({
    headers: ['METRIC', 'DES', 'LIVE', 'LIVE vs DES'],
    rows: [
      ['prefix-cache hit rate', range(cmp.hitRate, pct), pct(l.hitRate), `${rel(d.hitRate, l.hitRate)} (${verdict(cmp.hitRate)})`],
      ['  upper bound (infinite cache)', pct(d.hitRateUpperBound), pct(l.hitRateUpperBound), ''],
      ['TTFT p50 (ms)', range(cmp.ttftP50, ms), ms(l.ttft.p50), `${rel(d.ttft.p50, l.ttft.p50)} (${verdict(cmp.ttftP50)})`],
      ['TTFT p90 / p99 (ms)', `${ms(d.ttft.p90)} / ${ms(d.ttft.p99)}`, `${ms(l.ttft.p90)} / ${ms(l.ttft.p99)}`, `${rel(d.ttft.p90, l.ttft.p90)} / ${rel(d.ttft.p99, l.ttft.p99)}`],
      ['ITL p50 / p90 (ms)', `${ms(d.itl.p50)} / ${ms(d.itl.p90)}`, `${ms(l.itl.p50)} / ${ms(l.itl.p90)}`, `${rel(d.itl.p50, l.itl.p50)} / ${rel(d.itl.p90, l.itl.p90)}`],
      ['throughput (tokens/s)', int(d.throughputTokensPerS), int(l.throughputTokensPerS), rel(d.throughputTokensPerS, l.throughputTokensPerS)],
      ['imbalance (max/mean)', d.imbalance.toFixed(2), l.imbalance.toFixed(2), ''],
      ['router decision p99', decisionText(d.decisionP99Us, false), decisionText(l.decisionP99Us, true), ''],
      ['requests completed / failed', `${int(d.completed)} / ${int(d.rejected)}`, `${l.completed} / ${l.rejected}`, ''],
      ['time', `${(runs.reduce((a, r) => a + r.wallMs, 0) / 1000).toFixed(1)} s`, `${l.wallSeconds.toFixed(1)} s`, ''],
    ],
  });
  const summary = `\nhit rate ${verdict(cmp.hitRate)}, TTFT p50 ${verdict(cmp.ttftP50)} (issue #5: the simulator and the live system agree within 15% on both)\n`;
  return `${lines}\n${table}${summary}`;
}
