/**
 * JWT auth for apps, end to end: a control plane (`switchyard up`'s SwitchyardServer, in-process,
 * itself started with JWT auth) and a `switchyard gateway --control-plane … --jwt-jwks URL`
 * process, with the JWKS served by a tiny local HTTP server.
 *
 * - a valid RS256 JWT reaches a sim backend (200) as the tenant its claim names: that tenant's
 *   allowed models (another tenant's private model is a 404), and its usage metered to it;
 * - refused JWTs are 401 `invalid_api_key` in the OpenAI error shape; API keys still work;
 * - rotating the JWKS (a new kid, the old key gone) is picked up without a restart;
 * - bad flag combinations exit 2.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_VERSION, SwitchyardClient } from '../src/api/index.js';
import { SimWorker } from '../src/engines/index.js';
import { loadJwt, type LoadedJwt } from '../src/gateway/index.js';
import { SwitchyardServer } from '../src/server.js';
import { BIN, ROOT, startCli, type RunningProcess } from './helpers/platform.js';
import { waitFor } from './helpers/wait.js';

const TOKEN = 'sy-admin-jwt-e2e';
const SHARED = 'shared-m';
const PRIVATE = 'private-m';
const ISSUER = 'https://idp.example';
const AUDIENCE = 'switchyard';

const k1 = generateKeyPairSync('rsa', { modulusLength: 2048 });
const k2 = generateKeyPairSync('rsa', { modulusLength: 2048 });
const publicJwk = (k: KeyObject, kid: string) => ({ ...k.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' });

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
function jwt(tenant: string, o: { key?: KeyObject; kid?: string; claims?: Record<string, unknown> } = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const payload = { iss: ISSUER, aud: [AUDIENCE, 'other'], sub: `app-of-${tenant}`, org: { tenant }, iat: now, exp: now + 600, ...o.claims };
  const data = `${b64({ alg: 'RS256', typ: 'JWT', kid: o.kid ?? 'k1' })}.${b64(payload)}`;
  return `${data}.${sign('RSA-SHA256', Buffer.from(data), o.key ?? k1.privateKey).toString('base64url')}`;
}

/** Run the real binary to its exit (several at once). */
function run(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  const p = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', SWITCHYARD_DEBUG: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => p.once('close', (code) => resolve({ code, stderr })));
}

let dir: string;
let jwksDoc: { keys: unknown[] } = { keys: [publicJwk(k1.publicKey, 'k1')] };
let jwksServer: Server;
let jwksUrl: string;
let jwksHits = 0;
let workers: SimWorker[];
let server: SwitchyardServer;
let serverJwt: LoadedJwt;
let client: SwitchyardClient;
let gateway: RunningProcess & { value: string };
/** The remote gateway process and `up`'s own gateway. */
let gateways: string[];

