/** The `## Simulated worker (bench/sim)` section of docs/benchmarks.md: render and rewrite it. */
import { fmt, interpretation, type MachineInfo, markdownTable } from './report.js';
import type { PointResult } from './summarize.js';

export interface SectionInput {
  points: readonly PointResult[];
  concurrency: number;
  command: string;
  workerCommand: string;
  durationMs: number;
  warmupMs: number;
  maxTokens: number;
  date: Date;
  machine: MachineInfo;
}

export const SECTION_TITLE = '## Simulated worker (bench/sim)';

const COLUMNS = [
  'Columns: *output tok/s* counts content deltas received by the clients within the window (one per token);',
  '*engine tok/s* is the `generationTokens` delta of `GET /sim/stats` over the window;',
  '*usage tok/s* sums `usage.completion_tokens` of the streams that finished within the window (quantised by request boundaries);',
  '*in flight* (requests sent and not finished) and *open streams* (200 headers received, not finished) are sampled every 100 ms at the client;',
  '*engine running* is `running` from `/sim/stats`, sampled every 250 ms;',
  'TTFT is over requests whose first token arrived in the window, the inter-token gap is per stream over the deltas it received in the window, both wall clock at the client;',
  '*worker CPU %* is utime+stime of all its threads (`/proc/<pid>/stat`), % of one core;',
  '*main thread on-CPU + waiting %* is from `/proc/<pid>/schedstat` of the JS thread: time on a CPU, and time runnable but queued for one; with the hypervisor steal share (last column, in neither number) a sum near 100% means the event loop is saturated even when the shared VM did not give it a whole core;',
  '*tok/s per main-thread core* is output tok/s divided by the main thread\'s on-CPU share;',
  '*/sim/stats RTT* is the round trip of that GET on its own keep-alive connection (an event-loop lag probe);',
  '*client CPU %* is `process.cpuUsage()` of the load generator;',
  '*errors* counts non-200 responses, network errors and truncated streams over warm-up and window;',
  '*steal / other procs* is hypervisor steal (`/proc/stat`, % of host CPU) and CPU used by processes other than the worker and the client (% of a core).',
].join(' ');

export function renderSection(s: SectionInput): string {
  const m = s.machine;
  const range = (vals: number[]): string => {
    const v = vals.filter(Number.isFinite);
    if (v.length === 0) return '–';
    const [lo, hi] = [fmt(Math.min(...v)), fmt(Math.max(...v))];
    return lo === hi ? lo : `${lo}–${hi}`;
  };
  const noise = `during the windows hypervisor steal was ${range(s.points.map((p) => p.host.stealPct))}% of host CPU, other processes used ${range(s.points.map((p) => Math.max(0, p.host.otherCpuPct)))}% of a core, 1-min load average ${range(s.points.map((p) => p.host.loadAvg1))}`;
  const ramp = s.points.map((p) => `${p.speedup}: ${fmt(p.warmup.connectS, 1)} s + ${fmt(p.warmup.rampS, 1)} s${p.warmup.complete ? '' : ' (incomplete)'}`).join(', ');
  return [
    SECTION_TITLE,
    '',
    `Run on ${s.date.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${m.cpuModel}, ${m.cores} cores, ${m.totalMemGiB} GiB RAM, Node ${m.node}; ${noise}.`,
    '',
    `Command: \`${s.command}\``,
    '',
    `Each row is a fresh worker, \`${s.workerCommand.replace(/--speedup \S+/, '--speedup <S>')}\` (a simulated A100 serving a Llama-3.1-8B-shaped model), with ${s.concurrency} streaming chat requests kept in flight (closed loop: a finished stream is replaced at once). Requests are \`stream: true\`, \`stream_options.include_usage\`, \`max_tokens: ${s.maxTokens}\`, \`ignore_eos: true\`, each with a distinct prompt (~43 prompt tokens); the first request of each stream asks for a random 1..${s.maxTokens} tokens so the streams do not move in lockstep. The client is undici (one keep-alive connection per stream, no pipelining) in one Node process on the same machine. The ${s.concurrency} connections are opened before the streams start, as a gateway's pool would hold them (a Node server accepts one new connection per event-loop iteration since libuv 1.45, so a burst of connects to an already saturated worker trickles in over seconds; that is connection setup, not streaming, and is not what this measures); then the warm-up lasts at least ${s.warmupMs / 1000} s and until every stream has produced a token, plus 1 s, and a ${s.durationMs / 1000} s window is measured. Connect + ramp time per speedup: ${ramp}.`,
    '',
    markdownTable(s.points),
    '',
    COLUMNS,
    '',
    interpretation(s.points, s.concurrency),
    '',
  ].join('\n');
}

export { writeSection } from '../common/doc-section.js';
