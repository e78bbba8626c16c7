/** Helpers for end-to-end tests that run the real `switchyard` binary as separate processes. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SwitchyardClient } from '../../src/api/index.js';
import { waitFor } from './wait.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/switchyard.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run one CLI command to completion. */
export function cli(args: readonly string[], env: Record<string, string> = {}, input?: string): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000, input, env: { ...process.env, NO_COLOR: '1', ...env } });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface RunningProcess {
  proc: ChildProcess;
  pid: number;
  output(): string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): void;
}

/** Start a long-running CLI command; `ready` matches a line of its stdout and returns a value from it. */
export async function startCli<T>(args: readonly string[], env: Record<string, string>, ready: (out: string) => T | undefined, timeoutMs = 30_000): Promise<RunningProcess & { value: NonNullable<T> }> {
  const proc = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((r) => proc.once('exit', (code, sig) => r(code ?? sig ?? -1)));
  let done = false;
  void exited.then(() => (done = true));
  const value = await waitFor(
    () => {
      if (done) throw new Error(`process exited early:\n${out}`);
      return ready(out);
    },
    { timeoutMs, intervalMs: 50, what: `'${args.join(' ')}' to start` },
  ).catch((e: unknown) => {
    proc.kill('SIGKILL');
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n--- output ---\n${out}`);
  });
  return { proc, pid: proc.pid!, output: () => out, exited, value, kill: (s = 'SIGTERM') => void proc.kill(s) };
}

/** `switchyard up` in the background; resolves once it listens. */
export async function startUp(dataDir: string, token: string, extra: readonly string[] = []): Promise<RunningProcess & { url: string; client: SwitchyardClient }> {
  const p = await startCli(['up', '--port', '0', '--data-dir', dataDir, ...extra], { SWITCHYARD_ADMIN_TOKEN: token }, (out) => /listening on (http:\/\/\S+)/.exec(out)?.[1]);
  return { ...p, url: p.value, client: new SwitchyardClient({ server: p.value, token }) };
}

/** Is a process alive (and not a zombie)? */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

/** Direct children of a process, with their command lines. */
export function childrenOf(pid: number): { pid: number; args: string }[] {
  const r = spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .map((l) => /^\s*(\d+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), args: m[2]! }));
}

export function killQuietly(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (!pid) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