const chat = (gw: string, bearer: string, model = SHARED) =>
  fetch(`${gw}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }) });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-jwt-'));
  jwksServer = createServer((_req, res) => {
    jwksHits++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(jwksDoc));
  });
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
  workers = await Promise.all([SHARED, PRIVATE].map((model, i) => SimWorker.start({ model, port: 0, speedup: 100, seed: i })));
  serverJwt = (await loadJwt({ jwks: jwksUrl, issuer: ISSUER, audience: AUDIENCE, tenantClaim: 'org.tenant' }))!;
  server = await SwitchyardServer.start({ dataDir: dir, port: 0, adminToken: TOKEN, switchyardBin: [process.execPath, BIN], jwt: serverJwt.options });
  client = new SwitchyardClient({ server: server.url, token: TOKEN });
  await client.apply([
    { apiVersion: API_VERSION, kind: 'Cluster', metadata: { name: 'rack' }, spec: { provider: 'static', static: { endpoints: workers.map((w, i) => ({ url: w.url, model: i === 0 ? SHARED : PRIVATE })) } } },
    { apiVersion: API_VERSION, kind: 'Function', metadata: { name: 'shared' }, spec: { model: 'org/shared', runtime: 'vllm', servedName: SHARED, targetClusters: ['rack'] } },
    { apiVersion: API_VERSION, kind: 'Function', metadata: { name: 'private' }, spec: { model: 'org/private', runtime: 'vllm', servedName: PRIVATE, targetClusters: ['rack'] } },
    { apiVersion: API_VERSION, kind: 'Tenant', metadata: { name: 'acme' }, spec: { allowedModels: [SHARED] } },
    { apiVersion: API_VERSION, kind: 'Tenant', metadata: { name: 'globex' }, spec: {} },
    { apiVersion: API_VERSION, kind: 'Tenant', metadata: { name: 'umbrella' }, spec: {} },
  ]);
  gateway = await startCli(
    ['gateway', '--control-plane', server.url, '--token', TOKEN, '--port', '0', '--jwt-jwks', jwksUrl, '--jwt-issuer', ISSUER, '--jwt-audience', AUDIENCE, '--jwt-tenant-claim', 'org.tenant', '--log-level', 'warn'],
    {},
    (out) => /listening on (http:\/\/\S+)/.exec(out)?.[1],
  );
  gateways = [gateway.value, server.url];
  // Both models routable and both tenants known (they arrive with the watch stream).
  for (const gw of gateways) await waitFor(async () => (await chat(gw, jwt('globex'), PRIVATE)).status === 200 && (await chat(gw, jwt('acme'))).status === 200, { timeoutMs: 20_000, what: `${gw} to serve JWT callers` });
}, 90_000);

afterAll(async () => {
  if (gateway) {
    gateway.kill('SIGTERM');
    await gateway.exited;
  }
  await client?.close();
  await server?.close({ stopReplicas: true });
  serverJwt?.close();
  await Promise.all((workers ?? []).map((w) => w.close()));
  await new Promise((r) => jwksServer?.close(r));
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe('JWT auth on the gateway data plane', () => {
  it('a valid RS256 JWT reaches the sim backend; the official SDK takes it as its api key', async () => {
    for (const gw of gateways) {
      const r = await chat(gw, jwt('acme'));
      expect(r.status).toBe(200);
      expect(r.headers.get('x-switchyard-cluster')).toBe('rack');
      const sdk = new OpenAI({ baseURL: `${gw}/v1`, apiKey: jwt('acme'), maxRetries: 0 });
      const out = await sdk.chat.completions.create({ model: SHARED, messages: [{ role: 'user', content: 'hello' }], max_tokens: 3 });
      expect(out.choices[0]?.message.content).toBeTruthy();
    }
  });

  it("is attributed to its tenant: another tenant's private model is a 404, /v1/models lists its models, usage is metered to it", async () => {
    for (const gw of gateways) {
      const denied = await chat(gw, jwt('acme'), PRIVATE);
      expect(denied.status).toBe(404);
      expect(((await denied.json()) as { error: { code: string } }).error.code).toBe('model_not_found');
      expect((await chat(gw, jwt('globex'), PRIVATE)).status).toBe(200);
      const models = (await (await fetch(`${gw}/v1/models`, { headers: { authorization: `Bearer ${jwt('acme')}` } })).json()) as { data: { id: string }[] };
      expect(models.data.map((m) => m.id)).toEqual([SHARED]);
      // A models claim narrows further: globex may use both, this token only the shared one.
      expect((await chat(gw, jwt('globex', { claims: { models: [SHARED] } }), PRIVATE)).status).toBe(404);
    }
    // The remote gateway reports usage through POST /api/v1/usage: a tenant used only here, by JWT only.
    for (let i = 0; i < 3; i++) expect((await chat(gateway.value, jwt('umbrella'))).status).toBe(200);
    const usage = await waitFor(async () => {
      const items = await client.usage({ tenant: 'umbrella', groupBy: 'none' });
      return items.reduce((n, a) => n + a.requests, 0) >= 3 ? items : undefined;
    }, { what: "umbrella's JWT requests to be metered" });
    expect(usage).toMatchObject([{ tenant: 'umbrella', model: SHARED, requests: 3 }]);
  });

  it('refused JWTs are 401 invalid_api_key in the OpenAI error shape and never echo the token; API keys still work', async () => {
    const cases: [string, RegExp][] = [
      [jwt('acme', { claims: { exp: Math.floor(Date.now() / 1000) - 3600 } }), /expired/],
      [jwt('acme', { claims: { aud: 'someone-else' } }), /audience \(aud\) does not include 'switchyard'/],
      [jwt('acme', { claims: { iss: 'https://evil.example' } }), /issuer/],
      [jwt('initech'), /unknown tenant 'initech'/],
      [jwt('acme', { key: k2.privateKey }), /signature does not verify/],
    ];
    for (const gw of gateways) {
      for (const [token, message] of cases) {
        const r = await chat(gw, token);
        expect(r.status).toBe(401);
        const text = await r.text();
        expect(text).not.toContain(token.split('.')[2]!);
        const body = JSON.parse(text) as { error: { message: string; type: string; code: string } };
        expect(body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_api_key' });
        expect(body.error.message).toMatch(message);
      }
    }
    const minted = await fetch(`${server.url}/api/v1/tenants/acme/keys`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: '{}' });
    const { key } = (await minted.json()) as { key: string };
    for (const gw of gateways) await waitFor(async () => (await chat(gw, key)).status === 200, { what: `the API key to work on ${gw}` });
    expect((await chat(server.url, TOKEN, PRIVATE)).status).toBe(200); // `up`: the admin token too
  });

  it('a rotated JWKS (new kid, old key removed) is picked up without a restart', async () => {
    const old = jwt('acme');
    for (const gw of gateways) expect((await chat(gw, old)).status).toBe(200);
    jwksDoc = { keys: [publicJwk(k2.publicKey, 'k2')] };
    const hits = jwksHits;
    const rotated = jwt('acme', { key: k2.privateKey, kid: 'k2' });
    // The first request with the new kid is a 401 that makes the gateway re-read its JWKS.
    for (const gw of gateways) await waitFor(async () => (await chat(gw, rotated)).status === 200, { what: `${gw} to accept the new kid` });
    expect(jwksHits).toBeGreaterThanOrEqual(hits + 2);
    for (const gw of gateways) {
      const r = await chat(gw, old);
      expect(r.status).toBe(401);
      expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/unknown signing key/);
    }
  });

  it('bad flag combinations exit 2 with a clear message; a short secret is refused', async () => {
    const secret = join(dir, 'short-secret');
    writeFileSync(secret, 'too-short\n');
    const config = join(dir, 'gw.yaml');
    writeFileSync(config, 'listen: { port: 0 }\n');
    const cases: [string[], number, RegExp][] = [
      [['gateway', '--config', config, '--jwt-jwks', jwksUrl], 2, /--jwt-jwks needs --control-plane/],
      [['gateway', '--control-plane', server.url, '--token', TOKEN, '--no-auth', '--jwt-secret-file', secret], 2, /--jwt-secret-file and --no-auth contradict each other/],
      [['gateway', '--control-plane', server.url, '--token', TOKEN, '--jwt-audience', AUDIENCE], 2, /--jwt-audience needs --jwt-jwks or --jwt-secret-file/],
      [['up', '--no-auth', '--jwt-jwks', jwksUrl, '--data-dir', join(dir, 'up')], 2, /--jwt-jwks and --no-auth contradict each other/],
      [['gateway', '--control-plane', server.url, '--token', TOKEN, '--jwt-secret-file', secret], 1, /HS256 secret in .* is 9 bytes; it must be at least 32/],
    ];
    const results = await Promise.all(cases.map(([args]) => run(args)));
    cases.forEach(([, code, message], i) => {
      expect(results[i]!.stderr).toMatch(message);
      expect(results[i]!.code).toBe(code);
    });
  }, 60_000);
});
