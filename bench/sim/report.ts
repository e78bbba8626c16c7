/** Turning sweep results into a table, a saturation verdict and a paragraph of interpretation. */
import type { PointResult } from './summarize.js';

import { machineInfo } from '../common/machine.js';

export { machineInfo };
export type { MachineInfo } from '../common/machine.js';

/**
 * Main thread on a CPU, queued for one, or losing it to the hypervisor (host steal share), % of the
 * window: at or above this the event loop counts as saturated. Not 100: the steal share is host-wide
 * and the box is shared.
 */
const BUSY_PCT = 75;
/** A saturated point must also reach this fraction of the best per-core output rate. */
const NEAR_PEAK = 0.85;

export const busyPct = (p: PointResult): number => p.worker.mainThreadCpuPct + p.worker.mainThreadWaitPct + (Number.isFinite(p.host.stealPct) ? p.host.stealPct : 0);
/** Output tok/s per core-second of main-thread CPU: what the worker would emit with a whole core. */
export const tokPerCore = (p: PointResult): number => p.client.outputTokPerS / (p.worker.mainThreadCpuPct / 100);

export interface Saturation {
  /** Lowest speedup whose main thread is saturated and whose per-core rate is near the best; null = not reached. */
  speedup: number | null;
  /** True when a higher speedup was measured too (so the plateau is observed, not extrapolated). */
  confirmed: boolean;
  outputTokPerS: number;
  /** Best output tok/s of the sweep and its speedup. */
  peakOutputTokPerS: number;
  peakSpeedup: number;
  /** Output tok/s per core-second of main-thread CPU over the saturated points (min, max). */
  perCoreTokPerS: [number, number];
}

/**
 * Saturation on a shared VM: raw tok/s at high speedups moves with the CPU share the worker gets
 * (steal, other processes), so a point counts as saturated when its main thread is busy the whole
 * window, and the plateau is judged on tok/s per core-second of main-thread CPU.
 */
export function findSaturation(points: readonly PointResult[]): Saturation {
  const sorted = [...points].sort((a, b) => a.speedup - b.speedup);
  const best = sorted.reduce<PointResult | undefined>((b, p) => (!b || p.client.outputTokPerS > b.client.outputTokPerS ? p : b), undefined);
  const busy = sorted.filter((p) => busyPct(p) >= BUSY_PCT);
  const bestPerCore = Math.max(...busy.map(tokPerCore));
  const sat = busy.find((p) => tokPerCore(p) >= NEAR_PEAK * bestPerCore);
  const perCore = sat ? busy.filter((p) => p.speedup >= sat.speedup).map(tokPerCore) : [];
  return {
    speedup: sat?.speedup ?? null,
    confirmed: sat !== undefined && sorted.some((p) => p.speedup > sat.speedup),
    outputTokPerS: sat?.client.outputTokPerS ?? NaN,
    peakOutputTokPerS: best?.client.outputTokPerS ?? NaN,
    peakSpeedup: best?.speedup ?? NaN,
    perCoreTokPerS: [Math.min(...perCore), Math.max(...perCore)],
  };
}

/** Held = N requests in flight at every sample, no error, every stream's deltas equal its usage, worker alive. */
export function heldAllStreams(points: readonly PointResult[], concurrency: number): boolean {
  return points.every((p) => p.client.inFlight.min >= concurrency && p.client.errorsTotal === 0 && p.client.tokenMismatches === 0 && p.worker.exited === null);
}

export const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '–');

