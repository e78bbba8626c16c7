/**
 * The worker child process and /proc readings: spawn `switchyard worker sim`, wait for its URL,
 * read its CPU time and RSS, read host steal time, and make sure it dies with us.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clockTicksPerSecond } from '../common/proc.js';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const live = new Set<ChildProcess>();

/** Kill every worker still running, synchronously (safe in an 'exit' handler). */
export function killAllWorkers(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  live.clear();
}

export interface WorkerHandle {
  pid: number;
  url: string;
  logPath: string;
  /** The exact command line, for the report. */
  command: string;
  /** Set when the child exited on its own (it should not). */
  exited: () => string | null;
  stop: () => Promise<void>;
}

export interface SpawnOptions {
  speedup: number;
  maxNumSeqs: number;
  model: string;
  /** Directory holding bin/switchyard.js (default: this repository). */
  root?: string;
  startTimeoutMs?: number;
}

export function workerArgs(o: SpawnOptions): string[] {
  return ['bin/switchyard.js', 'worker', 'sim', '--model', o.model, '--port', '0', '--max-num-seqs', String(o.maxNumSeqs), '--speedup', String(o.speedup), '--log-level', 'warn'];
}

export async function spawnWorker(o: SpawnOptions): Promise<WorkerHandle> {
  const args = workerArgs(o);
  const logPath = join(tmpdir(), `switchyard-bench-sim-${process.pid}-x${o.speedup}.log`);
  const logFd = openSync(logPath, 'w');
  const child = spawn(process.execPath, args, { cwd: o.root ?? REPO_ROOT, stdio: ['ignore', 'pipe', logFd] });
  closeSync(logFd);
  live.add(child);
  let exitInfo: string | null = null;
  const exitedP = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
      live.delete(child);
      resolve();
    });
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`worker did not print its URL within ${o.startTimeoutMs ?? 30_000} ms (log: ${logPath})`)), o.startTimeoutMs ?? 30_000);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`worker exited before listening (${exitInfo ?? '?'}); log: ${logPath}\n${tail(logPath)}`));
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  }).catch((e: unknown) => {
    if (child.exitCode === null) child.kill('SIGKILL');
    throw e;
  });
  return {
    pid: child.pid!,
    url,
    logPath,
    command: `node ${args.join(' ')}`,
    exited: () => exitInfo,
    stop: async () => {
      if (exitInfo !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exitedP;
      clearTimeout(timer);
    },
  };
}

function tail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** utime+stime of a process (all threads), in ms of CPU time. */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised comm (which may contain spaces): state is field 3.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]); // field 14
  const stime = Number(rest[12]); // field 15
  return ((utime + stime) * 1000) / clockTicksPerSecond();
}

/**
 * The main thread's scheduler counters (/proc/<pid>/schedstat): time on CPU and time spent runnable
 * but waiting for a CPU, in ms. On a shared box the second one shows CPU contention: a thread that
 * is on CPU or waiting for one ~100% of the time would use a whole core if it had one.
 */
export function mainThreadSchedMs(pid: number): { execMs: number; waitMs: number } {
  const [exec, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
  return { execMs: (exec ?? NaN) / 1e6, waitMs: (wait ?? NaN) / 1e6 };
}

/** VmRSS and VmHWM (peak RSS) in MiB. */
export function processRssMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Aggregate host CPU time from /proc/stat, in ms summed over all cores: total, idle (+iowait), steal. */
export function hostCpuMs(): { total: number; idle: number; steal: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const toMs = 1000 / clockTicksPerSecond();
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0); // user..steal (guest time is included in user)
  return { total: total * toMs, idle: ((f[3] ?? 0) + (f[4] ?? 0)) * toMs, steal: (f[7] ?? 0) * toMs };
}
