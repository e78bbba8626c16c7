/** Tables, target verdicts, interpretation, the JSON object and the docs/benchmarks.md section. */
import { cpus, release, totalmem } from 'node:os';
import { MODE_LABEL, MODES, type Mode } from './fixtures.js';
import { DISTURBED_PCT, type LatencyResult, type MaxResult, type Measurements } from './measure.js';
import { honoNodeServerVersion, portkeyVersion } from './peers.js';
import { commandOutput } from './proc.js';
import type { Failure, PreflightInfo } from './stack.js';
import type { StreamsResult } from './streams.js';
import { TARGET_LABEL, TARGETS, type TargetName } from './target.js';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  totalMemGiB: number;
  kernel: string;
  node: string;
  nginx: string;
  wrk: string;
  portkey: string;
  honoNodeServer: string;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  const nginx = /nginx\/(\S+)/.exec(commandOutput('nginx', ['-v']) ?? '')?.[1] ?? 'unknown';
  const wrk = /^wrk (\S+)/.exec(commandOutput('wrk', ['-v']) ?? '')?.[1] ?? 'unknown';
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    totalMemGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    nginx,
    wrk,
    portkey: portkeyVersion(),
    honoNodeServer: honoNodeServerVersion(),
  };
}

export interface Results {
  benchmark: 'gateway';
  date: string;
  command: string;
  machine: MachineInfo;
  options: Record<string, unknown>;
  /** CPU used by other processes in the 2 s before the run, % of one core. */
  othersCpuBeforePct: number;
  preflight: PreflightInfo[];
  max: MaxResult[];
  latency: LatencyResult[];
  commonRate: Measurements['commonRate'];
  streams: StreamsResult[];
  verdicts: Verdict[];
  failures: Failure[];
  /** Processes of ours still alive after teardown (should be empty). */
  leftovers: number[];
}

export interface Verdict {
  id: 'rps-vs-nginx' | 'rps-vs-portkey' | 'added-p50' | 'idle-streams';
  target: string;
  /** null: could not be measured. */
  met: boolean | null;
  detail: string;
}

const fmt = (n: number | undefined, digits = 0): string => (n !== undefined && Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '–');
const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
const table = (head: readonly string[], rows: readonly (readonly string[])[]): string => [line(head), line(head.map((_, i) => (i < 2 ? '---' : '---:'))), ...rows.map(line)].join('\n');

function maxOf(r: Pick<Results, 'max'>, t: TargetName, m: Mode): MaxResult | undefined {
  return r.max.find((x) => x.target === t && x.mode === m);
}

function lat(r: Pick<Results, 'latency'>, t: TargetName, m: Mode, rate: number): LatencyResult | undefined {
  return r.latency.find((x) => x.target === t && x.mode === m && x.rate === rate);
}

/** The direct baseline at a rate: the lower p50 and the lower p99 of its runs (before and after the proxies). */
export function baseline(r: Pick<Results, 'latency'>, m: Mode, rate: number): { p50: number; p99: number } | null {
  const ds = r.latency.filter((x) => x.target === 'direct' && x.mode === m && x.rate === rate && x.result !== null);
  if (ds.length === 0) return null;
  return { p50: Math.min(...ds.map((d) => d.result!.service.p50)), p99: Math.min(...ds.map((d) => d.result!.service.p99)) };
}

/** Added latency = proxy − direct baseline at the same rate (service time: request written → last byte). */
export function added(r: Pick<Results, 'latency'>, l: LatencyResult): { p50: number; p99: number } | null {
  const b = baseline(r, l.mode, l.rate);
  if (!l.result || !b || l.target === 'direct') return null;
  return { p50: l.result.service.p50 - b.p50, p99: l.result.service.p99 - b.p99 };
}

function modesOf(r: Pick<Results, 'max'>): Mode[] {
  return MODES.filter((m) => r.max.some((x) => x.mode === m));
}

