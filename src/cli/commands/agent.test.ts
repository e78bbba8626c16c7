/** `switchyard agent` as a real process against a fake control plane on 127.0.0.1. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { apiError, startFakeApi, type FakeReply } from '../test-support.js';

const BIN = fileURLToPath(new URL('../../../bin/switchyard.js', import.meta.url));

let api: Awaited<ReturnType<typeof startFakeApi>>;
let heartbeatReply: () => FakeReply = () => ({ status: 204, text: '' });
const children: ChildProcess[] = [];

beforeAll(async () => {
  api = await startFakeApi([
    (r) => (r.method === 'POST' && r.url === '/api/v1/clusters/sim-a/heartbeat' ? heartbeatReply() : undefined),
    (r) => (r.method === 'PUT' && r.url === '/api/v1/clusters/sim-a/prefix-summary' ? { status: 204, text: '' } : undefined),
    (r) => (r.method === 'GET' && /^\/api\/v1\/(deployments|functions)$/.test(r.url) ? { json: { items: [], resourceVersion: '1' } } : undefined),
  ]);
});
afterAll(async () => {
  await api.close();
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  api.requests.length = 0;
  heartbeatReply = () => ({ status: 204, text: '' });
});

function startAgent(): { child: ChildProcess; out: () => string; err: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, 'agent', '--cluster', 'sim-a', '--gpus', 'A100:8', '--heartbeat-interval', '200ms', '--control-plane', api.url], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, SWITCHYARD_AGENT_TOKEN: 'agent-secret', SWITCHYARD_LOG_LEVEL: 'info' },
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

async function until(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const beats = () => api.requests.filter((r) => r.url === '/api/v1/clusters/sim-a/heartbeat');

describe('switchyard agent (process)', () => {
  it('registers, heartbeats periodically with the declared inventory, and exits 0 on SIGTERM', async () => {
    const a = startAgent();
    await until('the registered line', () => a.out().includes('registered'));
    expect(a.out()).toMatch(/^switchyard agent: cluster 'sim-a' registered with http:\/\/127\.0\.0\.1:\d+ \(8xA100, SIMULATED, source declared; heartbeat every 200ms\)\n$/);
    await until('three heartbeats', () => beats().length >= 3);
    const hb = JSON.parse(beats()[0]!.body);
    expect(hb).toMatchObject({ simulated: true, intervalMs: 200, endpoints: [], nodes: [{ source: 'declared', gpus: [{ type: 'A100', count: 8, memoryMiB: 81920, inUse: 0 }] }] });
    expect(beats()[0]!.headers.authorization).toBe('Bearer agent-secret');
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
  });

  it('keeps retrying while the control plane fails (warning once), registers, and exits when its parent goes away', async () => {
    let failures = 0;
    heartbeatReply = () => (failures++ < 3 ? apiError(503, 'starting up', 'unavailable') : { status: 204, text: '' });
    const a = startAgent();
    await until('the registered line', () => a.out().includes('registered'));
    const warnings = a.err().split('\n').filter((l) => l.includes('"level":"warn"'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('starting up');
    // The IPC channel closing is how `switchyard up` dying looks from here.
    a.child.disconnect();
    expect(await a.exited).toBe(0);
  });
});
