/**
 * Closed-loop maximum throughput with wrk (one thread, N connections): a Lua script sets the
 * POST body and headers, and its done() hook prints exact numbers as one JSON line.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { trackChild } from './proc.js';
import { endpointUrl, type Endpoint } from './target.js';

export interface WrkResult {
  connections: number;
  durationS: number;
  requests: number;
  /** 2xx responses per second (non-2xx are not counted). */
  rps: number;
  bytesPerS: number;
  /** Latency percentiles in ms (wrk records µs). */
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
}

/** A Lua long-bracket string that cannot be closed early by the content (spaced, so `x[ [=[k]=] ]` never reads as `x[[`). */
function luaString(s: string): string {
  let eq = '=';
  while (s.includes(`]${eq}]`)) eq += '=';
  return ` [${eq}[${s}]${eq}] `;
}

export function wrkScript(e: Endpoint): string {
  const headers = { 'Content-Type': 'application/json', ...e.headers };
  return [
    'wrk.method = "POST"',
    `wrk.body =${luaString(e.body)}`,
    ...Object.entries(headers).map(([k, v]) => `wrk.headers[${luaString(k)}] =${luaString(v)}`),
    'done = function(summary, latency, requests)',
    '  io.write(string.format("WRK_RESULT {\\"requests\\":%d,\\"duration_us\\":%d,\\"bytes\\":%d,\\"p50\\":%d,\\"p90\\":%d,\\"p99\\":%d,\\"max\\":%d,\\"status\\":%d,\\"connect\\":%d,\\"read\\":%d,\\"write\\":%d,\\"timeout\\":%d}\\n",',
    '    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,',
    '    summary.errors.status, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))',
    'end',
    '',
  ].join('\n');
}

interface WrkRaw {
  requests: number;
  duration_us: number;
  bytes: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  status: number;
  connect: number;
  read: number;
  write: number;
  timeout: number;
}

export function parseWrkOutput(out: string, connections: number): WrkResult {
  const line = out.split('\n').find((l) => l.startsWith('WRK_RESULT '));
  if (!line) throw new Error(`wrk printed no WRK_RESULT line:\n${out.slice(-2000)}`);
  const r = JSON.parse(line.slice('WRK_RESULT '.length)) as WrkRaw;
  const durationS = r.duration_us / 1e6;
  return {
    connections,
    durationS,
    requests: r.requests,
    rps: durationS > 0 ? (r.requests - r.status) / durationS : 0,
    bytesPerS: durationS > 0 ? r.bytes / durationS : 0,
    p50Ms: r.p50 / 1000,
    p90Ms: r.p90 / 1000,
    p99Ms: r.p99 / 1000,
    maxMs: r.max / 1000,
    non2xx: r.status,
    socketErrors: { connect: r.connect, read: r.read, write: r.write, timeout: r.timeout },
  };
}

export interface WrkOptions {
  connections: number;
  durationS: number;
  /** Per-request timeout for wrk (its default is 2 s). */
  timeoutS?: number;
  scriptDir: string;
  /** Called with wrk's PID once it runs (for CPU accounting). */
  onSpawn?: (pid: number) => void;
}

/** Run `wrk -t1 -cN -dNs --latency -s script url` and parse its done() line. */
export async function runWrk(e: Endpoint, o: WrkOptions): Promise<WrkResult> {
  const scriptPath = join(o.scriptDir, `wrk-${e.target}-${e.mode}.lua`);
  writeFileSync(scriptPath, wrkScript(e));
  const args = ['-t1', `-c${o.connections}`, `-d${o.durationS}s`, `--timeout`, `${o.timeoutS ?? 5}s`, '--latency', '-s', scriptPath, endpointUrl(e)];
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    if (child.pid !== undefined) o.onSpawn?.(child.pid);
    let text = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (text += d));
    child.stderr.on('data', (d: string) => (text += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), (o.durationS + 30) * 1000);
    child.once('error', (err) => {
      clearTimeout(killer);
      reject(err);
    });
    child.once('exit', (code) => {
      clearTimeout(killer);
      if (code === 0) resolve(text);
      else reject(new Error(`wrk exited with ${code}: ${text.slice(-1000)}`));
    });
  });
  return parseWrkOutput(out, o.connections);
}

export const WRK_COMMAND = 'wrk -t1 -c<C> -d<D>s --timeout 5s --latency -s <script.lua> <url>';
