/**
 * The gateway's tenancy checks on the OpenAI API, with API keys from an ApiKeyIndex (what the
 * control plane's watch stream feeds): 401 for a missing, unknown, revoked or expired key; 404
 * for a model the tenant may not use, worded like a model that does not exist; data residency
 * (never routed outside the tenant's clusters, even when its own backends fail); RPM and TPM
 * limits with OpenAI's rate-limit headers; streamed tokens charged when the client disconnects.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_VERSION, type ApiKeyResource, type TenantResource, type UsageRecord } from '../src/api/index.js';
import { ApiKeyIndex, newApiKeySecret, sha256Hex } from '../src/control/index.js';
import { SimWorker } from '../src/engines/index.js';
import { ApiKeyAuth, Gateway, loadGatewayConfig } from '../src/gateway/index.js';
import { MemoryRateLimiter } from '../src/limits/index.js';
import { waitFor } from './helpers/wait.js';

const meta = (name: string) => ({ name, uid: `uid-${name}`, generation: 1, resourceVersion: '1', labels: {}, annotations: {}, creationTimestamp: '2026-01-01T00:00:00Z', updateTimestamp: '2026-01-01T00:00:00Z' });

function tenant(name: string, spec: Partial<TenantResource['spec']> = {}): TenantResource {
  return { apiVersion: API_VERSION, kind: 'Tenant', metadata: meta(name), spec: { priority: 1, ...spec } };
}

function key(name: string, tenantName: string, extra: Partial<ApiKeyResource['spec']> = {}): { secret: string; resource: ApiKeyResource } {
  const secret = newApiKeySecret();
  const resource = { apiVersion: API_VERSION, kind: 'ApiKey', metadata: meta(name), spec: { tenant: tenantName, hash: sha256Hex(secret), prefix: secret.slice(0, 12), ...extra } } as ApiKeyResource;
  return { secret, resource };
}

let workers: SimWorker[];
let gateway: Gateway;
const index = new ApiKeyIndex();
const keys: Record<string, { secret: string; resource: ApiKeyResource }> = {};
const limiter = new MemoryRateLimiter();
const records: UsageRecord[] = [];

const post = (path: string, secret: string | undefined, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${gateway.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(secret ? { authorization: `Bearer ${secret}` } : {}), ...headers }, body: JSON.stringify(body) });

beforeAll(async () => {
  workers = await Promise.all([0, 1, 2].map((i) => SimWorker.start({ model: i === 2 ? 'private-m' : 'shared-m', port: 0, speedup: 50, seed: i })));
  index.upsert(tenant('acme', { allowedModels: ['shared-m'], allowedClusters: ['eu'] }));
  index.upsert(tenant('globex', { limits: { rpm: 3 } }));
  index.upsert(tenant('initech', { keyLimits: { tpm: 400 } }));
  keys.acme = key('acme-1', 'acme');
  keys.globex = key('globex-1', 'globex');
  keys.initech = key('initech-1', 'initech');
  keys.revoked = key('acme-2', 'acme', { revoked: true });
  keys.expired = key('acme-3', 'acme', { expiresAt: '2020-01-01T00:00:00Z' });
  for (const k of Object.values(keys)) index.upsert(k.resource);
  const config = loadGatewayConfig({
    object: {
      listen: { port: 0 },
      health: { circuit: { consecutiveFailures: 100 } },
      models: [
        { name: 'shared-m', endpoints: [{ id: 'eu-0', url: workers[0]!.url, labels: { cluster: 'eu' } }, { id: 'us-0', url: workers[1]!.url, labels: { cluster: 'us' } }] },
        { name: 'private-m', endpoints: [{ id: 'us-1', url: workers[2]!.url, labels: { cluster: 'us' } }] },
      ],
    },
  });
  gateway = await Gateway.start({ config, auth: new ApiKeyAuth({ index, acceptToken: (t) => (t === 'sy-admin-test' ? 'admin' : undefined) }), limiter, usage: { record: (r) => records.push(r) } });
}, 30_000);

afterAll(async () => {
  await gateway?.close();
  await Promise.all(workers.map((w) => w.close()));
  await limiter.close();
});

const chat = (model: string, max = 4) => ({ model, messages: [{ role: 'user', content: 'hello' }], max_tokens: max });

describe('gateway tenancy', () => {
  it('401 without a key, with an unknown, revoked or expired key — OpenAI error shape; the admin token passes', async () => {
    const cases: [string | undefined, RegExp][] = [
      [undefined, /didn't provide an API key/],
      ['sk-sy-' + 'x'.repeat(43), /Incorrect API key/],
      ['not-even-a-key', /Incorrect API key/],
      [keys.revoked!.secret, /revoked/],
      [keys.expired!.secret, /expired/],
    ];
    for (const [secret, message] of cases) {
      const r = await post('/v1/chat/completions', secret, chat('shared-m'));
      expect(r.status).toBe(401);
      const body = (await r.json()) as { error: { message: string; type: string; code: string } };
      expect(body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_api_key' });
      expect(body.error.message).toMatch(message);
    }
    expect((await fetch(`${gateway.url}/v1/models`)).status).toBe(401);
    expect((await post('/v1/chat/completions', 'sy-admin-test', chat('private-m'))).status).toBe(200);
    // The official SDK sees an AuthenticationError.
    const sdk = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: keys.revoked!.secret, maxRetries: 0 });
    await expect(sdk.chat.completions.create(chat('shared-m') as OpenAI.ChatCompletionCreateParamsNonStreaming)).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it("a model the tenant may not use is a 404 indistinguishable from a missing one, and /v1/models hides it", async () => {
    const denied = await post('/v1/chat/completions', keys.acme!.secret, chat('private-m'));
    const missing = await post('/v1/chat/completions', keys.acme!.secret, chat('no-such-model'));
    expect(denied.status).toBe(404);
    const a = (await denied.json()) as { error: Record<string, unknown> };
    const b = (await missing.json()) as { error: Record<string, unknown> };
    expect({ ...a.error, message: String(a.error.message).replace('private-m', 'X') }).toEqual({ ...b.error, message: String(b.error.message).replace('no-such-model', 'X') });
    expect(String(a.error.message).split('Available models:')[1]).toBe(" 'shared-m'.");
    const models = (await (await fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${keys.acme!.secret}` } })).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual(['shared-m']);
    const all = (await (await fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${keys.globex!.secret}` } })).json()) as { data: { id: string }[] };
    expect(all.data.map((m) => m.id)).toEqual(['private-m', 'shared-m']);
  });

  it('data residency: an eu-only tenant is served in eu only, and gets a 503 rather than a failover to us', async () => {
    for (let i = 0; i < 6; i++) {
      const r = await post('/v1/chat/completions', keys.acme!.secret, chat('shared-m'));
      expect(r.status).toBe(200);
      expect(r.headers.get('x-switchyard-cluster')).toBe('eu');
    }
    // Every eu backend fails: the request must not leave eu.
    await fetch(`${workers[0]!.url}/sim/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ errorRate: 1, errorStatus: 503 }) });
    try {
      const r = await post('/v1/chat/completions', keys.acme!.secret, chat('shared-m'));
      expect(r.status).toBeGreaterThanOrEqual(500);
      expect(r.headers.get('x-switchyard-cluster')).toBeNull();
      // Other tenants still fail over to us.
      const g = await post('/v1/chat/completions', keys.globex!.secret, chat('shared-m'));
      expect(g.status).toBe(200);
    } finally {
      await fetch(`${workers[0]!.url}/sim/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ errorRate: 0 }) });
    }
    // No backend in an allowed cluster at all: 503 with a clear message.
    const none = await post('/v1/chat/completions', 'sy-admin-test', chat('shared-m'));
    expect(none.status).toBe(200);
    index.upsert(tenant('acme', { allowedModels: ['shared-m'], allowedClusters: ['ap'] }));
    const r = await post('/v1/chat/completions', keys.acme!.secret, chat('shared-m'));
    expect(r.status).toBe(503);
    expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/runs in a cluster tenant 'acme' may use \(ap\)/);
    index.upsert(tenant('acme', { allowedModels: ['shared-m'], allowedClusters: ['eu'] }));
  });

  it('RPM per tenant: over the limit → 429 with Retry-After and x-ratelimit-* headers', async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await post('/v1/chat/completions', keys.globex!.secret, chat('shared-m'));
      statuses.push(last.status);
      if (i === 0) {
        expect(last.headers.get('x-ratelimit-limit-requests')).toBe('3');
        expect(Number(last.headers.get('x-ratelimit-remaining-requests'))).toBeLessThanOrEqual(2);
      }
    }
    // The residency test above already used one of globex's three.
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(1);
    expect(last!.status).toBe(429);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(last!.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    const body = (await last!.json()) as { error: { code: string; type: string; message: string } };
    expect(body.error).toMatchObject({ code: 'rate_limit_exceeded', type: 'rate_limit_error' });
    expect(body.error.message).toMatch(/limit 3 requests/);
  });

  it('TPM per key reserves prompt + max_tokens, settles to usage, and charges a disconnected stream for what it got', async () => {
    // 400 tokens per minute; a request reserving more than that can never fit.
    const tooBig = await post('/v1/chat/completions', keys.initech!.secret, chat('shared-m', 1000));
    expect(tooBig.status).toBe(429);
    expect(((await tooBig.json()) as { error: { message: string } }).error.message).toMatch(/Request too large/);
    // A stream the client abandons after a few tokens is charged prompt + those tokens.
    const r = await post('/v1/chat/completions', keys.initech!.secret, { ...chat('shared-m', 300), stream: true, ignore_eos: true }, {});
    expect(r.status).toBe(200);
    const reader = r.body!.getReader();
    let got = '';
    while ((got.match(/"content"/g) ?? []).length < 5) got += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    // After settlement, the remaining tokens reflect ~prompt + streamed tokens, not the 300 reserved.
    const after = await waitFor(async () => {
      const probe = await post('/v1/chat/completions', keys.initech!.secret, chat('shared-m', 1));
      const remaining = Number(probe.headers.get('x-ratelimit-remaining-tokens'));
      return probe.status === 200 && remaining > 400 - 300 ? remaining : undefined;
    }, { what: 'the abandoned stream to be settled below its reservation' });
    expect(after).toBeLessThan(400 - 5); // the streamed tokens were charged
  });

  it('a tenant whose metered usage this month reached its budget gets 429 budget_exceeded; last month\'s usage does not count', async () => {
    const month = new Date().toISOString().slice(0, 7);
    const withUsage = (usage: { month: string; inputTokens: number; outputTokens: number; usd: number }, budget: { tokensPerMonth?: number; usdPerMonth?: number }) => {
      const t = tenant('budgeted', { budget });
      index.upsert({ ...t, status: { usage: { requests: 1, cachedTokens: 0, ...usage } } });
    };
    const k = key('budgeted-1', 'budgeted');
    index.upsert(k.resource);
    withUsage({ month, inputTokens: 600, outputTokens: 400, usd: 0.5 }, { tokensPerMonth: 1000 });
    const r = await post('/v1/chat/completions', k.secret, chat('shared-m'));
    expect(r.status).toBe(429);
    const body = (await r.json()) as { error: { code: string; type: string; message: string } };
    expect(body.error).toMatchObject({ code: 'budget_exceeded', type: 'insufficient_quota' });
    expect(body.error.message).toMatch(new RegExp(`1,000 of 1,000 tokens in ${month}`));
    withUsage({ month, inputTokens: 10, outputTokens: 10, usd: 12 }, { usdPerMonth: 10 });
    expect(((await (await post('/v1/chat/completions', k.secret, chat('shared-m'))).json()) as { error: { message: string } }).error.message).toMatch(/\$12\.00 of \$10\.00/);
    withUsage({ month: '2020-01', inputTokens: 5000, outputTokens: 5000, usd: 99 }, { tokensPerMonth: 1000, usdPerMonth: 10 });
    expect((await post('/v1/chat/completions', k.secret, chat('shared-m'))).status).toBe(200);
  });

  it('meters every request: tenant, key, model, cluster, tokens, latency and status — refusals and abandoned streams included', async () => {
    records.length = 0;
    const ok = await post('/v1/chat/completions', keys.acme!.secret, chat('shared-m', 5));
    const id = ok.headers.get('x-request-id');
    const usage = ((await ok.json()) as { usage: { prompt_tokens: number; completion_tokens: number } }).usage;
    await waitFor(() => records.find((r) => r.requestId === id));
    expect(records.find((r) => r.requestId === id)).toMatchObject({ tenant: 'acme', key: 'acme-1', model: 'shared-m', cluster: 'eu', inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens, status: 200 });
    // Refused by the rate limiter (globex is over its RPM by now).
    const limited = await post('/v1/chat/completions', keys.globex!.secret, chat('shared-m'));
    expect(limited.status).toBe(429);
    const lid = limited.headers.get('x-request-id');
    await waitFor(() => records.find((r) => r.requestId === lid));
    expect(records.find((r) => r.requestId === lid)).toMatchObject({ tenant: 'globex', status: 429, inputTokens: 0, outputTokens: 0, cluster: '' });
    // A stream the client abandons: charged for what it received, status client_closed.
    const r = await post('/v1/chat/completions', keys.acme!.secret, { ...chat('shared-m', 300), stream: true, ignore_eos: true });
    const sid = r.headers.get('x-request-id');
    const reader = r.body!.getReader();
    let got = '';
    while ((got.match(/"content"/g) ?? []).length < 3) got += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    const rec = await waitFor(() => records.find((x) => x.requestId === sid));
    expect(rec).toMatchObject({ tenant: 'acme', status: 'client_closed', cluster: 'eu' });
    expect(rec.outputTokens).toBeGreaterThanOrEqual(3);
    expect(rec.outputTokens).toBeLessThan(300);
    expect(rec.latencyMs).toBeGreaterThanOrEqual(0);
  });
});