export function markdownTable(points: readonly PointResult[]): string {
  const columns: [string, (p: PointResult) => string][] = [
    ['speedup', (p) => `${p.speedup}`],
    ['output tok/s (client)', (p) => fmt(p.client.outputTokPerS)],
    ['engine tok/s', (p) => fmt(p.engine.genTokPerS)],
    ['usage tok/s', (p) => fmt(p.client.usageTokPerS)],
    ['req/s', (p) => fmt(p.client.requestsPerS)],
    ['in flight min / mean', (p) => `${fmt(p.client.inFlight.min)} / ${fmt(p.client.inFlight.mean)}`],
    ['open streams min / mean', (p) => `${fmt(p.client.openStreams.min)} / ${fmt(p.client.openStreams.mean)}`],
    ['engine running mean', (p) => fmt(p.engine.running.mean)],
    ['TTFT p50 / p99 ms', (p) => `${fmt(p.client.ttftMs.p50)} / ${fmt(p.client.ttftMs.p99)}`],
    ['inter-token mean / p99 ms', (p) => `${fmt(p.client.interTokenMs.mean, 1)} / ${fmt(p.client.interTokenMs.p99, 1)}`],
    ['worker CPU %', (p) => fmt(p.worker.cpuPct)],
    ['main thread on-CPU + waiting %', (p) => `${fmt(p.worker.mainThreadCpuPct)} + ${fmt(p.worker.mainThreadWaitPct)}`],
    ['tok/s per main-thread core', (p) => fmt(tokPerCore(p))],
    ['/sim/stats RTT p50 / max ms', (p) => `${fmt(p.worker.statsLatencyMs.p50)} / ${fmt(p.worker.statsLatencyMs.max)}`],
    ['worker RSS MiB', (p) => fmt(p.worker.rssMiB)],
    ['client CPU %', (p) => fmt(p.client.cpuPct)],
    ['errors', (p) => `${p.client.errorsTotal}${p.client.tokenMismatches > 0 ? ` (+${p.client.tokenMismatches} token mismatches)` : ''}`],
    ['steal % / other procs %', (p) => `${fmt(p.host.stealPct)} / ${fmt(Math.max(0, p.host.otherCpuPct))}`],
  ];
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(columns.map(([h]) => h)), line(columns.map((_c, i) => (i === 0 ? '---' : '---:'))), ...points.map((p) => line(columns.map(([, f]) => f(p))))].join('\n');
}

function describeErrors(points: readonly PointResult[]): string {
  const kinds: Record<string, number> = {};
  for (const p of points) for (const [k, v] of Object.entries(p.client.errorKinds)) kinds[k] = (kinds[k] ?? 0) + v;
  const list = Object.entries(kinds).map(([k, v]) => `${v}× ${k}`);
  return list.length > 0 ? list.join('; ') : 'none';
}

function saturationText(points: readonly PointResult[]): string {
  const sat = findSaturation(points);
  const at = points.find((p) => p.speedup === sat.speedup);
  if (!at) {
    const top = [...points].sort((a, b) => b.speedup - a.speedup)[0]!;
    return `The worker did not saturate within this sweep: at the highest speedup (${top.speedup}) its main thread was busy ${fmt(busyPct(top))}% of the window, delivering ${fmt(top.client.outputTokPerS)} tok/s; add higher --speedups.`;
  }
  const steal = at.host.stealPct >= 1 ? ` + ~${fmt(at.host.stealPct)}% lost to hypervisor steal` : '';
  const busy = `its main JS thread (engine loop, HTTP, SSE serialisation) is busy the whole window (on a CPU ${fmt(at.worker.mainThreadCpuPct)}% + queued for one ${fmt(at.worker.mainThreadWaitPct)}%${steal})`;
  const [lo, hi] = sat.perCoreTokPerS;
  const perCoreRange = Math.round(lo / 100) === Math.round(hi / 100) ? fmt(lo) : `${fmt(lo)}–${fmt(hi)}`;
  const perCore = `per core-second of main-thread CPU the saturated worker emits ${perCoreRange} tokens, so one worker with a dedicated core delivers roughly that many output tok/s.`;
  const higher = [...points].filter((p) => p.speedup > at.speedup).sort((a, b) => a.speedup - b.speedup);
  const higherList = higher.map((p) => `${fmt(p.client.outputTokPerS)} at ${p.speedup} with ${fmt(p.worker.mainThreadCpuPct)}% on-CPU`).join(', ');
  const later = higher.length === 0
    ? ` ${perCore.charAt(0).toUpperCase()}${perCore.slice(1)} (No higher speedup was measured, so the plateau itself is not shown.)`
    : ` Higher speedups (${higherList}) move with the share of a core the shared VM gave the worker, not with the speedup: ${perCore}`;
  return `The worker saturates at --speedup ${at.speedup}: ${busy}, delivering ${fmt(at.client.outputTokPerS)} output tok/s to the clients (best point of the sweep: ${fmt(sat.peakOutputTokPerS)} tok/s at --speedup ${sat.peakSpeedup}).${later}`;
}

