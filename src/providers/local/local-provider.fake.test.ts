/**
 * LocalProvider logic on a VirtualClock with a fake ProcessHost: backoff timing, health-based
 * failure, drain and kill, rolling replacement, readiness timeout, port conflicts, adoption.
 * No processes and no waiting: time is advanced explicitly.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/index.js';
import type { DeploymentTarget } from '../types.js';
import { advance, FakeHost } from './fake-host.test-support.js';
import { LocalProvider } from './local-provider.js';
import type { LocalProviderOptions } from './options.js';

const target = (over: Partial<DeploymentTarget> = {}): DeploymentTarget => ({
  deployment: 'fake',
  cluster: 'local',
  function: 'f',
  servedName: 'm',
  model: 'm',
  runtime: 'sim',
  replicas: 1,
  gpu: { type: 'A100', count: 1 },
  tensorParallelSize: 1,
  args: [],
  env: {},
  specHash: 'v1',
  ...over,
});

let stateDir: string;
let clock: VirtualClock;
let host: FakeHost;
let providers: LocalProvider[];

beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'sy-local-fake-'));
  clock = new VirtualClock();
  host = new FakeHost();
  providers = [];
});
afterEach(async () => {
  for (const p of providers) await p.close({ stopReplicas: false });
  rmSync(stateDir, { recursive: true, force: true });
});

function provider(over: Partial<LocalProviderOptions> = {}): LocalProvider {
  const p = new LocalProvider({ stateDir, switchyardBin: ['node', 'sy.js'], clock, probeInterval: { starting: 100, ready: 1000 }, drainTimeout: 2000, ...over }, host);
  providers.push(p);
  return p;
}

describe('LocalProvider with a fake host', () => {
  it('restarts a crashed replica after an exponential backoff, counting restarts', async () => {
    const p = provider();
    await p.apply(target());
    await advance(clock, 100);
    expect(p.status('fake')[0]).toMatchObject({ state: 'ready', restarts: 0, pid: 1000 });

    const restartTimes: number[] = [];
    for (let i = 0; i < 4; i++) {
      const proc = host.live()[0]!;
      host.exit(proc, 70, null);
      const crashedAt = clock.now();
      expect(p.status('fake')[0]).toMatchObject({ state: 'failed', message: `process ${proc.pid} exited with code 70` });
      // Step in 100 ms increments until a new process appears.
      while (host.live().length === 0) await advance(clock, 100);
      restartTimes.push(clock.now() - crashedAt);
      await advance(clock, 100);
    }
    expect(restartTimes).toEqual([500, 1000, 2000, 4000]);
    expect(p.status('fake')[0]).toMatchObject({ state: 'ready', restarts: 4 });

    // Ready for 60 s: the backoff starts over.
    await advance(clock, 60_000);
    host.exit(host.live()[0]!, null, 'SIGKILL');
    await advance(clock, 499);
    expect(host.live()).toHaveLength(0);
    await advance(clock, 1);
    expect(host.live()).toHaveLength(1);
  });

  it('fails a ready replica after 3 failed probes in a row, kills it and restarts it', async () => {
    const p = provider();
    await p.apply(target());
    await advance(clock, 100);
    const first = host.live()[0]!;
    first.healthy = false;
    await advance(clock, 2000);
    expect(p.status('fake')[0]!.state).toBe('ready');
    await advance(clock, 1000);
    expect(p.status('fake')[0]).toMatchObject({ state: 'failed' });
    expect(p.status('fake')[0]!.message).toMatch(/stopped answering health probes \(3 in a row\)/);
    expect(first.signals).toEqual(['SIGKILL']);
    await advance(clock, 600);
    expect(p.status('fake')[0]).toMatchObject({ state: 'ready', restarts: 1, pid: first.pid + 1 });
  });

  it('drains with SIGTERM, then SIGKILL after drainTimeout, and deletes the state file', async () => {
    const p = provider();
    await p.apply(target());
    await advance(clock, 100);
    const proc = host.live()[0]!;
    proc.exitOnTerm = false;
    expect(existsSync(join(stateDir, 'fake', '0.json'))).toBe(true);
    const removed = p.remove('fake');
    await advance(clock, 1);
    expect(p.status('fake')[0]!.state).toBe('draining');
    expect(proc.signals).toEqual(['SIGTERM']);
    await advance(clock, 1998);
    expect(proc.alive).toBe(true);
    await advance(clock, 100);
    await removed;
    expect(proc.signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(p.status('fake')).toEqual([]);
    expect(p.deployments()).toEqual([]);
    expect(existsSync(join(stateDir, 'fake', '0.json'))).toBe(false);
  });

  it('rolls a spec change with a surge of one: never fewer ready replicas', async () => {
    const p = provider();
    await p.apply(target({ replicas: 2 }));
    await advance(clock, 100);
    host.autoHealthy = false;
    const ready = (): number => p.status('fake').filter((r) => r.state === 'ready').length;
    let minReady = 2;
    p.onChange(() => (minReady = Math.min(minReady, ready())));
    await p.apply(target({ replicas: 2, specHash: 'v2', args: ['--seed', '2'] }));
    expect(host.live()).toHaveLength(3);
    expect(p.status('fake').map((r) => [r.index, r.state])).toEqual([
      [0, 'ready'],
      [0, 'starting'],
      [1, 'ready'],
    ]);
    for (let i = 0; i < 10 && host.procs.filter((x) => x.req.argv.includes('--seed') && x.alive && x.healthy).length < 2; i++) {
      for (const x of host.live()) if (x.req.argv.includes('--seed')) x.healthy = true;
      await advance(clock, 100);
      expect(host.live().filter((x) => x.req.argv.includes('--seed')).length).toBeLessThanOrEqual(2);
    }
    await advance(clock, 200);
    expect(minReady).toBe(2);
    expect(host.live().map((x) => x.req.argv.includes('--seed'))).toEqual([true, true]);
    expect(p.status('fake').map((r) => [r.index, r.state])).toEqual([
      [0, 'ready'],
      [1, 'ready'],
    ]);
    expect(readdirSync(join(stateDir, 'fake')).filter((f) => f.endsWith('.json')).sort()).toEqual(['0.json', '1.json']);
  });

  it('fails a replica that is not ready within readyTimeout, and kills it', async () => {
    host.autoHealthy = false;
    const p = provider({ readyTimeout: 1000 });
    await p.apply(target());
    await advance(clock, 1000);
    expect(p.status('fake')[0]).toMatchObject({ state: 'failed', message: 'not ready after 1000 ms (readiness timeout)' });
    expect(host.procs[0]!.signals).toEqual(['SIGKILL']);
  });

  it('retries on another port when the process reports its port taken, without counting a restart', async () => {
    const p = provider();
    host.autoHealthy = false;
    await p.apply(target());
    const first = host.procs[0]!;
    first.output = 'Error: listen EADDRINUSE: address already in use 127.0.0.1:20000\n';
    host.exit(first, 1, null);
    await advance(clock, 1);
    expect(host.procs).toHaveLength(2);
    expect(host.procs[1]!.port).not.toBe(first.port);
    host.procs[1]!.healthy = true;
    await advance(clock, 100);
    expect(p.status('fake')[0]).toMatchObject({ state: 'ready', restarts: 0, endpoint: `http://127.0.0.1:${host.procs[1]!.port}` });
  });

  it('a runtime that needs a command fails with a clear message and is not retried', async () => {
    const p = provider();
    await p.apply(target({ runtime: 'trtllm' }));
    await advance(clock, 60_000);
    expect(host.procs).toHaveLength(0);
    expect(p.status('fake')[0]).toMatchObject({ state: 'failed', restarts: 0 });
    expect(p.status('fake')[0]!.message).toMatch(/the local provider needs 'command' for runtime 'trtllm'/);
  });

  it('adopts live replicas from the state files; dead ones restart on the next apply', async () => {
    const a = provider();
    await a.apply(target({ replicas: 2 }));
    await advance(clock, 100);
    await a.close({ stopReplicas: false });
    const [p0, p1] = host.live();
    host.exit(p1!, null, 'SIGKILL');

    const b = provider();
    expect(b.deployments()).toEqual(['fake']);
    await advance(clock, 1);
    expect(b.status('fake').map((r) => [r.state, r.pid])).toEqual([
      ['ready', p0!.pid],
      ['failed', p1!.pid],
    ]);
    await advance(clock, 10_000);
    expect(host.procs).toHaveLength(2);
    await b.apply(target({ replicas: 2 }));
    await advance(clock, 100);
    expect(host.procs).toHaveLength(3);
    expect(b.status('fake').map((r) => [r.state, r.restarts])).toEqual([
      ['ready', 0],
      ['ready', 1],
    ]);
  });
});
