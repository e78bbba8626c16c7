/**
 * The admin REST API in-process (SwitchyardServer, no demo): errors, optimistic concurrency,
 * cascading deletes, dry-run diffs, the resumable watch stream, heartbeats and cluster health,
 * the OpenAPI document, and a static cluster routed through the gateway.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_VERSION, SwitchyardClient } from '../src/api/index.js';
import { SimWorker } from '../src/engines/index.js';
import { SseParser } from '../src/openai/index.js';
import { SwitchyardServer } from '../src/server.js';
import { waitFor } from './helpers/wait.js';
import { codeOf } from './helpers/errors.js';

const TOKEN = 'sy-admin-api-test';
const BIN = fileURLToPath(new URL('../bin/switchyard.js', import.meta.url));
let dir: string;
let server: SwitchyardServer;
let client: SwitchyardClient;
let worker: SimWorker;

const cluster = (name: string, url: string) => ({ apiVersion: API_VERSION, kind: 'Cluster', metadata: { name }, spec: { provider: 'static', static: { endpoints: [{ url, model: 'static-m' }] } } });
const fn = (name: string, extra: object = {}) => ({ apiVersion: API_VERSION, kind: 'Function', metadata: { name }, spec: { model: 'org/m', runtime: 'vllm', servedName: 'static-m', targetClusters: ['rack'], ...extra } });

async function api(path: string, init: RequestInit & { token?: string | null } = {}): Promise<{ status: number; body: any }> /* eslint-disable-line @typescript-eslint/no-explicit-any -- JSON bodies of many shapes */ {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(init.headers as Record<string, string>) };
  if (init.token !== null) headers.authorization = `Bearer ${init.token ?? TOKEN}`;
  const res = await fetch(server.url + path, { ...init, headers });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text };
}


beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-api-'));
  worker = await SimWorker.start({ model: 'static-m', port: 0, speedup: 50 });
  server = await SwitchyardServer.start({ dataDir: dir, port: 0, adminToken: TOKEN, switchyardBin: [process.execPath, BIN] });
  client = new SwitchyardClient({ server: server.url, token: TOKEN, user: 'tester' });
}, 30_000);