export function interpretation(points: readonly PointResult[], concurrency: number): string {
  if (points.length === 0) return 'No point was measured.';
  const sat = findSaturation(points);
  const at = points.find((p) => p.speedup === sat.speedup) ?? [...points].sort((a, b) => b.speedup - a.speedup)[0]!;
  const base = [...points].sort((a, b) => a.speedup - b.speedup)[0]!;
  const cpuText = `At that point the worker process uses ${fmt(at.worker.cpuPct)}% of a core (all threads, RSS ${fmt(at.worker.rssMiB)} MiB) and the load generator ${fmt(at.client.cpuPct)}% of a core, out of the machine's ${machineInfo().cores}.`;
  const baseText = `At --speedup ${base.speedup} the engine counts ${fmt(base.engine.genTokPerS)} generated tok/s (clients: ${fmt(base.client.outputTokPerS)}) with ${fmt(base.engine.running.mean)} requests running on average, ${fmt(base.engine.stepsPerS, 1)} steps/s of ${fmt(base.engine.tokensPerStep)} decode tokens (a mean step of ${fmt(1000 / base.engine.stepsPerS / base.speedup)} simulated ms) and a client inter-token gap of ${fmt(base.client.interTokenMs.mean)} ms.`;
  const openMin = Math.min(...points.map((p) => p.client.openStreams.min));
  const openMeans = points.map((p) => p.client.openStreams.mean);
  const running = points.map((p) => p.engine.running.mean);
  const heldText = heldAllStreams(points, concurrency)
    ? `At every speedup all ${concurrency} requests were in flight in every 100 ms sample, the engine had ${fmt(Math.min(...running))}–${fmt(Math.max(...running))} requests running on average, there were zero errors, and every stream's delta count equalled its usage.completion_tokens. Open streams (response headers received) averaged ${fmt(Math.min(...openMeans))}–${fmt(Math.max(...openMeans))} (lowest sample ${fmt(openMin)}): the difference from ${concurrency} is requests between one stream's end and the next one's headers, which takes longer when the worker is saturated.`
    : `The ${concurrency}-stream target was NOT held cleanly: ${points.map((p) => `--speedup ${p.speedup}: in flight min ${fmt(p.client.inFlight.min)}, ${p.client.errorsTotal} errors, ${p.client.tokenMismatches} token mismatches${p.worker.exited ? `, worker exited (${p.worker.exited})` : ''}`).join('; ')} (errors: ${describeErrors(points)}).`;
  const other = Math.max(...points.map((p) => p.host.otherCpuPct));
  const steal = Math.max(...points.map((p) => p.host.stealPct));
  const noiseText = other > 50 || steal > 10
    ? `The VM was disturbed during this run (${[other > 50 ? `other processes used up to ${fmt(other)}% of a core` : '', steal > 10 ? `hypervisor steal reached ${fmt(steal)}% of host CPU` : ''].filter((t) => t !== '').join(', ')}), so in some windows the worker got less than a whole core and absolute tok/s understate a quiet machine; the per-core figure is the steadier one.`
    : '';
  return [saturationText(points), cpuText, baseText, heldText, noiseText].filter((t) => t !== '').join(' ');
}
