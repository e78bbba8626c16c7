/**
 * A gateway keeps serving from its last known table while the control plane is unreachable.
 *
 * Real processes: `switchyard up` (the control plane, SQLite in a temp data dir) runs one
 * simulated replica on a local cluster (spawned detached by the local provider), and a standalone
 * `switchyard gateway --control-plane …` follows it. The control plane is then killed with
 * SIGKILL: the replica lives on, and the gateway must keep answering chat completions and
 * /v1/models from the table (and API keys) it last had, and say so in its log. Finally the control
 * plane comes back on the same data dir and port, and the gateway re-syncs (a key minted after the
 * restart reaches it over the watch stream) without having failed a request in between.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_VERSION, type DeploymentResource, type SwitchyardClient } from '../src/api/index.js';
import { alive, killQuietly, startCli, startUp, type RunningProcess } from './helpers/platform.js';
import { waitFor } from './helpers/wait.js';

const TOKEN = 'sy-admin-gateway-outage-test';
const MODEL = 'outage-m';
const LOST_LINE = 'lost the control plane; serving the last known routing table';

type Up = RunningProcess & { url: string; client: SwitchyardClient };

let dir: string;
let dataDir: string;
let up: Up;
let gateway: RunningProcess & { value: string };
let key: string;
let replicaPids: number[] = [];

const admin = async (url: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
  const r = await fetch(`${url}${path}`, { method: body === undefined ? 'GET' : 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};

const mintKey = async (url: string): Promise<string> => {
  const r = await admin(url, '/api/v1/tenants/outage/keys', {});
  expect(r.status).toBe(201);
  return r.body.key as string;
};

const chat = (apiKey: string, content = `hi ${Math.random()}`): Promise<Response> =>
  fetch(`${gateway.value}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` }, body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content }], max_tokens: 3, ignore_eos: true }) });

/** One chat completion through the standalone gateway, checked for the OpenAI shape. */
async function expectServed(apiKey: string): Promise<void> {
  const res = await chat(apiKey);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  expect(res.headers.get('x-switchyard-backend'), 'x-switchyard-backend').toBeTruthy();
  const body = JSON.parse(text) as { object: string; model: string; choices: { index: number; finish_reason: string; message: { role: string; content: string } }[]; usage: { completion_tokens: number } };
  expect(body.object).toBe('chat.completion');
  expect(body.model).toBe(MODEL);
  expect(body.choices[0]?.message.role).toBe('assistant');
  expect(body.choices[0]?.message.content.length).toBeGreaterThan(0);
  expect(body.usage.completion_tokens).toBe(3);
}