export function verdicts(r: Pick<Results, 'max' | 'latency' | 'commonRate' | 'streams' | 'failures'>, streamsTarget: number): Verdict[] {
  const out: Verdict[] = [];
  const modes = modesOf(r);
  const ratio = (peer: TargetName, need: number, id: Verdict['id']): void => {
    const parts: string[] = [];
    let met: boolean | null = true;
    for (const m of modes) {
      const sw = maxOf(r, 'switchyard', m)?.best.rps;
      const p = maxOf(r, peer, m)?.best.rps;
      if (sw === undefined || p === undefined || p === 0) {
        met = null;
        parts.push(`${MODE_LABEL[m]}: not measured`);
        continue;
      }
      const x = sw / p;
      if (x < need && met !== null) met = false;
      const w2 = maxOf(r, 'switchyard-w2', m)?.best.rps;
      parts.push(`${MODE_LABEL[m]}: ${fmt(x, 2)}× (${fmt(sw)} vs ${fmt(p)} req/s${x < need ? `; short by ${fmt(need * p - sw)} req/s` : ''}${w2 !== undefined ? `; --workers 2: ${fmt(w2 / p, 2)}×` : ''})`);
    }
    if (modes.length === 0) met = null;
    out.push({ id, target: `≥ ${need}× ${TARGET_LABEL[peer]} requests/s`, met, detail: parts.join('; ') });
  };
  ratio('nginx', 0.8, 'rps-vs-nginx');
  ratio('portkey', 3, 'rps-vs-portkey');

  const parts: string[] = [];
  let met: boolean | null = modes.length > 0 ? true : null;
  for (const m of modes) {
    const c = r.commonRate[m];
    const l = c && c.from === 'switchyard' ? lat(r, 'switchyard', m, c.rate) : undefined;
    const a = l ? added(r, l) : null;
    if (!c || !a) {
      met = null;
      parts.push(`${MODE_LABEL[m]}: not measured`);
      continue;
    }
    if (a.p50 > 0.5 && met !== null) met = false;
    const l2 = lat(r, 'switchyard-w2', m, c.rate);
    const a2 = l2 ? added(r, l2) : null;
    parts.push(`${MODE_LABEL[m]}: +${fmt(a.p50, 3)} ms at ${fmt(c.rate)} req/s${a.p50 > 0.5 ? ` (over by ${fmt(a.p50 - 0.5, 3)} ms)` : ''}${a2 ? ` (--workers 2: +${fmt(a2.p50, 3)} ms)` : ''}`);
  }
  out.push({ id: 'added-p50', target: 'added p50 ≤ 0.5 ms at half of maximum load', met, detail: parts.join('; ') });
  // The verdicts are the default single-process gateway's; --workers 2 is shown beside them.

  const s = r.streams.find((x) => x.proxy === 'switchyard');
  if (!s) out.push({ id: 'idle-streams', target: `${fmt(streamsTarget)} concurrent idle streams, < 20 KB each`, met: null, detail: 'not measured' });
  else {
    const kib = s.rssBytesPerStream / 1024;
    const ok = s.held >= streamsTarget && s.failed === 0 && s.droppedWhileHeld === 0 && kib < 20;
    const why: string[] = [];
    if (s.held < streamsTarget) why.push(`held ${fmt(s.held)} of ${fmt(streamsTarget)}`);
    if (s.failed > 0) why.push(`${s.failed} failed`);
    if (s.droppedWhileHeld > 0) why.push(`${s.droppedWhileHeld} dropped while held`);
    if (kib >= 20) why.push(`${fmt(kib, 1)} KiB per stream, over by ${fmt(kib - 20, 1)} KiB`);
    out.push({ id: 'idle-streams', target: `${fmt(streamsTarget)} concurrent idle streams, < 20 KB each`, met: ok, detail: `held ${fmt(s.held)}/${fmt(s.requested)}, failed ${s.failed}, ${fmt(kib, 1)} KiB RSS per stream${s.heap ? ` (${fmt(s.heap.bytesPerStream / 1024, 1)} KiB of JS heap + external after GC)` : ''}${why.length > 0 ? ` — ${why.join('; ')}` : ''}` });
  }
  return out;
}

