/**
 * LocalProvider with real processes: `switchyard worker sim` (bin/switchyard.js, --speedup 100)
 * and small `node -e` servers. Every process a test starts carries a marker in its environment;
 * afterEach kills whatever still carries it, by pid, so no test leaves orphans.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { describeProviderContract } from '../contract.js';
import { listModels, pidAlive, processMarker, SWITCHYARD_BIN, waitFor, waitForReady } from '../test-support.js';
import type { DeploymentTarget } from '../types.js';
import { LocalProvider } from './local-provider.js';
import type { LocalProviderOptions } from './options.js';

const TIMEOUT = 120_000;

interface Local {
  provider: LocalProvider;
  stateDir: string;
  marker: ReturnType<typeof processMarker>;
  open(over?: Partial<LocalProviderOptions>): LocalProvider;
  target(deployment: string, replicas: number, over?: Partial<DeploymentTarget>): DeploymentTarget;
  cleanup(): Promise<void>;
}

/** A LocalProvider on a fresh state directory; `open()` makes another on the same directory. */
function local(over: Partial<LocalProviderOptions> = {}): Local {
  const stateDir = mkdtempSync(join(tmpdir(), 'sy-local-'));
  const marker = processMarker();
  const opened: LocalProvider[] = [];
  const open = (more: Partial<LocalProviderOptions> = {}): LocalProvider => {
    const p = new LocalProvider({
      stateDir,
      switchyardBin: SWITCHYARD_BIN,
      probeInterval: { starting: 50, ready: 200 },
      restartBackoff: { initial: 100, max: 1000 },
      drainTimeout: 5000,
      readyTimeout: 60_000,
      ...over,
      ...more,
    });
    opened.push(p);
    return p;
  };
  return {
    provider: open(),
    stateDir,
    marker,
    open,
    target: (deployment, replicas, more = {}) => ({
      deployment,
      cluster: 'local',
      function: deployment,
      servedName: `${deployment}-model`,
      model: 'demo-llama-8b',
      runtime: 'sim',
      replicas,
      gpu: { type: 'A100', count: 1 },
      tensorParallelSize: 1,
      sim: { speedup: 100 },
      args: [],
      env: { ...marker.env, SWITCHYARD_DEBUG: '', NO_COLOR: '1' },
      specHash: 'v1',
      ...more,
    }),
    async cleanup() {
      for (const p of opened) await p.close({ stopReplicas: true }).catch(() => undefined);
      marker.killMarked();
      await waitFor(() => marker.pids().length === 0, { timeoutMs: 5000, what: 'no process left from this test' });
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

describeProviderContract('LocalProvider', () => {
  const l = local();
  return { provider: l.provider, target: (d, n) => l.target(d, n), ownsProcesses: true, maxReplicas: 8, cleanup: () => l.cleanup() };
});

/** A tiny OpenAI-ish server: /health, /v1/models; logs SIGTERM and exits on it unless IGNORE_TERM=1. */
const NODE_SERVER = [
  "const [port, name] = process.argv.slice(1);",
  "require('http').createServer((q, r) => {",
  "  if (q.url === '/health') return r.end('ok');",
  "  if (q.url === '/v1/models') { r.setHeader('content-type', 'application/json'); return r.end(JSON.stringify({ object: 'list', data: [{ id: name, object: 'model' }] })); }",
  "  r.statusCode = 404; r.end();",
  "}).listen(Number(port), '127.0.0.1', () => console.log('custom server listening on ' + port));",
  "process.on('SIGTERM', () => { console.log('got SIGTERM'); if (process.env.IGNORE_TERM !== '1') process.exit(0); });",
].join(' ');
const CUSTOM_COMMAND = `"${process.execPath}" -e "${NODE_SERVER}" {port} {servedName}`;

describe('LocalProvider (real processes)', () => {
  let l: Local;
  afterEach(async () => {
    await l.cleanup();
  });

  it('restarts a replica killed with SIGKILL: new pid, restarts=1', { timeout: TIMEOUT }, async () => {
    l = local();
    await l.provider.apply(l.target('crash', 1));
    const [before] = await waitForReady(l.provider, 'crash', 1);
    const states: string[] = [];
    l.provider.onChange(() => states.push(l.provider.status('crash')[0]?.state ?? 'none'));
    process.kill(before!.pid!, 'SIGKILL');
    const [after] = await waitFor(() => {
      const s = l.provider.status('crash');
      return s[0]?.state === 'ready' && s[0].restarts === 1 ? s : undefined;
    }, { timeoutMs: 60_000, what: 'the restarted replica' });
    expect(states.slice(0, 3)).toEqual(['failed', 'pending', 'starting']);
    expect(after!.pid).not.toBe(before!.pid);
    expect(pidAlive(before!.pid!)).toBe(false);
    expect((await listModels(after!.endpoint!))?.ids).toEqual(['crash-model']);
  });

  it('a new provider adopts running replicas: same pids, no new processes on apply', { timeout: TIMEOUT }, async () => {
    l = local();
    const t = l.target('adopt', 2);
    await l.provider.apply(t);
    const before = await waitForReady(l.provider, 'adopt', 2);
    await l.provider.close({ stopReplicas: false });
    for (const r of before) expect(pidAlive(r.pid!)).toBe(true);
    expect(JSON.parse(readFileSync(join(l.stateDir, 'adopt', '0.json'), 'utf8'))).toMatchObject({ pid: before[0]!.pid, port: Number(new URL(before[0]!.endpoint!).port), specHash: 'v1', restarts: 0 });

    const again = l.open();
    expect(again.deployments()).toEqual(['adopt']);
    const adopted = await waitForReady(again, 'adopt', 2);
    expect(adopted.map((r) => [r.pid, r.endpoint])).toEqual(before.map((r) => [r.pid, r.endpoint]));
    await again.apply(t);
    await again.apply(t);
    expect(again.status('adopt').map((r) => [r.pid, r.state])).toEqual(before.map((r) => [r.pid, 'ready']));
    expect(l.marker.pids().sort()).toEqual(before.map((r) => r.pid).sort());
  });

  it('replicas survive a kill -9 of the control plane process and are adopted by the next one', { timeout: TIMEOUT }, async () => {
    l = local();
    const t = l.target('cp', 1);
    // A control plane in its own process: apply, wait for ready, print the status, then SIGKILL itself.
    const index = fileURLToPath(new URL('../index.ts', import.meta.url));
    const script = [
      `import { LocalProvider } from ${JSON.stringify(index)};`,
      `const p = new LocalProvider({ stateDir: ${JSON.stringify(l.stateDir)}, switchyardBin: ${JSON.stringify(SWITCHYARD_BIN)}, probeInterval: { starting: 50 } });`,
      `await p.apply(${JSON.stringify(t)});`,
      `while (p.status('cp')[0]?.state !== 'ready') await new Promise((r) => setTimeout(r, 20));`,
      `console.log(JSON.stringify(p.status('cp')));`,
      `process.kill(process.pid, 'SIGKILL');`,
    ].join('\n');
    const cp = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...l.marker.env } });
    let out = '';
    cp.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exit = await new Promise<NodeJS.Signals | null>((resolve) => cp.once('close', (_code, signal) => resolve(signal)));
    expect(exit).toBe('SIGKILL');
    const [before] = JSON.parse(out) as { pid: number; endpoint: string }[];
    expect(pidAlive(before!.pid)).toBe(true);

    const next = l.open();
    const [adopted] = await waitForReady(next, 'cp', 1);
    expect(adopted).toMatchObject({ pid: before!.pid, endpoint: before!.endpoint, restarts: 0 });
    await next.apply(t);
    expect(next.status('cp').map((r) => r.pid)).toEqual([before!.pid]);
    // Marked processes: the worker, and (until it notices) the dead control plane's esbuild service.
    const workers = l.marker.pids().filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('worker\0sim'));
    expect(workers).toEqual([before!.pid]);
  });

  it('rolls replicas on a specHash change without dropping below the replica count', { timeout: TIMEOUT }, async () => {
    l = local();
    await l.provider.apply(l.target('roll', 2));
    const before = await waitForReady(l.provider, 'roll', 2);
    let minReady = 2;
    l.provider.onChange(() => (minReady = Math.min(minReady, l.provider.status('roll').filter((r) => r.state === 'ready').length)));
    await l.provider.apply(l.target('roll', 2, { servedName: 'roll-v2', specHash: 'v2' }));
    const after = await waitFor(() => {
      const s = l.provider.status('roll');
      return s.length === 2 && s.every((r) => r.state === 'ready' && !before.some((b) => b.pid === r.pid)) ? s : undefined;
    }, { timeoutMs: 90_000, what: 'two replacement replicas' });
    expect(minReady).toBe(2);
    for (const r of after) expect((await listModels(r.endpoint!))?.ids).toEqual(['roll-v2']);
    await waitFor(() => before.every((b) => !pidAlive(b.pid!)), { what: 'the old replicas to exit' });
    expect(existsSync(join(l.stateDir, 'roll', '0.surge.json'))).toBe(false);
  });

  it('runs a custom command template; graceful stop sends SIGTERM, then SIGKILL after drainTimeout', { timeout: TIMEOUT }, async () => {
    l = local({ drainTimeout: 500 });
    const t = l.target('custom', 1, { runtime: 'custom', command: CUSTOM_COMMAND, sim: undefined });
    await l.provider.apply({ ...t, env: { ...t.env, IGNORE_TERM: '1' } });
    const [r] = await waitForReady(l.provider, 'custom', 1);
    expect((await listModels(r!.endpoint!))?.ids).toEqual(['custom-model']);
    const states: string[] = [];
    l.provider.onChange(() => states.push(...l.provider.status('custom').map((s) => s.state)));
    const started = Date.now();
    await l.provider.remove('custom');
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(states).toContain('draining');
    expect(pidAlive(r!.pid!)).toBe(false);
    const log = readFileSync(join(l.stateDir, 'custom', '0.log'), 'utf8');
    expect(log).toContain('custom server listening on');
    expect(log).toContain('got SIGTERM');
    expect(existsSync(join(l.stateDir, 'custom', '0.json'))).toBe(false);
  });

  it('logs() returns the startup lines, tail limits them, follow streams new lines until aborted', { timeout: TIMEOUT }, async () => {
    l = local();
    await l.provider.apply(l.target('logs', 1));
    await waitForReady(l.provider, 'logs', 1);
    const lines: string[] = [];
    for await (const line of l.provider.logs('logs', 0)) lines.push(line);
    expect(lines[0]).toMatch(/^\[switchyard\] .* starting: .*worker sim --model logs-model/);
    expect(lines.some((x) => x.includes("listening on http://127.0.0.1:"))).toBe(true);
    const tail: string[] = [];
    for await (const line of l.provider.logs('logs', 0, { tail: 1 })) tail.push(line);
    expect(tail).toEqual([lines.at(-1)]);

    const ac = new AbortController();
    const followed: string[] = [];
    const following = (async () => {
      for await (const line of l.provider.logs('logs', 0, { follow: true, tail: 0, signal: ac.signal })) {
        followed.push(line);
        if (line.includes('shutting down')) ac.abort();
      }
    })();
    await l.provider.remove('logs'); // SIGTERM: the worker logs its shutdown
    await waitFor(() => ac.signal.aborted, { what: 'the shutdown lines to be followed' });
    await following;
    expect(followed.some((x) => x.includes('received SIGTERM'))).toBe(true);
    expect(followed.some((x) => x.includes('listening on'))).toBe(false);
  });

  it('a runtime without a default command fails with a clear message, without processes', async () => {
    l = local();
    await l.provider.apply(l.target('trt', 1, { runtime: 'trtllm' }));
    const [r] = l.provider.status('trt');
    expect(r).toMatchObject({ state: 'failed', restarts: 0 });
    expect(r!.message).toMatch(/the local provider needs 'command' for runtime 'trtllm'/);
    expect(l.marker.pids()).toEqual([]);
  });
});
