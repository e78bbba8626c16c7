/**
 * Fair sharing under saturation, live: one simulated engine, a gateway that lets 2 requests per
 * endpoint in flight, and two tenants. "flood" keeps 8 requests outstanding at all times; "calm"
 * sends one request at a time. With per-tenant virtual-token-counter queueing, calm's requests
 * wait for at most about one slot to free up, whatever the flood's backlog: its p90 latency stays
 * within 2.5× its latency on an idle fleet (+100 ms of slack for this shared machine). In a FIFO
 * queue it would wait behind the flood's whole backlog (8 / 2 = 4 service times).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_VERSION, type ApiKeyResource, type TenantResource } from '../src/api/index.js';
import { ApiKeyIndex, newApiKeySecret, sha256Hex } from '../src/control/index.js';
import { SimWorker } from '../src/engines/index.js';
import { ApiKeyAuth, Gateway, loadGatewayConfig } from '../src/gateway/index.js';
import { waitFor } from './helpers/wait.js';

const meta = (name: string) => ({ name, uid: `uid-${name}`, generation: 1, resourceVersion: '1', labels: {}, annotations: {}, creationTimestamp: '2026-01-01T00:00:00Z', updateTimestamp: '2026-01-01T00:00:00Z' });
const index = new ApiKeyIndex();
const secrets: Record<string, string> = {};
let worker: SimWorker;
let gateway: Gateway;

beforeAll(async () => {
  for (const t of ['flood', 'calm']) {
    const tenant: TenantResource = { apiVersion: API_VERSION, kind: 'Tenant', metadata: meta(t), spec: { priority: 1 } };
    index.upsert(tenant);
    const secret = newApiKeySecret();
    const key: ApiKeyResource = { apiVersion: API_VERSION, kind: 'ApiKey', metadata: meta(`${t}-key`), spec: { tenant: t, hash: sha256Hex(secret), prefix: secret.slice(0, 12) } };
    index.upsert(key);
    secrets[t] = secret;
  }
  worker = await SimWorker.start({ model: 'm', port: 0, speedup: 4, seed: 1 });
  const config = loadGatewayConfig({
    object: { listen: { port: 0 }, fairness: { maxInFlightPerEndpoint: 2, queueTimeout: '60s' }, models: [{ name: 'm', endpoints: [{ id: 'w0', url: worker.url }] }] },
  });
  gateway = await Gateway.start({ config, auth: new ApiKeyAuth({ index }) });
}, 30_000);

afterAll(async () => {
  await gateway?.close();
  await worker?.close();
});

async function timed(tenant: string): Promise<number> {
  const t0 = performance.now();
  const r = await fetch(`${gateway.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${secrets[tenant]}` }, body: JSON.stringify({ model: 'm', prompt: `hello from ${tenant}`, max_tokens: 16, ignore_eos: true }) });
  await r.arrayBuffer();
  if (r.status !== 200) throw new Error(`${tenant}: HTTP ${r.status}`);
  return performance.now() - t0;
}

const p = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

describe('fair sharing under saturation (VTC per tenant)', () => {
  it("a flooding tenant cannot push another tenant's p90 latency past the bound", async () => {
    const idle: number[] = [];
    for (let i = 0; i < 5; i++) idle.push(await timed('calm'));
    const baseline = p(idle, 0.5);

    let stop = false;
    let flooded = 0;
    const loops = Array.from({ length: 8 }, async () => {
      while (!stop) {
        await timed('flood');
        flooded++;
      }
    });
    // Let the flood build its backlog, then measure calm one request at a time.
    await waitFor(async () => {
      const d = (await (await fetch(`${gateway.url}/debug/routing`)).json()) as { fairQueue: { queued: Record<string, number> }[] };
      return (d.fairQueue[0]?.queued.flood ?? 0) >= 4;
    }, { what: 'the flood to queue up' });
    const calm: number[] = [];
    for (let i = 0; i < 12; i++) calm.push(await timed('calm'));
    stop = true;
    await Promise.all(loops);

    const stats = { calm: calm.map(Math.round), baselineMs: Math.round(baseline), calmP90Ms: Math.round(p(calm, 0.9)), flooded };
    expect(flooded, JSON.stringify(stats)).toBeGreaterThan(12); // the flood was served too
    expect(p(calm, 0.9), JSON.stringify(stats)).toBeLessThanOrEqual(2.5 * baseline + 100);
  }, 60_000);
});
