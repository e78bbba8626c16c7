/** Run the constant-rate generator (bench/gateway/loadgen.ts) in its own process against one endpoint. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { RateResult, RateSpec } from './loadgen.js';
import { BENCH_DIR, REPO_ROOT, trackChild } from './proc.js';
import type { Endpoint } from './target.js';

export interface RateOptions {
  rate: number;
  warmupMs: number;
  durationMs: number;
  maxConnections: number;
  /** Called with the generator's PID once it runs (for CPU accounting). */
  onSpawn?: (pid: number) => void;
}

export function rateSpec(e: Endpoint, o: RateOptions): RateSpec {
  return {
    host: e.host,
    port: e.port,
    path: e.path,
    headers: e.headers,
    body: e.body,
    rate: o.rate,
    warmupMs: o.warmupMs,
    durationMs: o.durationMs,
    initialConnections: Math.min(16, o.maxConnections),
    maxConnections: o.maxConnections,
    expectSse: e.mode !== 'chat',
    drainMs: 3000,
  };
}

export async function runRateChild(e: Endpoint, o: RateOptions): Promise<RateResult> {
  const spec = rateSpec(e, o);
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(BENCH_DIR, 'rate-client.ts'), JSON.stringify(spec)], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    if (child.pid !== undefined) o.onSpawn?.(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (stdout += d));
    child.stderr.on('data', (d: string) => (stderr += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), o.warmupMs + o.durationMs + 30_000);
    child.once('error', (err) => {
      clearTimeout(killer);
      reject(err);
    });
    child.once('exit', (code) => {
      clearTimeout(killer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`rate-client exited with ${code}: ${stderr.slice(-1500)}`));
    });
  });
  return JSON.parse(out.trim().split('\n').pop() ?? '') as RateResult;
}
