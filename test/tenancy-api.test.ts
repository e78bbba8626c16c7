/**
 * The control-plane half of multi-tenancy through the admin API, in-process (SwitchyardServer,
 * no demo): Tenants, API keys minted on the server (secret shown once, only the hash stored),
 * rotation and revocation followed by an ApiKeyIndex over the watch stream, admin tokens with
 * roles, and tenant GPU quotas.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_VERSION, SwitchyardClient, type ApiKeyResource } from '../src/api/index.js';
import { ApiKeyIndex } from '../src/control/index.js';
import { createLogger } from '../src/observability/index.js';
import { SwitchyardServer } from '../src/server.js';
import { codeOf } from './helpers/errors.js';
import { waitFor } from './helpers/wait.js';

const TOKEN = 'sy-admin-tenancy-test';
const BIN = fileURLToPath(new URL('../bin/switchyard.js', import.meta.url));
const KEY = /^sk-sy-[A-Za-z0-9_-]{43,}$/;
let dir: string;
let server: SwitchyardServer;
let admin: SwitchyardClient;
let logs = '';
const secrets: string[] = [];

const tenant = (name: string, spec: object = {}) => ({ apiVersion: API_VERSION, kind: 'Tenant', metadata: { name }, spec });
const fn = (name: string, spec: object = {}) => ({ apiVersion: API_VERSION, kind: 'Function', metadata: { name }, spec: { model: 'org/m', runtime: 'vllm', targetClusters: [], ...spec } });
const dep = (name: string, spec: object) => ({ apiVersion: API_VERSION, kind: 'Deployment', metadata: { name }, spec: { function: 'gpu4', cluster: 'nowhere', ...spec } });
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies of many shapes
async function api(path: string, init: { method?: string; body?: unknown; token?: string | null; user?: string } = {}): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.token !== null) headers.authorization = `Bearer ${init.token ?? TOKEN}`;
  if (init.user) headers['x-switchyard-user'] = init.user;
  const res = await fetch(server.url + path, { method: init.method ?? 'GET', headers, ...(init.body !== undefined ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) } : {}) });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text };
}

async function mint(tenantName: string, body: object = {}, token?: string): Promise<{ key: string; apiKey: ApiKeyResource }> {
  const r = await api(`/api/v1/tenants/${tenantName}/keys`, { method: 'POST', body, ...(token ? { token } : {}) });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  secrets.push(r.body.key);
  return r.body as { key: string; apiKey: ApiKeyResource };
}

async function tokenFor(name: string, role: string, tenantName?: string): Promise<string> {
  const r = await api('/api/v1/tokens', { method: 'POST', body: { name, role, ...(tenantName ? { tenant: tenantName } : {}) } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  secrets.push(r.body.token);
  return r.body.token as string;
}

function forbidden(r: { status: number; body: { error?: { code?: string; type?: string } } }): void {
  expect(r.status).toBe(403);
  expect(r.body.error).toMatchObject({ code: 'forbidden', type: 'permission_error' });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-tenancy-'));
  const sink = new Writable({ write: (chunk: Buffer, _enc, cb) => ((logs += chunk.toString('utf8')), cb()) });
  const logger = createLogger({ name: 'switchyard', level: 'debug', pretty: false, destination: sink });
  server = await SwitchyardServer.start({ dataDir: join(dir, 'data'), port: 0, host: '127.0.0.1', adminToken: TOKEN, switchyardBin: [process.execPath, BIN], logger });
  admin = new SwitchyardClient({ server: server.url, token: TOKEN, user: 'tester' });
}, 30_000);

afterAll(async () => {
  await admin?.close();
  await server?.close({ stopReplicas: true });
  rmSync(dir, { recursive: true, force: true });
});

describe('tenants', () => {
  it('CRUD through the generic API, like every kind', async () => {
    const created = await api('/api/v1/tenants', { method: 'POST', body: tenant('acme', { displayName: 'ACME', allowedModels: ['llama-8b'], allowedClusters: ['eu-west'], gpuQuota: 8, limits: { rpm: 600, tpm: 100_000 }, keyLimits: { rpm: 60 }, budget: { usdPerMonth: 100 } }) });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ kind: 'Tenant', metadata: { name: 'acme', generation: 1 }, spec: { priority: 1, gpuQuota: 8, keyLimits: { rpm: 60 } } });
    expect((await api('/api/v1/tenants', { method: 'POST', body: tenant('acme') })).body.error.code).toBe('already_exists');
    const put = await api('/api/v1/tenants/acme', { method: 'PUT', body: tenant('acme', { gpuQuota: 8, priority: 5 }) });
    expect(put.status).toBe(200);
    expect(put.body.spec).toEqual({ gpuQuota: 8, priority: 5 });
    expect((await admin.list('Tenant')).items.map((t) => t.metadata.name)).toEqual(['acme']);
    await admin.apply([tenant('beta'), tenant('temp')]);
    expect((await api('/api/v1/tenants/temp', { method: 'DELETE' })).status).toBe(200);
    expect(await codeOf(admin.get('Tenant', 'temp'))).toBe('not_found');
  });

  it('rejects bad manifests with the path of each problem', async () => {
    const bad = await api('/api/v1/tenants', { method: 'POST', body: tenant('x', { priority: 0 }) });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_config', param: 'spec.priority' });
    const unknown = await api('/api/v1/tenants', { method: 'POST', body: tenant('x', { limits: { rpn: 5 } }) });
    expect(unknown.body.error.param).toBe('spec.limits.rpn');
    const cluster = await api('/api/v1/apply', { method: 'POST', body: { items: [tenant('x', { allowedClusters: ['Not A Name'] })] } });
    expect(cluster.status).toBe(400);
    expect(cluster.body.error.message).toMatch(/spec\.allowedClusters\[0\]/);
  });

  it('appear in /openapi.json and /docs with the key endpoints', async () => {
    const doc = (await api('/openapi.json', { token: null })).body;
    for (const p of ['/api/v1/tenants', '/api/v1/tenants/{name}', '/api/v1/apikeys', '/api/v1/tenants/{tenant}/keys', '/api/v1/apikeys/{name}/rotate', '/api/v1/apikeys/{name}/revoke', '/api/v1/tokens', '/api/v1/tokens/{name}']) expect(Object.keys(doc.paths)).toContain(p);
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Tenant', 'TenantManifest', 'ApiKey', 'MintedApiKey', 'CreateApiKeyRequest']));
    const html = (await api('/docs', { token: null })).body as string;
    expect(html).toContain('<code>spec.gpuQuota</code>');
    expect(html).toContain('<code>/api/v1/tenants/{tenant}/keys</code>');
  });
});

describe('API keys', () => {
  it('are minted on the server: the secret is returned once, the resource holds only its hash and prefix', async () => {
    const { key, apiKey } = await mint('acme', { description: 'ci', expiresIn: '30d', scopes: { models: ['llama-8b'] }, limits: { rpm: 10 } });
    expect(key).toMatch(KEY);
    expect(apiKey.metadata.name).toMatch(/^acme-[a-z]{8}$/);
    expect(apiKey.spec).toMatchObject({ tenant: 'acme', hash: sha256(key), prefix: key.slice(0, 12), description: 'ci', scopes: { models: ['llama-8b'] }, limits: { rpm: 10 } });
    expect(Date.parse(apiKey.spec.expiresAt!) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    const got = await api(`/api/v1/apikeys/${apiKey.metadata.name}`);
    expect(JSON.stringify(got.body)).not.toContain(key.slice(12));
    expect(JSON.stringify((await api('/api/v1/apikeys')).body)).not.toContain(key.slice(12));
    // Two keys never share a secret or a name.
    const other = await mint('acme');
    expect(other.key).not.toBe(key);
    expect(other.apiKey.metadata.name).not.toBe(apiKey.metadata.name);
  });

  it('404 for an unknown tenant; 400 for a bad request body', async () => {
    const missing = await api('/api/v1/tenants/nobody/keys', { method: 'POST', body: {} });
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toMatch(/Tenant 'nobody' not found/);
    expect((await api('/api/v1/tenants/nobody/keys')).status).toBe(404);
    const bad = await api('/api/v1/tenants/acme/keys', { method: 'POST', body: { expiresIn: 'soon', bogus: 1 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/expiresIn/);
    expect(bad.body.error.message).toMatch(/bogus/);
    const past = await api('/api/v1/tenants/acme/keys', { method: 'POST', body: { expiresAt: '2020-01-01T00:00:00Z' } });
    expect(past.status).toBe(400);
    expect(past.body.error.message).toMatch(/in the past/);
  });

  it("list, rotate and revoke, and an ApiKeyIndex fed by the watch stream follows each change", async () => {
    const index = new ApiKeyIndex();
    const ac = new AbortController();
    const watching = (async () => {
      for await (const ev of admin.watch({ kinds: ['ApiKey', 'Tenant'], signal: ac.signal })) index.apply(ev);
    })().catch(() => undefined);
    try {
      const { key, apiKey } = await mint('beta');
      const name = apiKey.metadata.name;
      await waitFor(() => 'key' in index.authenticate(key, Date.now()), { what: 'the new key to authenticate' });
      const auth = index.authenticate(key, Date.now());
      expect(auth).toMatchObject({ key: { metadata: { name } }, tenant: { metadata: { name: 'beta' } } });

      const listed = await api('/api/v1/tenants/beta/keys');
      expect(listed.body).toMatchObject({ kind: 'ApiKeyList', items: [{ metadata: { name } }] });
      expect((await admin.listKeys('acme')).items.every((k) => k.spec.tenant === 'acme')).toBe(true);

      const rotated = await api(`/api/v1/apikeys/${name}/rotate`, { method: 'POST' });
      expect(rotated.status).toBe(200);
      secrets.push(rotated.body.key);
      expect(rotated.body.key).toMatch(KEY);
      expect(rotated.body.apiKey.spec.hash).toBe(sha256(rotated.body.key));
      await waitFor(() => 'key' in index.authenticate(rotated.body.key, Date.now()), { what: 'the rotated key' });
      expect(index.authenticate(key, Date.now())).toEqual({ error: 'invalid' });

      const revoked = await api(`/api/v1/apikeys/${name}/revoke`, { method: 'POST' });
      expect(revoked.status).toBe(200);
      expect(revoked.body.spec.revoked).toBe(true);
      await waitFor(() => 'error' in index.authenticate(rotated.body.key, Date.now()), { what: 'the revocation to arrive' });
      expect(index.authenticate(rotated.body.key, Date.now())).toEqual({ error: 'revoked' });
      const again = await api(`/api/v1/apikeys/${name}/rotate`, { method: 'POST' });
      expect(again.status).toBe(409);
      expect(again.body.error.message).toMatch(/revoked/);

      const expiring = await mint('beta', { expiresIn: '1h' });
      await waitFor(() => 'key' in index.authenticate(expiring.key, Date.now()), { what: 'the expiring key' });
      expect(index.authenticate(expiring.key, Date.parse(expiring.apiKey.spec.expiresAt!))).toEqual({ error: 'expired' });

      await waitFor(async () => (await admin.get('Tenant', 'beta')).status?.keys === 1, { what: "beta's status to count its one active key" });
    } finally {
      ac.abort();
      await watching;
    }
  });

  it('generic create and replace of an ApiKey are refused with 400 naming `switchyard keys create`; get, list and delete work', async () => {
    const { apiKey } = await mint('acme');
    const manifest = { apiVersion: API_VERSION, kind: 'ApiKey', metadata: { name: 'forged' }, spec: { tenant: 'acme', hash: 'a'.repeat(64), prefix: 'sk-sy-forged' } };
    for (const [method, path, body] of [
      ['POST', '/api/v1/apikeys', manifest],
      ['PUT', `/api/v1/apikeys/${apiKey.metadata.name}`, { ...manifest, metadata: { name: apiKey.metadata.name } }],
      ['POST', '/api/v1/apply', { items: [manifest] }],
      ['POST', `/api/v1/rollback/apikeys/${apiKey.metadata.name}`, { to: 'HEAD' }],
    ] as const) {
      const r = await api(path, { method, body });
      expect(r.status, `${method} ${path}`).toBe(400);
      expect(r.body.error.message, `${method} ${path}`).toMatch(/switchyard keys create --tenant/);
    }
    const yaml = await fetch(`${server.url}/api/v1/apply`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/yaml' }, body: `apiVersion: ${API_VERSION}\nkind: ApiKey\nmetadata:\n  name: forged\nspec:\n  tenant: acme\n  hash: ${'a'.repeat(64)}\n  prefix: sk-sy-forged\n` });
    expect(yaml.status).toBe(400);
    expect(await codeOf(admin.get('ApiKey', 'forged'))).toBe('not_found');
    expect((await api(`/api/v1/apikeys/${apiKey.metadata.name}`)).status).toBe(200);
    expect((await api(`/api/v1/apikeys/${apiKey.metadata.name}`, { method: 'DELETE' })).status).toBe(200);
    expect(await codeOf(admin.get('ApiKey', apiKey.metadata.name))).toBe('not_found');
  });

  it('a Tenant that still has keys is deleted only with cascade, which deletes its keys too', async () => {
    await admin.apply([tenant('short-lived')]);
    const { apiKey } = await mint('short-lived');
    const r = await api('/api/v1/tenants/short-lived', { method: 'DELETE' });
    expect(r.status).toBe(409);
    expect(r.body.error.message).toMatch(new RegExp(`still has 1 ApiKey \\(${apiKey.metadata.name}\\).*--cascade`));
    expect((await api('/api/v1/tenants/short-lived?cascade=true', { method: 'DELETE' })).status).toBe(200);
    expect(await codeOf(admin.get('ApiKey', apiKey.metadata.name))).toBe('not_found');
  });
});

describe('admin roles', () => {
  it('a viewer reads everything but gets 403 on every write, in the OpenAI error shape', async () => {
    const viewer = await tokenFor('dash', 'viewer');
    expect((await api('/api/v1/functions', { token: viewer })).status).toBe(200);
    expect((await api('/api/v1/tenants/acme', { token: viewer })).status).toBe(200);
    expect((await api('/api/v1/apikeys', { token: viewer })).status).toBe(200);
    const post = await api('/api/v1/functions', { method: 'POST', body: fn('by-viewer'), token: viewer });
    forbidden(post);
    expect(post.body.error.message).toBe("token 'dash' (role viewer) may not write functions");
    forbidden(await api('/api/v1/apply', { method: 'POST', body: { items: [fn('by-viewer')] }, token: viewer }));
    forbidden(await api('/api/v1/tenants/acme/keys', { method: 'POST', body: {}, token: viewer }));
    forbidden(await api('/api/v1/tokens', { token: viewer }));
    // 401 is unchanged for missing and unknown tokens.
    expect((await api('/api/v1/functions', { token: null })).status).toBe(401);
    expect((await api('/api/v1/functions', { token: `${viewer.slice(0, -2)}xx` })).status).toBe(401);
  });

  it('an operator writes functions, deployments and clusters, but not tokens, keys or tenants; history names the token', async () => {
    const operator = await tokenFor('ci', 'operator');
    const created = await api('/api/v1/functions', { method: 'POST', body: fn('by-operator'), token: operator, user: 'bob' });
    expect(created.status).toBe(201);
    expect((await api('/api/v1/apply', { method: 'POST', body: { items: [fn('by-operator', { args: ['--x'] })] }, token: operator })).status).toBe(200);
    forbidden(await api('/api/v1/apply', { method: 'POST', body: { items: [fn('by-operator'), tenant('acme', { gpuQuota: 1000 })] }, token: operator }));
    forbidden(await api('/api/v1/tenants', { method: 'POST', body: tenant('by-operator'), token: operator }));
    forbidden(await api('/api/v1/tenants/acme/keys', { method: 'POST', body: {}, token: operator }));
    forbidden(await api('/api/v1/tokens', { method: 'POST', body: { name: 'escalate', role: 'admin' }, token: operator }));
    forbidden(await api('/api/v1/tokens/ci', { method: 'DELETE', token: operator }));
    await server.controlPlane.history.flush();
    const history = await admin.history('Function', 'by-operator');
    expect(history.map((h) => h.author)).toEqual(['token ci, operator', 'bob (token ci, operator)']);
  });

  it("a tenant-admin manages its own tenant's keys and reads its tenant, and nothing else", async () => {
    const acmeAdmin = await tokenFor('acme-admin', 'tenant-admin', 'acme');
    const { key, apiKey } = await mint('acme', { description: 'from tenant-admin' }, acmeAdmin);
    expect(key).toMatch(KEY);
    expect((await api('/api/v1/tenants/acme/keys', { token: acmeAdmin })).body.items.length).toBeGreaterThan(0);
    expect((await api('/api/v1/tenants/acme', { token: acmeAdmin })).status).toBe(200);
    expect((await api(`/api/v1/apikeys/${apiKey.metadata.name}`, { token: acmeAdmin })).status).toBe(200);
    const rotated = await api(`/api/v1/apikeys/${apiKey.metadata.name}/rotate`, { method: 'POST', token: acmeAdmin });
    expect(rotated.status).toBe(200);
    secrets.push(rotated.body.key);
    expect((await api(`/api/v1/apikeys/${apiKey.metadata.name}/revoke`, { method: 'POST', token: acmeAdmin })).status).toBe(200);

    const betaKey = (await admin.listKeys('beta')).items.find((k) => !k.spec.revoked)!;
    forbidden(await api('/api/v1/tenants/beta/keys', { method: 'POST', body: {}, token: acmeAdmin }));
    forbidden(await api('/api/v1/tenants/beta/keys', { token: acmeAdmin }));
    forbidden(await api(`/api/v1/apikeys/${betaKey.metadata.name}/revoke`, { method: 'POST', token: acmeAdmin }));
    forbidden(await api(`/api/v1/apikeys/${betaKey.metadata.name}`, { token: acmeAdmin }));
    forbidden(await api('/api/v1/tenants/beta', { token: acmeAdmin }));
    forbidden(await api('/api/v1/tenants/acme', { method: 'PUT', body: tenant('acme', { gpuQuota: 1000 }), token: acmeAdmin }));
    forbidden(await api('/api/v1/functions', { token: acmeAdmin }));
    forbidden(await api('/api/v1/watch', { token: acmeAdmin }));
    const all = await api('/api/v1/apikeys', { token: acmeAdmin });
    forbidden(all);
    expect(all.body.error.message).toMatch(/tenants\/acme\/keys/);
    expect((await admin.get('ApiKey', betaKey.metadata.name)).spec.revoked).toBeUndefined();
  });

  it('tokens: only admins manage them; listed without hashes; a deleted token stops working at once', async () => {
    const list = await api('/api/v1/tokens');
    expect(list.body.items.map((t: { name: string }) => t.name)).toEqual(['acme-admin', 'ci', 'dash']);
    expect(list.body.items[0]).toEqual({ name: 'acme-admin', role: 'tenant-admin', tenant: 'acme', prefix: expect.stringMatching(/^sy-token-acme-admin\..{4}$/), createdAt: expect.any(String), createdBy: 'admin' });
    expect(JSON.stringify(list.body)).not.toMatch(/hash/);
    const bad = await api('/api/v1/tokens', { method: 'POST', body: { name: 'x', role: 'tenant-admin' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/tenant/);
    expect((await api('/api/v1/tokens', { method: 'POST', body: { name: 'x', role: 'tenant-admin', tenant: 'nobody' } })).status).toBe(404);
    expect((await api('/api/v1/tokens', { method: 'POST', body: { name: 'ci', role: 'viewer' } })).status).toBe(409);
    const temp = await tokenFor('temp', 'viewer');
    expect((await api('/api/v1/functions', { token: temp })).status).toBe(200);
    expect((await api('/api/v1/tokens/temp', { method: 'DELETE' })).status).toBe(200);
    expect((await api('/api/v1/functions', { token: temp })).status).toBe(401);
  });
});

describe('GPU quota', () => {
  it('a Deployment that would take its tenant beyond gpuQuota gets 409 saying how much is used and allowed', async () => {
    // acme: gpuQuota 8. gpu4: 2 GPUs per replica.
    await admin.apply([fn('gpu4', { resources: { gpu: { count: 2 } } })]);
    expect((await api('/api/v1/deployments', { method: 'POST', body: dep('acme-a', { tenant: 'acme', replicas: 3 }) })).status).toBe(201);
    const over = await api('/api/v1/deployments', { method: 'POST', body: dep('acme-b', { tenant: 'acme', replicas: 2 }) });
    expect(over.status).toBe(409);
    expect(over.body.error).toMatchObject({ code: 'quota_exceeded', type: 'conflict_error' });
    expect(over.body.error.message).toMatch(/^tenant 'acme' GPU quota exceeded: 6 GPUs in use \+ 4 requested > quota 8/);
    // Scaling up is checked the same way; what fits is admitted.
    const scale = await api('/api/v1/deployments/acme-a', { method: 'PUT', body: dep('acme-a', { tenant: 'acme', replicas: 5 }) });
    expect(scale.status).toBe(409);
    expect(scale.body.error.message).toMatch(/6 GPUs in use \+ 4 requested > quota 8/);
    expect((await api('/api/v1/deployments', { method: 'POST', body: dep('acme-b', { tenant: 'acme', replicas: 1 }) })).status).toBe(201);
    // Other tenants and tenant-less Deployments are not affected.
    expect((await api('/api/v1/deployments', { method: 'POST', body: dep('free', { replicas: 10 }) })).status).toBe(201);
    await waitFor(async () => (await admin.get('Tenant', 'acme')).status?.gpusInUse === 8, { what: "acme's status to show 8 GPUs in use" });
  });
});

describe('secrets', () => {
  it('no key or token is in the data directory, the git history or the logs; the hashes are', async () => {
    await server.controlPlane.history.flush();
    expect(secrets.length).toBeGreaterThan(5);
    expect(logs).toContain('"level"'); // the logger did write (debug level)
    const files: string[] = [];
    const walk = (d: string): void => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk(join(dir, 'data'));
    const data = files.map((f) => readFileSync(f).toString('latin1')).join('\n');
    const history = execFileSync('git', ['log', '-p', '--all'], { cwd: join(dir, 'data', 'history'), encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(history).toContain(sha256(secrets[0]!)); // the search does see what is stored
    expect(data).toContain(sha256(secrets[0]!));
    for (const s of secrets) {
      const random = s.slice(s.lastIndexOf('.') + 1).replace(/^sk-sy-/, '').slice(6);
      for (const [where, text] of [['data', data], ['history', history], ['logs', logs]] as const) expect(text.includes(random), `${where} holds a secret`).toBe(false);
    }
  });
});
