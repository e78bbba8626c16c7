/**
 * One point of the sweep: a fresh worker at one --speedup, N streams in flight, a warm-up until
 * every stream is producing tokens, then a measured window with client-side counters, /proc CPU
 * readings and /sim/stats deltas.
 */
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { type StampedStats, StatsReader } from './engine.js';
import { ClosedLoopLoad } from './load.js';
import { hostCpuMs, mainThreadSchedMs, processCpuMs, processRssMiB, spawnWorker, type WorkerHandle } from './proc.js';
import { minMeanMax, percentile, round, sleep } from './stats.js';
import { type PointResult, summarizeClient, summarizeEngine } from './summarize.js';

export type { PointResult } from './summarize.js';

export interface PointOptions {
  speedup: number;
  concurrency: number;
  maxTokens: number;
  maxNumSeqs: number;
  /** Minimum warm-up; it also lasts until every stream has produced a token, plus 1 s. */
  warmupMs: number;
  /** Give up waiting for the ramp after this long and measure anyway (reported). */
  maxWarmupMs: number;
  durationMs: number;
  model: string;
  workerRoot: string | null;
  /** Progress lines (stderr). */
  log: (line: string) => void;
}

interface Snapshot {
  t: number;
  deltas: number;
  workerCpuMs: number;
  sched: { execMs: number; waitMs: number };
  clientCpu: NodeJS.CpuUsage;
  host: { total: number; idle: number; steal: number };
}

function snapshot(load: ClosedLoopLoad, pid: number): Snapshot {
  return { t: performance.now(), deltas: load.deltasTotal, workerCpuMs: processCpuMs(pid), sched: mainThreadSchedMs(pid), clientCpu: process.cpuUsage(), host: hostCpuMs() };
}

function checkAlive(worker: WorkerHandle): void {
  const exited = worker.exited();
  if (exited !== null) throw new Error(`worker exited during the run (${exited}); log: ${worker.logPath}`);
}

async function warmUp(load: ClosedLoopLoad, worker: WorkerHandle, o: PointOptions): Promise<Omit<PointResult['warmup'], 'connectS'>> {
  const start = load.startedAt;
  for (;;) {
    await sleep(100);
    checkAlive(worker);
    const now = performance.now();
    const ramped = load.allRampedAt > 0 && now - load.allRampedAt >= 1000;
    if ((ramped && now - start >= o.warmupMs) || now - start >= o.maxWarmupMs) break;
  }
  const since = (t: number): number => (t > 0 ? (t - start) / 1000 : NaN);
  return { s: round((performance.now() - start) / 1000, 2), allOpenS: since(load.allOpenAt), rampS: since(load.allRampedAt), complete: load.allRampedAt > 0 };
}

export async function measurePoint(o: PointOptions): Promise<PointResult> {
  const worker = await spawnWorker({ speedup: o.speedup, maxNumSeqs: o.maxNumSeqs, model: o.model, root: o.workerRoot ?? undefined });
  const load = new ClosedLoopLoad({ url: worker.url, model: o.model, concurrency: o.concurrency, maxTokens: o.maxTokens });
  const reader = new StatsReader(worker.url);
  let keepLog = true;
  try {
    // Open the stats connection before the N streams connect, so it is not queued behind them.
    await reader.read();
    const c0 = performance.now();
    const connected = await load.preconnect();
    const connectS = (performance.now() - c0) / 1000;
    if (connected < o.concurrency) o.log(`speedup ${o.speedup}: only ${connected} of ${o.concurrency} pre-connect requests succeeded`);
    o.log(`speedup ${o.speedup}: worker pid ${worker.pid} on ${worker.url}; ${connected} connections opened in ${connectS.toFixed(1)} s; ramping to ${o.concurrency} streams`);
    load.start();
    const warmup = { ...(await warmUp(load, worker, o)), connectS: round(connectS, 2) };
    const secs = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(1)} s` : 'never');
    o.log(`speedup ${o.speedup}: ${o.concurrency} streams open at once after ${secs(warmup.allOpenS)}, all producing tokens after ${secs(warmup.rampS)}; measuring for ${o.durationMs / 1000} s`);

    const s0 = await reader.read();
    const a = snapshot(load, worker.pid);
    load.beginWindow();
    const inFlight: number[] = [];
    const open: number[] = [];
    const sampler = setInterval(() => {
      inFlight.push(load.inFlight);
      open.push(load.openStreams);
    }, 100);
    const engineSamples: StampedStats[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        engineSamples.push(await reader.read());
        await sleep(250);
      }
    })();
    await sleep(o.durationMs);
    const b = snapshot(load, worker.pid);
    const latency = load.endWindow();
    const rss = processRssMiB(worker.pid);
    clearInterval(sampler);
    polling = false;
    await poller;
    const s1 = await reader.read();
    checkAlive(worker);

    const windowMs = b.t - a.t;
    const pct = (ms: number): number => (ms / windowMs) * 100;
    const workerCpuPct = pct(b.workerCpuMs - a.workerCpuMs);
    const clientCpuPct = pct((b.clientCpu.user - a.clientCpu.user + b.clientCpu.system - a.clientCpu.system) / 1000);
    const hostTotal = b.host.total - a.host.total;
    const hostBusy = hostTotal - (b.host.idle - a.host.idle) - (b.host.steal - a.host.steal);
    const result: PointResult = {
      speedup: o.speedup,
      windowS: round(windowMs / 1000, 2),
      warmup,
      client: {
        ...summarizeClient(load.records, latency, a.t, b.t),
        outputTokPerS: ((b.deltas - a.deltas) / windowMs) * 1000,
        inFlight: minMeanMax(inFlight),
        openStreams: minMeanMax(open),
        cpuPct: clientCpuPct,
      },
      worker: {
        cpuPct: workerCpuPct,
        mainThreadCpuPct: pct(b.sched.execMs - a.sched.execMs),
        mainThreadWaitPct: pct(b.sched.waitMs - a.sched.waitMs),
        rssMiB: rss.rss,
        peakRssMiB: rss.peak,
        statsLatencyMs: { p50: percentile(engineSamples.map((s) => s.latencyMs), 50), max: Math.max(...engineSamples.map((s) => s.latencyMs)) },
        exited: worker.exited(),
      },
      engine: summarizeEngine(s0, s1, engineSamples),
      host: {
        stealPct: hostTotal > 0 ? ((b.host.steal - a.host.steal) / hostTotal) * 100 : NaN,
        otherCpuPct: pct(hostBusy) - workerCpuPct - clientCpuPct,
        loadAvg1: loadavg()[0] ?? NaN,
      },
    };
    o.log(
      `speedup ${o.speedup}: ${Math.round(result.client.outputTokPerS)} tok/s, worker CPU ${Math.round(workerCpuPct)}% (main thread on-CPU ${Math.round(result.worker.mainThreadCpuPct)}% + waiting ${Math.round(result.worker.mainThreadWaitPct)}%), client CPU ${Math.round(clientCpuPct)}%, errors ${result.client.errorsTotal}`,
    );
    keepLog = result.client.errorsTotal > 0;
    if (keepLog) o.log(`speedup ${o.speedup}: worker log kept at ${worker.logPath}`);
    return result;
  } finally {
    await load.stop();
    await reader.close();
    await worker.stop();
    // The worker's stderr log is only kept when something went wrong (its path is in the error).
    if (!keepLog) rmSync(worker.logPath, { force: true });
  }
}