/** The proxy's CPU time per request in the max-throughput window, µs. */
export function cpuUsPerRequest(x: MaxResult): number {
  return x.best.rps > 0 ? (x.cpu.proxy / 100) * 1e6 / x.best.rps : NaN;
}

export function maxTable(r: Pick<Results, 'max'>): string {
  const rows: string[][] = [];
  for (const m of modesOf(r)) {
    const ng = maxOf(r, 'nginx', m)?.best.rps;
    const pk = maxOf(r, 'portkey', m)?.best.rps;
    for (const t of TARGETS) {
      const x = maxOf(r, t, m);
      if (!x) continue;
      const w = x.best;
      const errs = w.non2xx + w.socketErrors.connect + w.socketErrors.read + w.socketErrors.write + w.socketErrors.timeout;
      rows.push([MODE_LABEL[m], TARGET_LABEL[t], fmt(w.rps), t === 'direct' || ng === undefined ? '' : fmt(w.rps / ng, 2), t === 'direct' || pk === undefined ? '' : fmt(w.rps / pk, 2), fmt(w.p50Ms, 2), fmt(w.p99Ms, 2), fmt(errs), t === 'direct' ? '' : fmt(x.cpu.proxy), t === 'direct' ? '' : fmt(cpuUsPerRequest(x)), fmt(x.cpu.upstream), fmt(x.cpu.generator), fmt(x.cpu.softirq), fmt(x.cpu.other), fmt(x.cpu.steal)]);
    }
  }
  return table(['mode', 'target', 'req/s', '× nginx', '× Portkey', 'p50 ms', 'p99 ms', 'errors', 'proxy CPU %', 'proxy CPU µs/req', 'upstream CPU %', 'wrk CPU %', 'softirq %', 'others CPU %', 'steal %'], rows);
}

export function latencyTable(r: Pick<Results, 'latency'>, basis: 'common' | 'own'): string {
  const rows: string[][] = [];
  for (const l of r.latency.filter((x) => x.basis === basis)) {
    const a = added(r, l);
    const res = l.result;
    const errs = res ? res.errors + res.non200 + res.badBody + res.incomplete : 0;
    rows.push([
      MODE_LABEL[l.mode],
      `${TARGET_LABEL[l.target]}${l.target === 'direct' ? (l.run === 1 ? ' (before)' : ' (after)') : ''}`,
      fmt(l.rate),
      res ? fmt(res.achievedRps) : (l.skipped ?? '–'),
      res ? fmt(res.service.p50, 3) : '–',
      res ? fmt(res.service.p99, 3) : '–',
      a ? `${a.p50 >= 0 ? '+' : ''}${fmt(a.p50, 3)}` : '',
      a ? `${a.p99 >= 0 ? '+' : ''}${fmt(a.p99, 3)}` : '',
      res ? fmt(res.latency.p50, 3) : '–',
      res ? fmt(res.latency.p99, 3) : '–',
      res ? `${fmt(errs)}${res.overloaded ? ' (overloaded)' : ''}` : '',
      l.cpu && l.target !== 'direct' ? fmt(l.cpu.proxy) : '',
      l.cpu ? fmt(l.cpu.other) : '',
      l.cpu ? fmt(l.cpu.steal) : '',
    ]);
  }
  return table(['mode', 'target', 'rate req/s', 'achieved req/s', 'p50 ms', 'p99 ms', 'added p50 ms', 'added p99 ms', 'p50 from due ms', 'p99 from due ms', 'errors', 'proxy CPU %', 'others CPU %', 'steal %'], rows);
}

