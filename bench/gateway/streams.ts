/**
 * Concurrent idle streams and memory per stream: N streaming requests through a proxy to
 * bench/gateway/idle-upstream.ts (one role chunk, then silence), held open at once; the proxy's
 * RSS (and, for Node proxies started with --inspect, its heap after a forced GC) is sampled with 0
 * streams after a warm-up and again with all N open.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { ClosedReport, HeldReport, IdleClientsSpec } from './idle-clients.js';
import type { Inspector, MemoryUsage } from './inspector.js';
import { BENCH_DIR, REPO_ROOT, rssKiB, sleep, startProcess, trackChild, waitFor, type Proc } from './proc.js';

export interface StreamsResult {
  proxy: string;
  requested: number;
  held: number;
  failed: number;
  errors: Record<string, number>;
  /** Streams the idle upstream saw open while the clients held theirs. */
  upstreamOpen: number;
  /** Upstream streams still open 5 s after the warm-up clients (before) / the N clients (after) went away: the proxy did not propagate the disconnect. */
  upstreamLeakedBefore: number;
  upstreamLeakedAfter: number;
  /** Streams still open when the clients closed them (all held ones, if nothing dropped). */
  stillOpenAtClose: number;
  droppedWhileHeld: number;
  openMs: number;
  rssBeforeKiB: number;
  rssAfterKiB: number;
  /** (rssAfter - rssBefore) / held, in bytes. */
  rssBytesPerStream: number;
  /** JS heap + external after a forced GC, when an inspector was available. */
  heap: { before: MemoryUsage; after: MemoryUsage; bytesPerStream: number } | null;
}

export async function startIdleUpstream(dir: string): Promise<{ proc: Proc; url: string }> {
  const proc = startProcess({ name: 'idle-upstream', command: process.execPath, args: ['--import', 'tsx', join(BENCH_DIR, 'idle-upstream.ts')], logDir: dir });
  const url = await waitFor('idle-upstream start', () => /listening on (http:\/\/\S+)/.exec(proc.stdout())?.[1], 20_000, proc);
  return { proc, url };
}

async function upstreamOpenCount(idleUrl: string): Promise<number> {
  const r = await fetch(`${idleUrl}/stats`);
  return ((await r.json()) as { open: number }).open;
}

/** Wait up to 5 s for the upstream to see every stream closed; returns how many are still open. */
async function drained(idleUrl: string): Promise<number> {
  const deadline = Date.now() + 5000;
  let open = await upstreamOpenCount(idleUrl);
  while (open > 0 && Date.now() < deadline) {
    await sleep(100);
    open = await upstreamOpenCount(idleUrl);
  }
  return open;
}

export interface ClientsHandle {
  held: Promise<HeldReport>;
  close: () => Promise<ClosedReport>;
}

export function startClients(spec: IdleClientsSpec): ClientsHandle {
  const child = spawn(process.execPath, ['--import', 'tsx', join(BENCH_DIR, 'idle-clients.ts'), JSON.stringify(spec)], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  trackChild(child);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (err += d));
  const lineP = (prefix: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const line = out.split('\n').find((l) => l.startsWith(`${prefix} `));
        if (line) {
          resolve(line.slice(prefix.length + 1));
          return true;
        }
        return false;
      };
      if (check()) return;
      const onData = (): void => {
        if (check()) child.stdout.off('data', onData);
      };
      child.stdout.on('data', onData);
      child.once('exit', (code) => {
        if (!check()) reject(new Error(`idle-clients exited (${code}) before ${prefix}: ${err.slice(-1500)}`));
      });
    });
  child.stdout.on('data', (d: string) => (out += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    held: lineP('HELD').then((s) => JSON.parse(s) as HeldReport),
    close: async () => {
      child.stdin.write('close\n');
      const closed = JSON.parse(await lineP('CLOSED')) as ClosedReport;
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      return closed;
    },
  };
}