async function modelIds(apiKey: string): Promise<string[]> {
  const res = await fetch(`${gateway.value}/v1/models`, { headers: { authorization: `Bearer ${apiKey}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: { id: string }[] }).data.map((m) => m.id);
}

async function readyDeployment(client: SwitchyardClient): Promise<DeploymentResource | undefined> {
  const d = (await client.list('Deployment')).items.find((x): x is DeploymentResource => x.kind === 'Deployment' && x.spec.function === 'outage');
  return d?.status?.phase === 'Ready' && d.status.replicas.some((r) => r.state === 'ready' && r.pid) ? d : undefined;
}

/** Pids of every replica the local provider recorded under the data dir (for cleanup). */
function statePids(): number[] {
  const root = join(dataDir, 'replicas');
  const pids: number[] = [];
  try {
    for (const d of readdirSync(root, { withFileTypes: true })) {
      if (!d.isDirectory()) continue;
      for (const f of readdirSync(join(root, d.name))) {
        if (!f.endsWith('.json')) continue;
        try {
          const pid = (JSON.parse(readFileSync(join(root, d.name, f), 'utf8')) as { pid: number | null }).pid;
          if (pid) pids.push(pid);
        } catch {
          // a file being replaced
        }
      }
    }
  } catch {
    // no replicas directory
  }
  return pids;
}

/** A failure message with the gateway's log appended. */
const withLog = (what: string): string => `${what}\n--- gateway output ---\n${gateway.output()}`;
const orLog = <T>(p: Promise<T>): Promise<T> => p.catch((e: unknown) => Promise.reject(new Error(withLog(e instanceof Error ? e.message : String(e)))));

const upArgs = (port: number) => ['--port', String(port), '--log-level', 'warn'];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-gw-outage-'));
  dataDir = join(dir, 'data');
  up = await startUp(dataDir, TOKEN, ['--log-level', 'warn']);
  // One local cluster (no agent needed) with one simulated replica, and a tenant with a key.
  await up.client.apply([
    { apiVersion: API_VERSION, kind: 'Cluster', metadata: { name: 'local-rack' }, spec: { provider: 'local' } },
    { apiVersion: API_VERSION, kind: 'Function', metadata: { name: 'outage' }, spec: { model: 'org/outage', servedName: MODEL, runtime: 'sim', resources: { gpu: { type: 'any', count: 1 } }, sim: { speedup: 50 }, targetClusters: ['local-rack'] } },
    { apiVersion: API_VERSION, kind: 'Tenant', metadata: { name: 'outage' }, spec: {} },
  ]);
  key = await mintKey(up.url);
  const dep = await waitFor(() => readyDeployment(up.client), { timeoutMs: 20_000, intervalMs: 100, what: 'the sim Deployment to be Ready' });
  replicaPids = dep.status!.replicas.map((r) => r.pid!).filter(Boolean);
  gateway = await startCli(['gateway', '--control-plane', up.url, '--token', TOKEN, '--host', '127.0.0.1', '--port', '0'], {}, (out) => /switchyard gateway listening on (http:\/\/[\d.:]+)/.exec(out)?.[1]);
  await orLog(waitFor(async () => (await chat(key)).status === 200, { timeoutMs: 15_000, intervalMs: 50, what: 'a chat completion through the standalone gateway' }));
}, 45_000);

afterAll(async () => {
  if (gateway && alive(gateway.pid)) {
    gateway.kill('SIGTERM');
    await Promise.race([gateway.exited, new Promise((r) => setTimeout(r, 5000).unref())]);
    killQuietly(gateway.pid);
  }
  const pids = dataDir ? [...replicaPids, ...statePids()] : replicaPids;
  if (up && alive(up.pid)) {
    up.kill('SIGINT'); // stops its replicas too
    await Promise.race([up.exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
    killQuietly(up.pid);
  }
  await up?.client.close();
  // Replicas are detached (their own process group): whatever is left, kill it.
  for (const pid of pids) killQuietly(pid);
  await waitFor(() => pids.every((p) => !alive(p)), { timeoutMs: 5000, what: 'the replicas to exit' }).catch(() => undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe('a standalone gateway while its control plane is unreachable', () => {
  it('keeps serving chat completions and /v1/models from the last known table after kill -9 of the control plane', async () => {
    expect(replicaPids.length).toBe(1);
    expect(await modelIds(key)).toContain(MODEL);
    expect(gateway.output()).not.toContain(LOST_LINE);

    up.kill('SIGKILL');
    expect(await up.exited).toBe('SIGKILL');
    await up.client.close();
    // The control plane is really gone, and the replica outlived it.
    await expect(fetch(`${up.url}/health`)).rejects.toThrow();
    expect(replicaPids.every(alive)).toBe(true);
    await orLog(waitFor(() => gateway.output().includes(LOST_LINE), { timeoutMs: 5000, intervalMs: 20, what: 'the gateway to log that it serves the last known table' }));

    // Requests for a while (at least 8, over 1.5 s: several reconnect attempts) all succeed.
    const until = Date.now() + 1500;
    let served = 0;
    while (served < 8 || Date.now() < until) {
      await orLog(expectServed(key));
      served++;
    }
    expect(await modelIds(key)).toContain(MODEL);
    const routing = (await (await fetch(`${gateway.value}/debug/routing`)).json()) as { models: Record<string, { endpoints: { id: string }[] }> };
    expect(routing.models[MODEL]?.endpoints.map((e) => e.id)).toEqual(['outage-local-rack-0']);
    expect((await fetch(`${gateway.value}/ready`)).status).toBe(200);
    // Auth still comes from the last known keys: a made-up key is refused, not waved through.
    expect((await chat('sk-sy-' + 'A'.repeat(43))).status).toBe(401);
    expect(replicaPids.every(alive)).toBe(true);
    expect(alive(gateway.pid)).toBe(true);
  }, 20_000);

  it('keeps serving through the control plane restart on the same port, then re-syncs over the watch stream', async () => {
    const port = Number(new URL(up.url).port);
    // Steady load from the outage through the restart and the re-sync: nothing may fail.
    let stop = false;
    let served = 0;
    const failures: string[] = [];
    const load = (async () => {
      while (!stop) {
        const r = await chat(key).catch((e: unknown) => e);
        if (r instanceof Response && r.status === 200 && r.headers.get('x-switchyard-backend')) served++;
        else failures.push(r instanceof Response ? `${r.status} ${await r.text()}` : String(r));
        if (r instanceof Response && !r.bodyUsed) await r.arrayBuffer();
      }
    })();
    try {
      up = await startUp(dataDir, TOKEN, upArgs(port));
      expect(up.url).toBe(`http://127.0.0.1:${port}`);
      // A key minted on the restarted control plane works on the gateway only once it has re-synced.
      const fresh = await mintKey(up.url);
      await orLog(waitFor(async () => (await chat(fresh)).status === 200, { timeoutMs: 15_000, intervalMs: 50, what: 'the gateway to re-sync and accept a key minted after the restart' }));
      const mark = served;
      await waitFor(() => served >= mark + 5, { timeoutMs: 5000, what: 'more requests after the re-sync' });
      // The running replica was adopted, not replaced.
      const dep = await waitFor(() => readyDeployment(up.client), { timeoutMs: 10_000, intervalMs: 100, what: 'the Deployment Ready after the restart' });
      expect(dep.status!.replicas.map((r) => r.pid)).toEqual(replicaPids);
    } finally {
      stop = true;
      await load;
    }
    expect(failures, withLog('requests that failed around the restart')).toEqual([]);
    expect(served).toBeGreaterThan(5);
    expect(await modelIds(key)).toContain(MODEL);
  }, 30_000);
});