export function streamsTable(r: Pick<Results, 'streams'>): string {
  const rows = r.streams.map((s) => [
    s.proxy === 'nginx' ? `${TARGET_LABEL.nginx} (worker)` : (TARGET_LABEL[s.proxy as TargetName] ?? s.proxy),
    `${fmt(s.held)} / ${fmt(s.requested)}`,
    fmt(s.failed),
    fmt(s.upstreamOpen),
    fmt(s.upstreamLeakedAfter),
    fmt(s.openMs / 1000, 1),
    fmt(s.rssBeforeKiB / 1024, 1),
    fmt(s.rssAfterKiB / 1024, 1),
    fmt(s.rssBytesPerStream / 1024, 1),
    s.heap ? fmt(s.heap.bytesPerStream / 1024, 1) : '',
  ]);
  return table(['proxy', 'streams held', 'failed', 'open at upstream', 'upstream still open 5 s after clients left', 'open time s', 'RSS 0 streams MiB', 'RSS N streams MiB', 'KiB/stream (RSS)', 'KiB/stream (heap+external after GC)'], rows);
}

export function verdictList(vs: readonly Verdict[]): string {
  return vs.map((v) => `- **${v.met === null ? 'NOT MEASURED' : v.met ? 'MET' : 'MISSED'}** — ${v.target}: ${v.detail}`).join('\n');
}

