/**
 * A/B CPU cost per request of the Switchyard gateway, for optimisation work (not part of
 * `npm run bench:gateway`): one nginx upstream (the same fixed answers as the benchmark), one
 * gateway per source tree, and short wrk runs that alternate between the trees, so that both are
 * measured in the same time window on a noisy shared machine. The figure that matters is the
 * gateway process's CPU time divided by the requests it served (µs/req), not req/s.
 *
 *   node --import tsx bench/gateway/profile.ts [--tree DIR]... [--modes chat,stream,stream-usage]
 *        [--duration S] [--rounds N] [--connections C] [--cpu-prof DIR] [--idle N] [--snapshot N]
 *
 * Each `--tree` is a checkout (with node_modules) whose bin/switchyard.js is run; the default is
 * this repository; `--tree minimal` is bench/gateway/minimal-proxy.ts. A baseline tree can be a
 * copy of src/, bin/, package.json and tsconfig.json with a symlink to this node_modules.
 * `--cpu-prof DIR` starts the gateways with `node --cpu-prof` (profiles are written to
 * DIR/<tree index>/ when they exit). `--idle N` instead holds N idle streams through each tree's
 * gateway (bench/gateway/idle-upstream.ts) and reports heap and RSS per stream; `--snapshot N`
 * writes heap snapshots with 0 and N idle streams into DIR/snap-<tree index>/ (DIR from
 * --cpu-prof, default the temp dir) to compare with heapdiff.ts. ab-check.ts checks that two
 * trees behave the same.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MODEL_CHAT, MODEL_IDLE, MODEL_STREAM, requestBody, type Mode } from './fixtures.js';
import { Inspector } from './inspector.js';
import { startNginx, upstreamConfig } from './nginx.js';
import { startMinimalProxy, switchyardConfigYaml, type SwitchyardModel } from './peers.js';
import type { IdleClientsSpec } from './idle-clients.js';
import { cpuMs, freePort, killAll, REPO_ROOT, sleep, startProcess, waitFor, type Proc } from './proc.js';
import { measureStreams, startClients, startIdleUpstream } from './streams.js';
import { runWrk } from './wrk.js';

const { values } = parseArgs({
  options: {
    tree: { type: 'string', multiple: true },
    modes: { type: 'string', default: 'chat,stream,stream-usage' },
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    'cpu-prof': { type: 'string' },
    idle: { type: 'string' },
    snapshot: { type: 'string' },
  },
});

const trees = (values.tree ?? [REPO_ROOT]).map((t) => resolve(t));
const modes = values.modes.split(',') as Mode[];
const durationS = Number(values.duration);
const rounds = Number(values.rounds);
const connections = Number(values.connections);
const log = (s: string): void => void process.stderr.write(`profile: ${s}\n`);

async function startGateway(tree: string, i: number, dir: string, models: SwitchyardModel[], flags: string[]): Promise<{ proc: Proc; port: number }> {
  const configPath = join(dir, `gw${i}.yaml`);
  writeFileSync(configPath, switchyardConfigYaml(models));
  const proc = startProcess({ name: `gw${i}`, command: process.execPath, args: [...flags, join(tree, 'bin', 'switchyard.js'), 'gateway', '--config', configPath, '--port', '0', '--log-level', 'warn'], logDir: dir, cwd: tree });
  const url = await waitFor(`gateway ${tree}`, () => /switchyard gateway listening on (http:\/\/\S+)/.exec(proc.stdout())?.[1], 30_000, proc);
  return { proc, port: Number(new URL(url).port) };
}

async function cpuRuns(dir: string): Promise<void> {
  const chatPort = await freePort();
  const ssePort = await freePort();
  await startNginx('upstream', join(dir, 'upstream'), upstreamConfig(join(dir, 'upstream'), chatPort, ssePort), [`http://127.0.0.1:${chatPort}/health`]);
  const models = [
    { name: MODEL_CHAT, upstreamUrl: `http://127.0.0.1:${chatPort}` },
    { name: MODEL_STREAM, upstreamUrl: `http://127.0.0.1:${ssePort}` },
  ];
  const gws: { proc: Proc; port: number }[] = [];
  for (const [i, t] of trees.entries()) {
    const flags: string[] = [];
    if (values['cpu-prof']) {
      const d = resolve(values['cpu-prof'], String(i));
      mkdirSync(d, { recursive: true });
      flags.push('--cpu-prof', `--cpu-prof-dir=${d}`);
    }
    // `--tree minimal` runs bench/gateway/minimal-proxy.ts instead, for reference.
    gws.push(t.endsWith('/minimal') ? await startMinimalProxy(dir, Object.fromEntries(models.map((m) => [m.name, m.upstreamUrl])), flags) : await startGateway(t, i, dir, models, flags));
  }
  const results = new Map<string, number[]>();
  for (const mode of modes) {
    for (let r = 0; r < rounds; r++) {
      for (const [i, gw] of gws.entries()) {
        const e = { target: 'switchyard' as const, mode, host: '127.0.0.1', port: gw.port, path: '/v1/chat/completions', headers: {}, body: requestBody(mode, mode === 'chat' ? MODEL_CHAT : MODEL_STREAM), proxyPids: [gw.proc.pid] };
        if (r === 0) await runWrk(e, { connections, durationS: 2, scriptDir: dir });
        const c0 = cpuMs(gw.proc.pid);
        const w = await runWrk(e, { connections, durationS, scriptDir: dir });
        const c1 = cpuMs(gw.proc.pid);
        if (w.non2xx > 0) log(`tree ${i} ${mode}: ${w.non2xx} non-2xx responses`);
        const us = ((c1 - c0) * 1000) / w.requests;
        log(`tree ${i} ${mode} round ${r}: ${w.rps.toFixed(0)} req/s, ${us.toFixed(1)} µs CPU/req`);
        const k = `${mode}\t${i}`;
        results.set(k, [...(results.get(k) ?? []), us]);
      }
    }
  }
  for (const gw of gws) await gw.proc.stop(10_000);
  process.stdout.write('mode\ttree\tmedian µs/req\truns\n');
  for (const [k, xs] of results) {
    const s = [...xs].sort((a, b) => a - b);
    process.stdout.write(`${k}\t${s[Math.floor(s.length / 2)]!.toFixed(1)}\t${xs.map((x) => x.toFixed(0)).join(' ')}\n`);
  }
}

async function idleRuns(dir: string, n: number): Promise<void> {
  const idle = await startIdleUpstream(dir);
  try {
    for (const [i, t] of trees.entries()) {
      const gw = t.endsWith('/minimal') ? await startMinimalProxy(dir, { [MODEL_IDLE]: idle.url }, ['--inspect=127.0.0.1:0']) : await startGateway(t, i, dir, [{ name: MODEL_IDLE, upstreamUrl: idle.url }], ['--inspect=127.0.0.1:0']);
      const inspector = await Inspector.fromLog(gw.proc.logPath).catch(() => null);
      try {
        const r = await measureStreams(
          { name: `tree ${i}`, host: '127.0.0.1', port: gw.port, path: '/v1/chat/completions', headers: {}, body: requestBody('stream', MODEL_IDLE), pid: gw.proc.pid, inspector },
          { n, warmupStreams: 200, idleUrl: idle.url, timeoutMs: 60_000, log },
        );
        process.stdout.write(`tree ${i} (${t}): held ${r.held}/${r.requested}, RSS ${(r.rssBytesPerStream / 1024).toFixed(1)} KiB/stream, heap+external ${r.heap ? (r.heap.bytesPerStream / 1024).toFixed(1) : '?'} KiB/stream\n`);
      } finally {
        inspector?.close();
        await gw.proc.stop();
      }
    }
  } finally {
    await idle.proc.stop();
  }
}

/** Heap snapshots (node --heapsnapshot-signal) of each tree's gateway with 0 and with N idle streams, in --cpu-prof's DIR or /tmp. */
async function snapshotRuns(dir: string, n: number): Promise<void> {
  const idle = await startIdleUpstream(dir);
  const out = resolve(values['cpu-prof'] ?? tmpdir());
  try {
    for (const [i, t] of trees.entries()) {
      const d = join(out, `snap-${i}`);
      mkdirSync(d, { recursive: true });
      const flags = ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${d}`];
      // `--tree minimal` snapshots bench/gateway/minimal-proxy.ts instead, for reference.
      const gw = t.endsWith('/minimal') ? await startMinimalProxy(dir, { [MODEL_IDLE]: idle.url }, flags) : await startGateway(t, i, dir, [{ name: MODEL_IDLE, upstreamUrl: idle.url }], flags);
      const spec = (k: number): IdleClientsSpec => ({ host: '127.0.0.1', port: gw.port, path: '/v1/chat/completions', headers: {}, body: requestBody('stream', MODEL_IDLE), n: k, openingConcurrency: 250, timeoutMs: 60_000 });
      const snap = async (): Promise<void> => {
        const before = readdirSync(d).length;
        process.kill(gw.proc.pid, 'SIGUSR2');
        await waitFor('heap snapshot', () => (readdirSync(d).length > before && readdirSync(d).every((f) => !f.endsWith('.tmp')) ? true : undefined), 120_000);
        // The snapshot is written on the main thread: once the process answers again, it is complete.
        await fetch(`http://127.0.0.1:${gw.port}/health`, { signal: AbortSignal.timeout(120_000) }).catch(() => undefined);
        await sleep(500);
      };
      for (let r = 0; r < 2; r++) {
        const w = startClients(spec(200));
        await w.held;
        await w.close();
      }
      await sleep(1000);
      await snap();
      const c = startClients(spec(n));
      const held = await c.held;
      log(`tree ${i}: held ${held.held}/${held.requested}`);
      await sleep(500);
      await snap();
      await c.close();
      await gw.proc.stop();
      process.stdout.write(`tree ${i}: snapshots in ${d}\n`);
    }
  } finally {
    await idle.proc.stop();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'switchyard-profile-'));
process.on('exit', () => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
const run = values.snapshot ? snapshotRuns(dir, Number(values.snapshot)) : values.idle ? idleRuns(dir, Number(values.idle)) : cpuRuns(dir);
run.then(
  () => process.exit(0),
  (e: unknown) => {
    log(`failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(1);
  },
);