export interface StreamsTarget {
  name: string;
  host: string;
  port: number;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** The process whose RSS counts (nginx: its worker). */
  pid: number;
  inspector: Inspector | null;
}

async function sampleRss(pid: number): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < 5; i++) {
    xs.push(rssKiB(pid));
    await sleep(200);
  }
  xs.sort((a, b) => a - b);
  return xs[2]!;
}

async function settledMemory(t: StreamsTarget): Promise<{ rss: number; mem: MemoryUsage | null }> {
  let mem: MemoryUsage | null = null;
  if (t.inspector) {
    await t.inspector.gc();
    await sleep(300);
    await t.inspector.gc();
    mem = await t.inspector.memoryUsage();
  }
  return { rss: await sampleRss(t.pid), mem };
}

export interface StreamsOptions {
  n: number;
  warmupStreams: number;
  idleUrl: string;
  timeoutMs: number;
  log: (line: string) => void;
}

/** Warm up (open and close a few hundred streams), sample memory, hold N streams, sample again, close. */
export async function measureStreams(t: StreamsTarget, o: StreamsOptions): Promise<StreamsResult> {
  const spec = (n: number): IdleClientsSpec => ({ host: t.host, port: t.port, path: t.path, headers: t.headers, body: t.body, n, openingConcurrency: 250, timeoutMs: o.timeoutMs });
  // Warm-up: the same path with a few hundred streams, twice, so lazily built state exists.
  for (let round = 0; round < 2; round++) {
    const warm = startClients(spec(o.warmupStreams));
    const h = await warm.held;
    await warm.close();
    if (h.held < h.requested) o.log(`${t.name}: warm-up held only ${h.held}/${h.requested} (${JSON.stringify(h.errors)})`);
  }
  const leakedBefore = await drained(o.idleUrl);
  if (leakedBefore > 0) o.log(`${t.name}: ${leakedBefore} warm-up streams still open at the upstream 5 s after their clients left`);
  await sleep(500);
  const before = await settledMemory(t);
  o.log(`${t.name}: RSS with 0 streams ${(before.rss / 1024).toFixed(1)} MiB; opening ${o.n} streams ...`);
  const clients = startClients(spec(o.n));
  let held: HeldReport;
  let after: { rss: number; mem: MemoryUsage | null };
  let upstreamOpen = 0;
  let closed: ClosedReport;
  try {
    held = await clients.held;
    await sleep(500);
    upstreamOpen = await upstreamOpenCount(o.idleUrl);
    after = await settledMemory(t);
  } finally {
    closed = await clients.close();
  }
  const leakedAfter = (await drained(o.idleUrl)) - leakedBefore;
  if (leakedAfter > 0) o.log(`${t.name}: ${leakedAfter} streams still open at the upstream 5 s after their clients left`);
  o.log(`${t.name}: held ${held.held}/${held.requested} (failed ${held.failed}) in ${(held.openMs / 1000).toFixed(1)} s; RSS ${(after.rss / 1024).toFixed(1)} MiB`);
  const per = (a: number, b: number): number => (held.held > 0 ? (a - b) / held.held : NaN);
  return {
    proxy: t.name,
    requested: held.requested,
    held: held.held,
    failed: held.failed,
    errors: held.errors,
    upstreamOpen: upstreamOpen - leakedBefore,
    upstreamLeakedBefore: leakedBefore,
    upstreamLeakedAfter: leakedAfter,
    stillOpenAtClose: closed.stillOpen,
    droppedWhileHeld: closed.droppedWhileHeld,
    openMs: held.openMs,
    rssBeforeKiB: before.rss,
    rssAfterKiB: after.rss,
    rssBytesPerStream: per(after.rss * 1024, before.rss * 1024),
    heap:
      before.mem && after.mem
        ? { before: before.mem, after: after.mem, bytesPerStream: per(after.mem.heapUsed + after.mem.external, before.mem.heapUsed + before.mem.external) }
        : null,
  };
}
