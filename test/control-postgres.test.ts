/**
 * Scaled out: two control planes (SwitchyardServer) sharing one PostgreSQL schema. Writes made
 * through one are seen by the other's API, watch stream and gateway routing table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { API_VERSION, SwitchyardClient } from '../src/api/index.js';
import { SimWorker } from '../src/engines/index.js';
import { SwitchyardServer } from '../src/server.js';
import { describeWithPostgres, dropSchemas, uniqueSchema } from './helpers/postgres.js';
import { waitFor } from './helpers/wait.js';

const TOKEN = 'sy-admin-pg-test';
const BIN = fileURLToPath(new URL('../bin/switchyard.js', import.meta.url));

describeWithPostgres('two control planes on one PostgreSQL', (db) => {
  const schema = uniqueSchema('cp');
  const dirs: string[] = [];
  const servers: SwitchyardServer[] = [];
  const clients: SwitchyardClient[] = [];
  let worker: SimWorker;

  beforeAll(async () => {
    const url = `${await db.url()}?schema=${schema}`;
    worker = await SimWorker.start({ model: 'shared-m', port: 0, speedup: 50 });
    for (let i = 0; i < 2; i++) {
      const dir = mkdtempSync(join(tmpdir(), `switchyard-pg-${i}-`));
      dirs.push(dir);
      const s = await SwitchyardServer.start({ dataDir: dir, port: 0, databaseUrl: url, adminToken: TOKEN, switchyardBin: [process.execPath, BIN] });
      servers.push(s);
      clients.push(new SwitchyardClient({ server: s.url, token: TOKEN }));
    }
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) await c.close();
    for (const s of servers) await s.close({ stopReplicas: true });
    await worker?.close();
    await dropSchemas(await db.url(), [schema]);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('shares resources, the watch stream and routing between replicas', async () => {
    const [a, b] = clients as [SwitchyardClient, SwitchyardClient];
    expect(servers[0]!.controlPlane.store.driver).toBe('postgres');
    expect(servers[1]!.controlPlane.bootstrapToken).toBeUndefined(); // the first one created it

    const { resourceVersion } = await b.list('Function');
    const ac = new AbortController();
    const seen = (async () => {
      for await (const ev of b.watch({ resourceVersion, kinds: ['Function'], signal: ac.signal })) if (ev.object.metadata.name === 'shared') return ev.type;
      return undefined;
    })();
    await a.apply([
      { apiVersion: API_VERSION, kind: 'Cluster', metadata: { name: 'rack' }, spec: { provider: 'static', static: { endpoints: [{ url: worker.url, model: 'shared-m' }] } } },
      { apiVersion: API_VERSION, kind: 'Function', metadata: { name: 'shared' }, spec: { model: 'org/m', runtime: 'vllm', servedName: 'shared-m', targetClusters: ['rack'] } },
    ]);
    expect(await seen).toBe('ADDED'); // B's watcher woke up through LISTEN/NOTIFY
    ac.abort();
    expect((await b.get('Function', 'shared')).spec.servedName).toBe('shared-m');

    await waitFor(async () => (await b.get('Deployment', 'shared-rack')).status?.phase === 'Ready', { timeoutMs: 20_000, what: 'the Deployment to be Ready' });
    for (const s of servers) await waitFor(() => s.table.route('shared-m')?.endpoints.length === 1, { timeoutMs: 10_000, what: `${s.url} to route shared-m` });
    const res = await fetch(`${servers[1]!.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ model: 'shared-m', prompt: 'hi', max_tokens: 2 }) });
    expect(res.status).toBe(200);

    // Optimistic concurrency holds across replicas: a stale write through B after A's update is rejected.
    // Both reconcilers write the Function's status (which bumps resourceVersion), so A's own
    // read-modify-write may race one of them: A retries on conflict, as any client would.
    let cur = await a.get('Function', 'shared');
    for (let attempt = 0; ; attempt++) {
      try {
        await a.replace({ apiVersion: API_VERSION, kind: 'Function', metadata: { name: 'shared', resourceVersion: cur.metadata.resourceVersion }, spec: { ...cur.spec, args: ['--a'] } });
        break;
      } catch (err) {
        if ((err as { code?: string }).code !== 'conflict' || attempt >= 20) throw err;
        cur = await a.get('Function', 'shared');
      }
    }
    await expect(b.replace({ apiVersion: API_VERSION, kind: 'Function', metadata: { name: 'shared', resourceVersion: cur.metadata.resourceVersion }, spec: { ...cur.spec, args: ['--b'] } })).rejects.toMatchObject({ code: 'conflict' });
  }, 60_000);
});
