/**
 * Child processes of the benchmark: every spawn is tracked so that an exit, an error or a signal
 * kills all of them (nginx masters included); plus /proc readings (RSS, CPU time, children).
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BENCH_DIR = join(REPO_ROOT, 'bench', 'gateway');

const live = new Set<ChildProcess>();
/** PIDs started indirectly (nginx daemons write a pid file), killed with the rest. */
const extraPids = new Set<number>();

export function trackPid(pid: number): void {
  extraPids.add(pid);
}

/** Track a child spawned elsewhere (killed with the rest; forgotten when it exits). */
export function trackChild(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

export function untrackPid(pid: number): void {
  extraPids.delete(pid);
}

/** Kill everything we started, synchronously (safe in an 'exit' handler). */
export function killAll(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  live.clear();
  for (const pid of extraPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  extraPids.clear();
}

/** PIDs of live tracked processes, for the final leak check. */
export function trackedPids(): number[] {
  return [...[...live].map((c) => c.pid ?? -1), ...extraPids].filter((p) => p > 0);
}

export interface Proc {
  pid: number;
  name: string;
  child: ChildProcess;
  logPath: string;
  command: string;
  /** Non-null once the process exited, with how. */
  exited: () => string | null;
  /** Everything it printed on stdout so far (when stdout is piped). */
  stdout: () => string;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop: (graceMs?: number) => Promise<void>;
}

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  logDir: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Pipe stdin (for processes we talk to). */
  stdin?: boolean;
}

/** Spawn a tracked process: stdout piped (and kept), stderr to a log file. */
export function startProcess(o: StartOptions): Proc {
  const logPath = join(o.logDir, `${o.name}.log`);
  const logFd = openSync(logPath, 'w');
  const spawnOpts: SpawnOptions = { cwd: o.cwd ?? REPO_ROOT, stdio: [o.stdin ? 'pipe' : 'ignore', 'pipe', logFd], env: o.env ?? process.env };
  const child = spawn(o.command, o.args, spawnOpts);
  closeSync(logFd);
  live.add(child);
  let exitInfo: string | null = null;
  let out = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => {
    out += d;
    if (out.length > 1_000_000) out = out.slice(-500_000);
  });
  const exitedP = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
      live.delete(child);
      resolve();
    });
    child.once('error', (e) => {
      exitInfo = `spawn error: ${e.message}`;
      live.delete(child);
      resolve();
    });
  });
  return {
    pid: child.pid ?? -1,
    name: o.name,
    child,
    logPath,
    command: [o.command, ...o.args].join(' '),
    exited: () => exitInfo,
    stdout: () => out,
    stop: async (graceMs = 3000) => {
      if (exitInfo !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exitedP;
      clearTimeout(timer);
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll until `check` returns a value (not undefined), or throw after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, proc?: Proc): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr = '';
  for (;;) {
    if (proc?.exited()) throw new Error(`${what}: ${proc.name} exited (${proc.exited()}) before it was ready; log ${proc.logPath}:\n${tail(proc.logPath)}`);
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      lastErr = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline) throw new Error(`${what}: not ready within ${timeoutMs} ms${lastErr ? ` (last error: ${lastErr})` : ''}${proc ? `; log ${proc.logPath}:\n${tail(proc.logPath)}` : ''}`);
    await sleep(100);
  }
}

export function tail(path: string, lines = 15): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** A free TCP port on 127.0.0.1 (bound then released; good enough on a quiet machine). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** VmRSS of a process in KiB (NaN if it is gone). */
export function rssKiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

import { clockTicksPerSecond, cpuMs } from '../common/proc.js';

export { cpuMs };

/** Direct children of a process (e.g. nginx workers of a master). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // raced with an exit
    }
  }
  return out;
}

/** Whether a binary is on PATH. */
export function hasBinary(name: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d !== '' && existsSync(join(d, name)));
}

/** A command's output (stdout then stderr, trimmed), or null if it could not run. */
export function commandOutput(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) return null;
  return `${r.stdout}${r.stderr}`.trim() || null;
}

/** Sum of CPU time over a set of processes, in ms. */
export function cpuMsOf(pids: readonly number[]): number {
  return pids.reduce((a, p) => a + cpuMs(p), 0);
}

/**
 * Host CPU from /proc/stat, ms summed over all cores: task time (user, nice, system, irq: what
 * processes are charged), softirq (loopback TCP processing lands here, not in any process), steal.
 */
export function hostCpuMs(): { tasks: number; softirq: number; steal: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const toMs = 1000 / clockTicksPerSecond();
  const tasks = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0);
  return { tasks: tasks * toMs, softirq: (f[6] ?? 0) * toMs, steal: (f[7] ?? 0) * toMs };
}

export interface CpuShares {
  /** % of one core over the window. */
  proxy: number;
  upstream: number;
  generator: number;
  /** Host task time not spent in our processes (other sessions' work on a shared machine). */
  other: number;
  /** Kernel softirq time (mostly loopback network processing of the benchmark's own traffic). */
  softirq: number;
  /** Hypervisor steal, % of one core. */
  steal: number;
}

/**
 * CPU accounting over a measurement window. Short-lived processes (the load generator) are polled
 * every 200 ms, since their /proc entry vanishes when they exit.
 */
export class CpuMeter {
  private readonly t0 = performance.now();
  private readonly host0 = hostCpuMs();
  private readonly self0 = process.cpuUsage();
  private readonly base = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private readonly timer: NodeJS.Timeout;
  private generatorPid: number | null = null;

  constructor(
    private readonly proxyPids: readonly number[],
    private readonly upstreamPids: readonly number[],
  ) {
    for (const p of [...proxyPids, ...upstreamPids]) this.base.set(p, cpuMs(p));
    this.timer = setInterval(() => this.poll(), 200);
  }

  setGenerator(pid: number): void {
    this.generatorPid = pid;
    this.base.set(pid, 0);
    this.poll();
  }

  private poll(): void {
    if (this.generatorPid !== null) {
      const v = cpuMs(this.generatorPid);
      if (Number.isFinite(v)) this.last.set(this.generatorPid, v);
    }
  }

  stop(): CpuShares {
    clearInterval(this.timer);
    const wallMs = performance.now() - this.t0;
    const host = hostCpuMs();
    const self = process.cpuUsage(this.self0);
    const delta = (p: number): number => {
      const now = cpuMs(p);
      const end = Number.isFinite(now) ? now : (this.last.get(p) ?? NaN);
      return end - (this.base.get(p) ?? 0);
    };
    const sum = (ps: readonly number[]): number => ps.reduce((a, p) => a + (Number.isFinite(delta(p)) ? delta(p) : 0), 0);
    const proxy = sum(this.proxyPids);
    const upstream = sum(this.upstreamPids);
    const generator = this.generatorPid === null ? 0 : sum([this.generatorPid]);
    const selfMs = (self.user + self.system) / 1000;
    const other = Math.max(0, host.tasks - this.host0.tasks - proxy - upstream - generator - selfMs);
    const pct = (ms: number): number => (ms / wallMs) * 100;
    return { proxy: pct(proxy), upstream: pct(upstream), generator: pct(generator), other: pct(other), softirq: pct(host.softirq - this.host0.softirq), steal: pct(host.steal - this.host0.steal) };
  }
}
