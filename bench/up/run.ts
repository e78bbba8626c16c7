/**
 * `switchyard up --demo` start-up: time from launching the process to /ready answering 200
 * (the demo model can serve on all three simulated clusters), for a fresh data directory and
 * for a restart after kill -9 (replicas adopted). Also the resident memory of the process tree
 * once ready. Target (control-plane issue): ready in under 10 s.
 *
 *   npm run bench:up -- [--runs 5] [--write] [--json]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCHMARKS_DOC, writeSection } from '../common/doc-section.js';
import { machineLine } from '../common/machine.js';

const BIN = fileURLToPath(new URL('../../bin/switchyard.js', import.meta.url));
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] ?? 5) || 5;
const write = args.includes('--write');
const asJson = args.includes('--json');

interface Sample {
  readyMs: number;
  /** All three demo clusters routable (the gateway's table has 3 endpoints for the demo model). */
  allMs: number;
  listeningMs: number;
  rssMiB: number;
  processes: number;
}

function treeRssMiB(root: number): { rssMiB: number; processes: number } {
  // Every process descending from `root`, plus the detached demo replicas (not its children).
  const ps = spawnSync('ps', ['-eo', 'pid=,ppid=,rss=,args='], { encoding: 'utf8' }).stdout.split('\n');
  const rows = ps.map((l) => /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(l)).filter((m): m is RegExpExecArray => m !== null).map((m) => ({ pid: +m[1]!, ppid: +m[2]!, rss: +m[3]!, args: m[4]! }));
  const inTree = new Set([root]);
  for (let changed = true; changed; ) {
    changed = false;
    for (const r of rows) {
      if (inTree.has(r.pid) || !inTree.has(r.ppid)) continue;
      inTree.add(r.pid);
      changed = true;
    }
  }
  const picked = rows.filter((r) => inTree.has(r.pid) || (r.args.includes('worker sim') && r.args.includes('demo-llama-8b')));
  return { rssMiB: picked.reduce((s, r) => s + r.rss, 0) / 1024, processes: picked.length };
}

async function startOnce(dataDir: string, port: number): Promise<{ sample: Sample; pid: number; stop: (sig: NodeJS.Signals) => Promise<void> }> {
  const t0 = performance.now();
  const p = spawn(process.execPath, [BIN, 'up', '--demo', '--port', String(port), '--data-dir', dataDir, '--log-level', 'error'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, SWITCHYARD_ADMIN_TOKEN: 'bench' } });
  let out = '';
  let listeningMs = 0;
  p.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (!listeningMs && out.includes('listening on')) listeningMs = performance.now() - t0;
  });
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (performance.now() - t0 > 60_000) throw new Error(`not ready after 60 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const readyMs = performance.now() - t0;
  for (;;) {
    const body = await fetch(`http://127.0.0.1:${port}/debug/routing`).then((r) => r.json() as Promise<{ models: Record<string, { endpoints: unknown[] }> }>, () => undefined);
    if ((body?.models['demo-llama-8b']?.endpoints.length ?? 0) >= 3) break;
    if (performance.now() - t0 > 60_000) throw new Error(`not all clusters routable after 60 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const allMs = performance.now() - t0;
  const mem = treeRssMiB(p.pid!);
  return { sample: { readyMs, allMs, listeningMs, ...mem }, pid: p.pid!, stop: async (sig) => (p.kill(sig), await exited) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const fresh: Sample[] = [];
const restart: Sample[] = [];
for (let i = 0; i < runs; i++) {
  const dir = mkdtempSync(join(tmpdir(), 'sy-bench-up-'));
  const port = 18100 + i;
  const a = await startOnce(dir, port);
  fresh.push(a.sample);
  await a.stop('SIGKILL'); // crash: replicas keep running and must be adopted
  const b = await startOnce(dir, port);
  restart.push(b.sample);
  await b.stop('SIGINT'); // clean shutdown stops the replicas too
  rmSync(dir, { recursive: true, force: true });
  process.stderr.write(`run ${i + 1}/${runs}: fresh ${(a.sample.readyMs / 1000).toFixed(2)} s, restart ${(b.sample.readyMs / 1000).toFixed(2)} s\n`);
}

const row = (name: string, xs: Sample[]) =>
  `| ${name} | ${runs} | ${(median(xs.map((x) => x.listeningMs)) / 1000).toFixed(2)} | ${(median(xs.map((x) => x.readyMs)) / 1000).toFixed(2)} | ${(Math.max(...xs.map((x) => x.readyMs)) / 1000).toFixed(2)} | ${(median(xs.map((x) => x.allMs)) / 1000).toFixed(2)} | ${median(xs.map((x) => x.rssMiB)).toFixed(0)} | ${median(xs.map((x) => x.processes))} |`;
const result = { machine: machineLine(), runs, fresh, restart, medianReadyMs: { fresh: median(fresh.map((x) => x.readyMs)), restart: median(restart.map((x) => x.readyMs)) }, medianAllMs: { fresh: median(fresh.map((x) => x.allMs)), restart: median(restart.map((x) => x.allMs)) } };
if (asJson) process.stdout.write(`${JSON.stringify(result)}\n`);
const section = [
  '## Start-up of `switchyard up --demo` (bench/up)',
  '',
  `Run on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machineLine()}. Command: \`npm run bench:up -- --runs ${runs} --write\`.`,
  '',
  'Time from launching `switchyard up --demo` to `/ready` answering 200 (the simulated demo model can serve: at least one replica is in the gateway\'s table), and to all three simulated clusters being routable (3 replicas in the table). The tree is the control plane + gateway, 3 agents and 3 `worker sim` replicas. *fresh*: an empty data directory. *restart*: the same directory after `kill -9` of the first process, so the replicas are still running and are adopted. *RSS* is the whole process tree (control plane + gateway, agents, replicas) once ready. Target: ready in under 10 s.',
  '',
  '| start | runs | listening s (median) | /ready 200 s (median) | /ready 200 s (max) | all 3 clusters routable s (median) | RSS MiB (median) | processes |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  row('fresh data dir', fresh),
  row('restart after kill -9 (adopt replicas)', restart),
  '',
  `Result: ready in ${(result.medianReadyMs.fresh / 1000).toFixed(1)} s (median, fresh; all three clusters routable at ${(result.medianAllMs.fresh / 1000).toFixed(1)} s) — ${result.medianAllMs.fresh < 10_000 ? 'under' : 'OVER'} the 10 s target; ${(result.medianReadyMs.restart / 1000).toFixed(1)} s after a crash.`,
  '',
].join('\n');
if (!asJson) process.stdout.write(section);
if (write) writeSection(BENCHMARKS_DOC, section);