afterAll(async () => {
  await client?.close();
  await server?.close({ stopReplicas: true });
  await worker?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('admin API', () => {
  it('needs a token, and answers errors in the OpenAI error shape', async () => {
    const r = await api('/api/v1/functions', { token: null });
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ error: { message: expect.stringMatching(/missing bearer token/), type: 'authentication_error', param: null, code: 'unauthorized' } });
    expect((await api('/api/v1/functions', { token: 'nope' })).status).toBe(401);
    expect((await api('/api/v1/nothing')).body.error.code).toBe('not_found');
    expect((await api('/api/v1/functions', { method: 'PATCH' })).status).toBe(405);
    const bad = await api('/api/v1/functions', { method: 'POST', body: JSON.stringify(fn('x', { runtime: 'nope' })) });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_config', param: 'spec.runtime' });
  });

  it('creates, rejects duplicates, and rejects a stale resourceVersion with 409', async () => {
    const created = await api('/api/v1/clusters', { method: 'POST', body: JSON.stringify(cluster('rack', worker.url)) });
    expect(created.status).toBe(201);
    expect(created.body.metadata).toMatchObject({ name: 'rack', generation: 1 });
    expect((await api('/api/v1/clusters', { method: 'POST', body: JSON.stringify(cluster('rack', worker.url)) })).body.error.code).toBe('already_exists');

    const rv = created.body.metadata.resourceVersion as string;
    const first = await api('/api/v1/clusters/rack', { method: 'PUT', body: JSON.stringify({ ...cluster('rack', worker.url), metadata: { name: 'rack', resourceVersion: rv, labels: { tier: 'a' } } }) });
    expect(first.status).toBe(200);
    expect(first.body.metadata.generation).toBe(1); // labels only: no spec change
    const stale = await api('/api/v1/clusters/rack', { method: 'PUT', body: JSON.stringify({ ...cluster('rack', worker.url), metadata: { name: 'rack', resourceVersion: rv, labels: { tier: 'b' } } }) });
    expect(stale.status).toBe(409);
    expect(stale.body.error).toMatchObject({ code: 'conflict', param: 'metadata.resourceVersion' });
  });

  it('apply --dry-run shows a diff and writes nothing; apply is idempotent', async () => {
    const dry = await client.apply([fn('llm')], { dryRun: true });
    expect(dry.results).toEqual([expect.objectContaining({ kind: 'Function', name: 'llm', action: 'created', diff: expect.stringContaining('+ kind: Function') })]);
    expect(await codeOf(client.get('Function', 'llm'))).toBe('not_found');
    expect((await client.apply([fn('llm')])).results[0]?.action).toBe('created');
    expect((await client.apply([fn('llm')])).results[0]?.action).toBe('unchanged');
    const change = await client.apply([fn('llm', { args: ['--x'] })], { dryRun: true });
    expect(change.results[0]?.diff).toMatch(/- {3}args: \[\]\n\+ {3}args:\n\+ {5}- --x/);
  });

  it('a Function on a static cluster gets a Deployment, becomes Ready, and is served by the gateway', async () => {
    await waitFor(async () => (await client.get('Deployment', 'llm-rack')).status?.phase === 'Ready', { timeoutMs: 15_000, what: 'llm-rack Ready' });
    await waitFor(() => server.table.route('static-m')?.endpoints.length === 1, { what: 'the gateway to route static-m' });
    const res = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ model: 'static-m', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 }) });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-switchyard-cluster')).toBe('rack');
    expect(((await res.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(3);
    const ready = await fetch(`${server.url}/ready`);
    expect(ready.status).toBe(200);
  });

  it('watch streams changes and resumes from a resourceVersion', async () => {
    const { resourceVersion } = await client.list('Function');
    const ac = new AbortController();
    const seen: string[] = [];
    const done = (async () => {
      for await (const ev of client.watch({ resourceVersion, kinds: ['Function'], signal: ac.signal })) {
        seen.push(`${ev.type} ${ev.object.metadata.name} ${ev.resourceVersion}`);
        if (seen.length === 2) break;
      }
    })();
    await client.apply([fn('w1', { targetClusters: [] }), fn('w2', { targetClusters: [] })]);
    await done;
    ac.abort();
    expect(seen.map((s) => s.split(' ').slice(0, 2).join(' '))).toEqual(['ADDED w1', 'ADDED w2']);
    // Resume after the first event: only the second arrives (raw SSE with Last-Event-ID).
    const firstRv = seen[0]!.split(' ')[2]!;
    const res = await fetch(`${server.url}/api/v1/watch?kinds=Function`, { headers: { authorization: `Bearer ${TOKEN}`, 'last-event-id': firstRv } });
    const parser = new SseParser();
    const reader = res.body!.getReader();
    const events: string[] = [];
    while (events.length < 1) {
      const { value } = await reader.read();
      for (const ev of parser.feed(value)) events.push(`${ev.event} ${JSON.parse(ev.data).metadata.name}`);
    }
    await reader.cancel();
    expect(events[0]).toBe('ADDED w2');
  });

  it('watch from a compacted resourceVersion answers 410', async () => {
    await server.controlPlane.store.compact(1);
    const r = await api('/api/v1/watch?resourceVersion=1');
    expect(r.status).toBe(410);
    expect(r.body.error.code).toBe('gone');
  });

  it('deleting a Function with Deployments needs cascade', async () => {
    const r = await api('/api/v1/functions/llm', { method: 'DELETE' });
    expect(r.status).toBe(409);
    expect(r.body.error.message).toMatch(/still has 1 Deployment \(llm-rack\).*--cascade/);
    expect((await api('/api/v1/functions/llm?cascade=true', { method: 'DELETE' })).status).toBe(200);
    expect(await codeOf(client.get('Deployment', 'llm-rack'))).toBe('not_found');
    await waitFor(() => server.table.route('static-m') === undefined, { what: 'the route to go away' });
  });

  it('heartbeats: agent tokens are per cluster; missed heartbeats make a cluster Unhealthy, and the next one readmits it', async () => {
    const token = await client.clusterToken('rack');
    const agent = new SwitchyardClient({ server: server.url, token });
    const hb = { agentVersion: 'test', nodes: [{ name: 'n1', cpus: 8, memoryBytes: 1e9, gpus: [{ type: 'A100', count: 8, memoryMiB: 81920, inUse: 0 }], source: 'declared' as const }], endpoints: [], simulated: true, intervalMs: 100 };
    await agent.heartbeat('rack', hb);
    const healthy = await client.get('Cluster', 'rack');
    expect(healthy.status).toMatchObject({ health: 'Healthy', simulated: true, nodes: [{ gpus: [{ type: 'A100', count: 8 }] }] });
    await client.apply([cluster('other', worker.url)]);
    expect(await codeOf(agent.heartbeat('other', hb))).toBe('forbidden');
    expect(await codeOf(agent.apply([fn('nope')]))).toBe('forbidden');
    expect((await agent.list('Deployment')).items).toBeDefined(); // agents may read
    await waitFor(async () => (await client.get('Cluster', 'rack')).status?.health === 'Unhealthy', { timeoutMs: 10_000, what: 'Unhealthy after missed heartbeats' });
    expect((await client.get('Cluster', 'rack')).status?.message).toMatch(/missed \d+ heartbeats/);
    await agent.heartbeat('rack', hb);
    expect((await client.get('Cluster', 'rack')).status?.health).toBe('Healthy');
    await agent.close();
  });

  it('serves /openapi.json and the /docs reference on the same port', async () => {
    const doc = await api('/openapi.json', { token: null });
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toContain('/api/v1/apply');
    const html = await api('/docs', { token: null });
    expect(html.body).toContain('Switchyard admin API');
  });
});
