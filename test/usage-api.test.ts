/**
 * Usage metering and the audit log through the admin API, in-process (SwitchyardServer, no
 * demo): gateways POST usage records (and a RemoteUsageSink batches them), aggregates per
 * tenant × model × day come back from GET /api/v1/usage, tenant-admins see only their own
 * tenant, the price table prices records, Tenant status.usage follows, and admin actions land
 * in the audit log with actor, before and after, and without a single secret. The CLI side
 * (`switchyard usage`, `switchyard audit`) is in src/cli/commands/usage.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_VERSION, RemoteUsageSink, SwitchyardClient, type UsageRecord } from '../src/api/index.js';
import { SwitchyardServer } from '../src/server.js';

const TOKEN = 'sy-admin-usage-test';
const BIN = fileURLToPath(new URL('../bin/switchyard.js', import.meta.url));
const DAY = 86_400_000;
const NOW = Date.now();
const TODAY = new Date(NOW).toISOString().slice(0, 10);
const YESTERDAY = new Date(NOW - DAY).toISOString().slice(0, 10);
let dir: string;
let server: SwitchyardServer;
let admin: SwitchyardClient;
const secrets: string[] = [];
const tokens: Record<string, string> = {};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies of many shapes
async function api(path: string, init: { method?: string; body?: unknown; token?: string; user?: string } = {}): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', authorization: `Bearer ${init.token ?? TOKEN}` };
  if (init.user) headers['x-switchyard-user'] = init.user;
  const res = await fetch(server.url + path, { method: init.method ?? 'GET', headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text };
}

let seq = 0;
const rec = (over: Partial<UsageRecord> = {}): UsageRecord => ({
  ts: NOW,
  requestId: `req-${seq++}`,
  tenant: 'acme',
  key: 'acme-key',
  model: 'llama',
  cluster: 'east',
  inputTokens: 1000,
  outputTokens: 200,
  cachedTokens: 500,
  latencyMs: 100,
  status: 200,
  ...over,
});

async function tokenFor(name: string, role: string, tenant?: string): Promise<string> {
  const r = await api('/api/v1/tokens', { method: 'POST', body: { name, role, ...(tenant ? { tenant } : {}) }, user: 'tester' });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  secrets.push(r.body.token);
  return r.body.token as string;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-usage-'));
  server = await SwitchyardServer.start({ dataDir: join(dir, 'data'), port: 0, host: '127.0.0.1', adminToken: TOKEN, switchyardBin: [process.execPath, BIN] });
  admin = new SwitchyardClient({ server: server.url, token: TOKEN, user: 'tester' });
  await admin.apply([
    { apiVersion: API_VERSION, kind: 'Tenant', metadata: { name: 'acme' }, spec: {} },
    { apiVersion: API_VERSION, kind: 'Tenant', metadata: { name: 'beta' }, spec: {} },
  ]);
  tokens.acmeAdmin = await tokenFor('acme-admin', 'tenant-admin', 'acme');
  tokens.viewer = await tokenFor('dash', 'viewer');
  tokens.operator = await tokenFor('ops', 'operator');
}, 30_000);

afterAll(async () => {
  await admin?.close();
  await server?.close({ stopReplicas: true });
  rmSync(dir, { recursive: true, force: true });
});

describe('usage', () => {
  it('prices with the price table (admin sets it, everyone may read it)', async () => {
    expect((await api('/api/v1/pricing')).body).toEqual({ models: {} });
    const table = { models: { llama: { inputPerMTok: 2, outputPerMTok: 10, cachedInputPerMTok: 1 } } };
    expect((await api('/api/v1/pricing', { method: 'PUT', body: table, user: 'tester' })).body).toEqual(table);
    expect((await api('/api/v1/pricing', { token: tokens.viewer })).body).toEqual(table);
    const bad = await api('/api/v1/pricing', { method: 'PUT', body: { models: { llama: { inputPerMTok: -1, outputPerMTok: 1 } } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/models\.llama\.inputPerMTok/);
    expect((await api('/api/v1/pricing', { method: 'PUT', body: table, token: tokens.operator })).status).toBe(403);
  });

  it('takes records from gateways and aggregates them per tenant × model × day', async () => {
    const posted = await api('/api/v1/usage', {
      method: 'POST',
      body: {
        records: [
          rec(),
          rec({ status: 502, latencyMs: 300 }),
          rec({ ts: NOW - DAY }),
          rec({ model: 'qwen', usd: 0.25 }),
          rec({ tenant: 'beta', key: 'beta-key', status: 'client_closed' }),
        ],
      },
    });
    expect(posted).toMatchObject({ status: 202, body: { accepted: 5 } });
    await server.controlPlane.usage.flush();
    const llamaUsd = (500 * 2 + 500 * 1 + 200 * 10) / 1e6;
    const { body } = await api('/api/v1/usage?since=7d');
    expect(body.items).toEqual([
      { day: YESTERDAY, tenant: 'acme', model: 'llama', requests: 1, inputTokens: 1000, outputTokens: 200, cachedTokens: 500, usd: llamaUsd, errors: 0, avgLatencyMs: 100 },
      { day: TODAY, tenant: 'acme', model: 'llama', requests: 2, inputTokens: 2000, outputTokens: 400, cachedTokens: 1000, usd: 2 * llamaUsd, errors: 1, avgLatencyMs: 200 },
      { day: TODAY, tenant: 'acme', model: 'qwen', requests: 1, inputTokens: 1000, outputTokens: 200, cachedTokens: 500, usd: 0.25, errors: 0, avgLatencyMs: 100 },
      { day: TODAY, tenant: 'beta', model: 'llama', requests: 1, inputTokens: 1000, outputTokens: 200, cachedTokens: 500, usd: llamaUsd, errors: 1, avgLatencyMs: 100 },
    ]);
    const today = await admin.usage({ since: TODAY, groupBy: 'none', tenant: 'acme' });
    expect(today.map((a) => [a.model, a.requests])).toEqual([['llama', 2], ['qwen', 1]]);
    // The tenant's status carries this month's totals, for budgets on the watch stream.
    const month = new Date(NOW).toISOString().slice(0, 7);
    const thisMonth = (await admin.usage({ since: `${month}-01`, groupBy: 'none', tenant: 'acme' })).reduce((n, a) => n + a.requests, 0);
    expect((await admin.get('Tenant', 'acme')).status?.usage).toMatchObject({ month, requests: thisMonth });
  });

  it('counts a re-sent batch once', async () => {
    const batch = [rec({ tenant: 'beta', model: 'dup' }), rec({ tenant: 'beta', model: 'dup' })];
    await admin.postUsage(batch);
    await admin.postUsage(batch);
    await server.controlPlane.usage.flush();
    expect((await admin.usage({ tenant: 'beta', groupBy: 'none' })).find((a) => a.model === 'dup')?.requests).toBe(2);
  });

  it('validates records and their number, and who may send them', async () => {
    const bad = await api('/api/v1/usage', { method: 'POST', body: { records: [rec(), { ...rec(), inputTokens: -1 }] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/records\[1\]\.inputTokens/);
    const many = await api('/api/v1/usage', { method: 'POST', body: { records: Array.from({ length: 5001 }, () => rec()) } });
    expect(many.status).toBe(400);
    expect(many.body.error.message).toMatch(/at most 5000 records/);
    expect((await api('/api/v1/usage', { method: 'POST', body: { records: [rec({ tenant: 'Not A Name' })] } })).status).toBe(400);
    for (const t of [tokens.viewer, tokens.operator, tokens.acmeAdmin]) expect((await api('/api/v1/usage', { method: 'POST', body: { records: [] }, token: t })).status).toBe(403);
  });

  it("lets a tenant-admin read only its own tenant's usage; viewers and operators read all", async () => {
    const mine = await api('/api/v1/usage?tenant=acme&groupBy=none', { token: tokens.acmeAdmin });
    expect(mine.status).toBe(200);
    expect(new Set(mine.body.items.map((a: { tenant: string }) => a.tenant))).toEqual(new Set(['acme']));
    const all = await api('/api/v1/usage', { token: tokens.acmeAdmin });
    expect(all.status).toBe(403);
    expect(all.body.error.message).toMatch(/may not read the usage of every tenant \(ask for yours with \?tenant=acme/);
    const other = await api('/api/v1/usage?tenant=beta', { token: tokens.acmeAdmin });
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe('forbidden');
    expect((await api('/api/v1/usage', { token: tokens.viewer })).status).toBe(200);
    expect((await api('/api/v1/usage', { token: tokens.operator })).status).toBe(200);
    expect((await api('/api/v1/usage?since=yesterday')).body.error).toMatchObject({ code: 'invalid_argument', param: 'since' });
    expect((await api('/api/v1/usage?groupBy=week')).body.error).toMatchObject({ code: 'invalid_argument', param: 'groupBy' });
  });

  it('a RemoteUsageSink batches records to the control plane, and close() sends what is left', async () => {
    const client = new SwitchyardClient({ server: server.url, token: TOKEN });
    const sink = new RemoteUsageSink({ client, flushIntervalMs: 60_000 });
    for (let i = 0; i < 3; i++) sink.record(rec({ tenant: 'beta', model: 'remote' }));
    expect(sink.buffered).toBe(3);
    await sink.close();
    expect(sink.buffered).toBe(0);
    expect(sink.dropped).toBe(0);
    await client.close();
    await server.controlPlane.usage.flush();
    expect((await admin.usage({ tenant: 'beta', groupBy: 'none' })).find((a) => a.model === 'remote')?.requests).toBe(3);
  });
});

describe('audit log', () => {
  it('records key minting and revocation with the actor, before and after', async () => {
    const minted = await api('/api/v1/tenants/acme/keys', { method: 'POST', body: { description: 'ci' }, user: 'alice' });
    expect(minted.status).toBe(201);
    secrets.push(minted.body.key);
    const name = minted.body.apiKey.metadata.name as string;
    const rotated = await api(`/api/v1/apikeys/${name}/rotate`, { method: 'POST', body: {}, token: tokens.acmeAdmin });
    secrets.push(rotated.body.key);
    expect((await api(`/api/v1/apikeys/${name}/revoke`, { method: 'POST', body: {}, user: 'alice' })).status).toBe(200);

    const entries = await admin.audit({ kind: 'ApiKey', since: '1h' });
    const mine = entries.filter((e) => e.name === name);
    expect(mine.map((e) => e.action)).toEqual(['apikey.create', 'apikey.rotate', 'apikey.revoke']);
    const [create, rotate, revoke] = mine;
    expect(create).toMatchObject({ actor: 'alice', role: 'admin', before: null, after: { kind: 'ApiKey', metadata: { name }, spec: { tenant: 'acme', description: 'ci', prefix: minted.body.key.slice(0, 12) } } });
    expect(rotate).toMatchObject({ actor: 'token acme-admin, tenant-admin of acme', role: 'tenant-admin' });
    expect(rotate!.before!.spec).not.toEqual(rotate!.after!.spec);
    expect(revoke).toMatchObject({ actor: 'alice', before: { spec: { tenant: 'acme' } }, after: { spec: { revoked: true } } });
    expect((revoke!.before!.spec as { revoked?: boolean }).revoked).toBeUndefined();
    expect(revoke!.ts).toBeGreaterThanOrEqual(NOW);
  });

  it('records writes, deletes (with what a cascade took), tokens and price changes', async () => {
    await api('/api/v1/apply', { method: 'POST', body: { items: [{ apiVersion: API_VERSION, kind: 'Tenant', metadata: { name: 'temp' }, spec: { priority: 2 } }] }, token: tokens.operator }); // refused: operators may not write Tenants
    await admin.apply([{ apiVersion: API_VERSION, kind: 'Tenant', metadata: { name: 'temp' }, spec: { priority: 2 } }]);
    await admin.apply([{ apiVersion: API_VERSION, kind: 'Tenant', metadata: { name: 'temp' }, spec: { priority: 3 } }]);
    const key = await admin.createKey('temp');
    secrets.push(key.key);
    await admin.delete('Tenant', 'temp', { cascade: true });
    const t = await admin.audit({ since: '1h', kind: 'Tenant' });
    const temp = t.filter((e) => e.name === 'temp');
    expect(temp.map((e) => [e.action, e.actor])).toEqual([['tenant.create', 'tester'], ['tenant.update', 'tester'], ['tenant.delete', 'tester']]);
    expect(temp[1]).toMatchObject({ before: { spec: { priority: 2 } }, after: { spec: { priority: 3 } } });
    expect(temp[2]).toMatchObject({ before: { spec: { priority: 3 } }, after: null });
    const cascaded = (await admin.audit({ since: '1h', action: 'apikey.delete' })).find((e) => e.name === key.apiKey.metadata.name);
    expect(cascaded).toMatchObject({ note: 'cascade from Tenant/temp', after: null, before: { spec: { tenant: 'temp' } } });

    const tok = await admin.audit({ kind: 'Token', since: '1h' });
    expect(tok.map((e) => [e.action, e.name])).toEqual([['token.create', 'acme-admin'], ['token.create', 'dash'], ['token.create', 'ops']]);
    expect(tok[0]!.after).toMatchObject({ name: 'acme-admin', role: 'tenant-admin', tenant: 'acme' });
    await admin.deleteToken('dash');
    expect((await admin.audit({ action: 'token.delete' })).map((e) => [e.name, e.before?.role, e.after])).toEqual([['dash', 'viewer', null]]);
    const pricing = await admin.audit({ kind: 'PriceTable' });
    expect(pricing).toHaveLength(1);
    expect(pricing[0]).toMatchObject({ action: 'pricing.update', actor: 'tester', before: { models: {} }, after: { models: { llama: { inputPerMTok: 2 } } } });
  });

  it('is for admins only, filters by actor, and never shows a secret', async () => {
    expect((await api('/api/v1/audit', { token: tokens.operator })).status).toBe(403);
    expect((await api('/api/v1/audit', { token: tokens.acmeAdmin })).status).toBe(403);
    const alice = await admin.audit({ actor: 'alice' });
    expect(alice.length).toBeGreaterThan(0);
    expect(alice.every((e) => e.actor.includes('alice'))).toBe(true);
    const raw = JSON.stringify((await api('/api/v1/audit?limit=10000')).body);
    expect(raw).toContain('apikey.rotate');
    expect(secrets.length).toBeGreaterThanOrEqual(5);
    for (const s of [...secrets, TOKEN]) expect(raw).not.toContain(s);
    // Only the hash and the display prefix of keys are there.
    expect(raw).toMatch(/"prefix":"sk-sy-[A-Za-z0-9_-]{6}"/);
  });
});