export function interpretation(r: Results): string {
  const out: string[] = [];
  const modes = modesOf(r);
  for (const m of modes) {
    const sw = maxOf(r, 'switchyard', m);
    const ng = maxOf(r, 'nginx', m);
    const pk = maxOf(r, 'portkey', m);
    const d = maxOf(r, 'direct', m);
    if (!sw) continue;
    const mn = maxOf(r, 'node-minimal', m === 'stream-usage' ? 'stream' : m);
    const label = MODE_LABEL[m];
    const bits = [`${label.charAt(0).toUpperCase()}${label.slice(1)}: the Switchyard gateway served ${fmt(sw.best.rps)} req/s using ${fmt(sw.cpu.proxy)}% of a core (${fmt(cpuUsPerRequest(sw))} µs of CPU per request)`];
    if (ng) bits.push(`nginx ${fmt(ng.best.rps)} req/s at ${fmt(ng.cpu.proxy)}% of a core (${fmt(cpuUsPerRequest(ng))} µs per request; the upstream used another ${fmt(ng.cpu.upstream)}%)`);
    if (pk) bits.push(`Portkey ${fmt(pk.best.rps)} req/s at ${fmt(pk.cpu.proxy)}% (${fmt(cpuUsPerRequest(pk))} µs per request)`);
    const w2 = maxOf(r, 'switchyard-w2', m);
    if (w2) bits.push(`with \`--workers 2\` ${fmt(w2.best.rps)} req/s (${ng ? `${fmt(w2.best.rps / ng.best.rps, 2)}× nginx, ` : ''}primary and workers together ${fmt(w2.cpu.proxy)}% of a core, ${fmt(cpuUsPerRequest(w2))} µs per request)`);
    if (mn) bits.push(`the minimal Node proxy ${fmt(mn.best.rps)} req/s at ${fmt(mn.cpu.proxy)}% (${fmt(cpuUsPerRequest(mn))} µs per request${m === 'stream-usage' ? ', its streaming row' : ''})`);
    if (d) bits.push(`the upstream alone ${fmt(d.best.rps)} req/s`);
    out.push(`${bits.join(', ')}.`);
  }
  const swc = maxOf(r, 'switchyard', 'chat');
  const mnc = maxOf(r, 'node-minimal', 'chat');
  const ngc = maxOf(r, 'nginx', 'chat');
  const sws = maxOf(r, 'switchyard', 'stream');
  const mns = maxOf(r, 'node-minimal', 'stream');
  const w2c = maxOf(r, 'switchyard-w2', 'chat');
  if (swc && mnc && ngc) {
    out.push(
      `How much of the gap to nginx is Node itself: the minimal Node proxy (bench/gateway/minimal-proxy.ts: node:http, JSON.parse of the body, one undici Agent through \`agent.request\` and \`for await\`, no validation, metrics or health) reaches ${fmt(mnc.best.rps / ngc.best.rps, 2)}× nginx's non-streaming req/s; the Switchyard gateway spends ${fmt(cpuUsPerRequest(swc) / cpuUsPerRequest(mnc), 2)}× the minimal proxy's CPU per non-streaming request${sws && mns ? ` and ${fmt(cpuUsPerRequest(sws) / cpuUsPerRequest(mns), 2)}× per streaming request` : ''} — validation, routing, health, metrics and the SSE relay included, it reads upstream responses through undici's dispatch API (no Readable stream, no async iterator, no promise per chunk) and classifies SSE events on their bytes. What remains per request is mostly Node's HTTP server, undici's client and the two socket writes (a strace of the gateway shows exactly one read and one writev per socket per request).${w2c ? ` A second event loop (\`--workers 2\`) reached ${fmt(w2c.best.rps / ngc.best.rps, 2)}× nginx non-streaming here; on this 2-core machine wrk, the upstream and both workers compete for the same two cores (the workers' and the primary's CPU together was ${fmt(w2c.cpu.proxy)}% of a core), so this row shows that the port is shared and the work spread, not what two dedicated cores would serve.` : ''} Reaching 0.8× a 1-worker nginx takes more than one core of Node: nginx spends ${fmt(cpuUsPerRequest(ngc))} µs of CPU per request, the gateway ${fmt(cpuUsPerRequest(swc))} µs.`,
    );
  }
  const floor = modesOf(r)
    .filter((m) => m !== 'stream-usage')
    .map((m) => ({ m, raw: maxOf(r, 'node-raw', m), ng: maxOf(r, 'nginx', m), sw: maxOf(r, 'switchyard', m) }))
    .filter((x) => x.raw && x.ng);
  if (floor.length > 0) {
    const parts = floor.map(({ m, raw, ng, sw }) => `${MODE_LABEL[m]} ${fmt(raw!.best.rps)} req/s, ${fmt(raw!.best.rps / ng!.best.rps, 2)}× nginx, ${fmt(cpuUsPerRequest(raw!))} µs of CPU per request against nginx's ${fmt(cpuUsPerRequest(ng!))}${sw ? ` and the gateway's ${fmt(cpuUsPerRequest(sw))}` : ''}`);
    out.push(
      `The floor of any Node proxy on this machine: the raw-socket reference proxy (bench/gateway/raw-proxy.ts: \`node:net\` only — no node:http, no undici —, the request head scanned for Content-Length, the body JSON-parsed for the model, the upstream's response bytes relayed unchanged on pooled keep-alive sockets; no validation, routing, health, limits, metrics, timeouts or retries) served ${parts.join('; ')}. ${floor.every((f) => f.raw!.best.rps / f.ng!.best.rps < 0.8) ? 'Even this proxy, which does nothing a gateway must do, stays under 0.8× nginx: the target is out of reach for a single Node event loop here, whatever the gateway does on top.' : 'This proxy reaches 0.8× nginx in at least one mode, so the remaining gap there is the gateway\'s own work.'}`,
    );
  }
  const ngCpu = r.max.filter((x) => x.target === 'nginx').map((x) => x.cpu.proxy);
  if (ngCpu.length > 0 && Math.max(...ngCpu) < 85) out.push(`nginx itself was never saturated (at most ${fmt(Math.max(...ngCpu))}% of its one worker's core): its rows are bounded by what wrk, the upstream and the kernel could do on the remaining CPU, so the measured ratios to nginx understate nginx's real headroom.`);
  const addedNote: string[] = [];
  for (const m of modesOf(r)) {
    const c = r.commonRate[m];
    if (!c) continue;
    const sw = lat(r, 'switchyard', m, c.rate);
    const mn = lat(r, 'node-minimal', m, c.rate);
    const ng = lat(r, 'nginx', m, c.rate);
    const a = sw ? added(r, sw) : null;
    const b = mn ? added(r, mn) : null;
    const n = ng ? added(r, ng) : null;
    const w = lat(r, 'switchyard-w2', m, c.rate);
    const aw = w ? added(r, w) : null;
    const rw = lat(r, 'node-raw', m, c.rate);
    const rr = rw ? added(r, rw) : null;
    const peers = [aw ? `--workers 2 +${fmt(aw.p50, 2)} ms` : null, b ? `minimal Node proxy +${fmt(b.p50, 2)} ms` : null, rr ? `raw-socket Node proxy +${fmt(rr.p50, 2)} ms` : null, n ? `nginx +${fmt(n.p50, 2)} ms` : null].filter((x) => x !== null);
    if (a) addedNote.push(`${MODE_LABEL[m]} +${fmt(a.p50, 2)} ms${peers.length > 0 ? ` (${peers.join(', ')})` : ''}`);
  }
  const swLat = r.latency.filter((l) => l.target === 'switchyard' && l.basis === 'common' && l.cpu !== null).map((l) => l.cpu!.proxy);
  if (addedNote.length > 0) out.push(`Added p50 at the common rate: ${addedNote.join('; ')}. "Half of the maximum" in requests/s is not half a core for a Node process: wrk's 64 busy connections let it batch many requests per event-loop turn and per syscall, while the same process at an even, open-loop half rate handles them one by one and pays more CPU for each (the gateway used ${swLat.length > 0 ? `${fmt(Math.min(...swLat))}–${fmt(Math.max(...swLat))}%` : 'much'} of its core at the common rate; the minimal Node proxy shows the same effect). So requests queue behind each other and the tail grows.`);
  const swCpu = r.max.filter((x) => x.target === 'switchyard').map((x) => x.cpu.proxy);
  if (swCpu.length > 0 && Math.min(...swCpu) >= 85) out.push('The gateway process was at or near one full core in every max-throughput run: Node serves all requests on one thread, so its requests/s is bounded by its CPU cost per request; nginx needs less CPU per request, and the leftover core is shared by wrk and the upstream.');
  const others = [...r.max.map((x) => x.cpu.other), ...r.latency.flatMap((x) => (x.cpu ? [x.cpu.other] : []))];
  const steal = [...r.max.map((x) => x.cpu.steal), ...r.latency.flatMap((x) => (x.cpu ? [x.cpu.steal] : []))];
  if (others.length > 0) {
    const worst = Math.max(...others);
    const worstSteal = Math.max(...steal);
    const noise = worst > 10 ? `other processes (other sessions on this shared VM) used up to ${fmt(worst)}% of a core and the hypervisor stole up to ${fmt(worstSteal)}% during some windows` : `no other process ran during the windows (at most ${fmt(worst)}% of a core), but the hypervisor stole up to ${fmt(worstSteal)}% of a core in some of them`;
    out.push(worst > 10 || worstSteal > 10 ? `Noise: ${noise} (columns "others CPU %" and "steal %"). Affected rows are pessimistic and run-to-run variation on this VM is large (±30% between runs for the Node proxies is common), so compare rows of the same run and prefer ratios over absolute numbers.` : `Other processes used at most ${fmt(worst)}% of a core and steal stayed under ${fmt(worstSteal)}% during the windows, so the machine was quiet.`);
  }
  const s = r.streams.find((x) => x.proxy === 'switchyard');
  const sn = r.streams.find((x) => x.proxy === 'nginx');
  const sm = r.streams.find((x) => x.proxy === 'node-minimal');
  const sp = r.streams.find((x) => x.proxy === 'portkey');
  const heapDiff = sm && s?.heap && sm.heap ? (s.heap.bytesPerStream - sm.heap.bytesPerStream) / 1024 : null;
  if (s) out.push(`Idle streams: the gateway held ${fmt(s.held)} of ${fmt(s.requested)} streams open at once (${fmt(s.upstreamOpen)} open at the upstream), at ${fmt(s.rssBytesPerStream / 1024, 1)} KiB of RSS per stream${s.heap ? ` (${fmt(s.heap.bytesPerStream / 1024, 1)} KiB of live JS heap and external memory)` : ''}${sn ? `; nginx needs ${fmt(sn.rssBytesPerStream / 1024, 1)} KiB per stream` : ''}${sm ? `, the minimal Node proxy ${fmt(sm.rssBytesPerStream / 1024, 1)} KiB${sm.heap ? ` (${fmt(sm.heap.bytesPerStream / 1024, 1)} KiB heap)` : ''}, which is roughly what two sockets, the HTTP parsers and undici's request objects cost in Node` : ''}${sp ? `, Portkey ${fmt(sp.rssBytesPerStream / 1024, 1)} KiB${sp.upstreamLeakedAfter > 0 ? ` (and Portkey left ${fmt(sp.upstreamLeakedAfter)} upstream streams open after its clients had gone)` : ''}` : ''}.${heapDiff === null ? '' : heapDiff > 0 ? ` The ${fmt(heapDiff, 1)} KiB of heap per stream above the minimal proxy is the gateway's own per-request state.` : ` The gateway holds ${fmt(-heapDiff, 1)} KiB of heap per stream less than the minimal proxy: an open stream is one object per layer (the request's ProxyCall — abort signal and total-timeout entry in one shared timer list —, the undici dispatch handler, the StreamRelayer and its SSE scanner), with no suspended async function, promise, AbortController, Readable or per-stream timer, where the minimal proxy keeps an async iterator, a Readable and an AbortController per stream.`}`);
  out.push('Caveat: the load generator, the proxy under test and the upstream all run on the same 2 cores, so every proxy competes with wrk and the upstream for CPU. A single-threaded proxy (the Switchyard gateway, Portkey, 1-worker nginx) gets at most one core; the absolute numbers are lower than on dedicated machines and the ratios favour whichever proxy uses the least CPU per request.');
  return out.join('\n\n');
}

export const SECTION_TITLE = '## Gateway overhead (bench/gateway)';

export function renderSection(r: Results): string {
  const m = r.machine;
  const failures = r.failures.length > 0 ? ['', '**Problems during the run:**', '', ...r.failures.map((f) => `- ${TARGET_LABEL[f.target as TargetName] ?? f.target}${f.mode ? ` (${MODE_LABEL[f.mode]})` : ''}, ${f.stage}: ${f.message.split('\n')[0]}`)] : [];
  const common = modesOf(r)
    .map((mo) => {
      const c = r.commonRate[mo];
      return c ? `${MODE_LABEL[mo]} ${fmt(c.rate)} req/s (${Math.round((Number(r.options.rateFraction) || 0.5) * 100)}% of ${TARGET_LABEL[c.from]}'s maximum)` : null;
    })
    .filter((x): x is string => x !== null)
    .join('; ');
  return [
    SECTION_TITLE,
    '',
    `Run on ${r.date.slice(0, 16).replace('T', ' ')} UTC on ${m.cpuModel}, ${m.cores} cores, ${m.totalMemGiB} GiB RAM, Linux ${m.kernel}; Node ${m.node}, nginx ${m.nginx}, wrk ${m.wrk}, Portkey gateway ${m.portkey} (@hono/node-server ${m.honoNodeServer}).`,
    '',
    `Command: \`${r.command}\``,
    '',
    'Setup: the upstream is nginx (1 worker) answering `POST /v1/chat/completions` with a fixed chat completion (one port) or a fixed OpenAI SSE stream (another port: role chunk, 16 content chunks, finish chunk, usage chunk with `choices: []`, `data: [DONE]`, 4.8 KB), so the proxy is the bottleneck. Targets: *direct* (the upstream itself, the baseline), the Switchyard gateway (`node bin/switchyard.js gateway`, `round_robin` profile, default health checks; the targets\' verdicts are this single process\'s), the same with `--workers 2` (a primary and two worker processes sharing the port; its CPU columns add up all three), nginx `proxy_pass` (1 worker, HTTP/1.1, `keepalive 64`, `proxy_buffering off` for SSE) and the Portkey gateway (`build/start-server.js --headless`, `x-portkey-provider: openai`, `x-portkey-custom-host` pointing at the upstream), and, as a reference point for what Node itself costs, a minimal Node proxy (bench/gateway/minimal-proxy.ts: node:http + undici, body parsed for the model, nothing else) and, for the floor of any Node proxy, a raw-socket one (bench/gateway/raw-proxy.ts: `node:net` only, response bytes relayed unchanged). Requests are a small OpenAI chat body (`model`, two `messages`, `max_tokens: 64`); *streaming* adds `stream: true` (the Switchyard gateway then injects `stream_options.include_usage` and strips the usage chunk on the way back), *streaming, include_usage in request* sends `stream_options: {include_usage: true}` itself, so the gateway relays the stream as is. Every (target, mode) was checked with one real request (200 and the fixed content) before being measured.',
    '',
    `### Maximum throughput (wrk, closed loop)`,
    '',
    `\`wrk -t1 -c${String(r.options.connections)} --latency\` (one thread: generator, proxy and upstream share the 2 cores) for ${String(r.options.wrkDurationS)} s after a ${String(r.options.wrkWarmupS)} s warm-up run. Latency here is at saturation (queueing included). CPU columns are % of one core over the window (from /proc): *softirq* is kernel time not charged to any process (mostly the loopback TCP traffic of the benchmark itself); *others* is CPU used by processes outside this benchmark (other sessions on this shared VM); *steal* is time the hypervisor gave to other VMs. A window in which steal plus other processes exceeded ${DISTURBED_PCT}% of a core was repeated once and the less disturbed attempt kept (constant-rate windows: up to twice); what remained is in the columns.`,
    '',
    maxTable(r),
    '',
    `### Latency at a constant rate (open loop)`,
    '',
    `Same absolute rate for every target: ${common}. Generator: bench/gateway/loadgen.ts in its own process (constant rate, requests due every 1/rate s, keep-alive connections, up to 64; wrk has no constant-rate mode and autocannon's \`overallRate\` sends per-second bursts with 1 ms latency resolution), ${String(r.options.rateWarmupS)} s warm-up then ${String(r.options.rateDurationS)} s. *p50/p99* are from writing the request to the last byte of the response (streams: the whole stream); *added* = target − direct at the same rate (direct is measured before and after the proxies; the lower of its two p50s, and of its two p99s, is the baseline, so noise in a direct run cannot make a proxy look better); *from due* also counts waiting for the generator's 1 ms timer and any queueing (coordinated-omission-free).`,
    '',
    latencyTable(r, 'common'),
    ...(r.latency.some((l) => l.basis === 'own') ? ['', `Portkey at ${Math.round((Number(r.options.rateFraction) || 0.5) * 100)}% of its own maximum (direct measured again at the same rate):`, '', latencyTable(r, 'own')] : []),
    '',
    '### Concurrent idle streams and memory per stream',
    '',
    r.streams.length > 0
      ? `${fmt(Number(r.options.streams))} streaming requests held open at once through each proxy (a fresh process each) to bench/gateway/idle-upstream.ts, which sends one role chunk and then only an SSE comment every 15 s. A stream counts as held once its first chunk arrived. Memory: the proxy process's VmRSS (nginx: its worker) with 0 streams after a warm-up (200 streams opened and closed, twice), then with all N open; Node proxies were started with \`--inspect=127.0.0.1:0\` so a full GC could be forced before each sample (heap column). KiB = 1,024 bytes.\n\n${streamsTable(r)}`
      : 'Not run.',
    '',
    '### Targets',
    '',
    verdictList(r.verdicts),
    ...failures,
    '',
    '### Interpretation',
    '',
    interpretation(r),
    '',
  ].join('\n');
}

export { writeSection } from '../common/doc-section.js';

export function renderText(r: Results): string {
  return [`Maximum throughput (wrk -t1 -c${String(r.options.connections)}):`, '', maxTable(r), '', 'Latency at a constant rate (common):', '', latencyTable(r, 'common'), ...(r.latency.some((l) => l.basis === 'own') ? ['', 'Latency at half of own maximum:', '', latencyTable(r, 'own')] : []), '', 'Idle streams:', '', r.streams.length > 0 ? streamsTable(r) : 'not run', '', 'Targets:', '', verdictList(r.verdicts), ...(r.failures.length > 0 ? ['', 'Problems:', ...r.failures.map((f) => `- ${f.target}${f.mode ? `/${f.mode}` : ''} ${f.stage}: ${f.message}`)] : []), '', interpretation(r), ''].join('\n');
}

