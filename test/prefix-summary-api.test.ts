/**
 * The prefix summary endpoints of the admin API, in-process (SwitchyardServer): an agent reports
 * its cluster's summary with its own token (the heartbeat's), bad input is refused in the OpenAI
 * error shape (400 malformed, 413 too large, 404 no such cluster, 403 another cluster's token),
 * gateways read every cluster's latest with an ETag (304 while unchanged), the OpenAPI document
 * lists the paths, and /metrics reports each summary's size.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_VERSION, PREFIX_SUMMARY_MAX_BYTES, SwitchyardClient } from '../src/api/index.js';
import { PrefixSummary } from '../src/router/index.js';
import { SwitchyardServer } from '../src/server.js';
import { BIN } from './helpers/platform.js';
import { codeOf } from './helpers/errors.js';
import { metricValue } from './helpers/wait.js';

const TOKEN = 'sy-admin-prefix-summaries';
let dir: string;
let server: SwitchyardServer;
let admin: SwitchyardClient;
let rackToken: string;

const base64Of = (blocks: number, opts: { maxBytes?: number } = {}): string =>
  Buffer.from(PrefixSummary.build({ blockSize: 16, forEachBlock: (cb) => Array.from({ length: blocks }, (_, i) => cb((i * 2654435761) >>> 0, i)) }, opts).encode()).toString('base64');

async function put(cluster: string, body: unknown, token: string | null = rackToken): Promise<{ status: number; body: { error?: { code: string; message: string; param: string | null; type: string } } & Record<string, unknown> }> {
  const res = await fetch(`${server.url}/api/v1/clusters/${cluster}/prefix-summary`, { method: 'PUT', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as never };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-prefix-'));
  server = await SwitchyardServer.start({ dataDir: dir, port: 0, adminToken: TOKEN, switchyardBin: [process.execPath, BIN] });
  admin = new SwitchyardClient({ server: server.url, token: TOKEN });
  await admin.apply([
    { apiVersion: API_VERSION, kind: 'Cluster', metadata: { name: 'rack' }, spec: { provider: 'static', static: { endpoints: [{ url: 'http://127.0.0.1:9', model: 'm' }] } } },
    { apiVersion: API_VERSION, kind: 'Cluster', metadata: { name: 'other' }, spec: { provider: 'static', static: { endpoints: [{ url: 'http://127.0.0.1:9', model: 'm' }] } } },
  ]);
  rackToken = await server.controlPlane.tokens.issueClusterToken('rack');
}, 30_000);

afterAll(async () => {
  await admin?.close();
  await server?.close({ stopReplicas: true });
  rmSync(dir, { recursive: true, force: true });
});

describe('prefix summaries on the admin API', () => {
  it("accepts the cluster's own agent token, and bumps the version only when the bytes change", async () => {
    const a = await put('rack', { summary: base64Of(100), intervalMs: 1000, backends: ['rack-0'] });
    expect(a).toMatchObject({ status: 200, body: { cluster: 'rack', version: 1, changed: true } });
    expect((await put('rack', { summary: base64Of(100), intervalMs: 1000, backends: ['rack-0'] })).body).toMatchObject({ version: 1, changed: false });
    expect((await put('rack', { summary: base64Of(200), intervalMs: 1000, backends: ['rack-0'] })).body).toMatchObject({ version: 2, changed: true });
    const item = await admin.prefixSummary('rack');
    expect(item).toMatchObject({ cluster: 'rack', version: 2, blocks: 200, entries: 200, sampleShift: 0, blockSize: 16, backends: ['rack-0'] });
    expect(PrefixSummary.decode(Buffer.from(item.summary, 'base64')).blocks).toBe(200);
  });

  it.each([
    ['no token', { summary: base64Of(1) }, null, 401, 'unauthorized'],
    ["another cluster's summary", { summary: base64Of(1) }, 'other-token', 403, 'forbidden'],
    ['a body that is not JSON', '{"summary": ', undefined, 400, 'invalid_request'],
    ['no summary', { backends: [] }, undefined, 400, 'invalid_config'],
    ['a summary that is not base64', { summary: 'not base64!' }, undefined, 400, 'invalid_config'],
    ['bytes that are not a summary', { summary: Buffer.from('definitely not a prefix summary').toString('base64') }, undefined, 400, 'invalid_request'],
    ['an unknown field', { summary: base64Of(1), extra: 1 }, undefined, 400, 'invalid_config'],
    ['a summary over 64 KiB', { summary: Buffer.alloc(PREFIX_SUMMARY_MAX_BYTES + 4096).toString('base64') }, undefined, 413, 'payload_too_large'],
  ])('refuses %s in the OpenAI error shape', async (_what, body, token, status, code) => {
    const t = token === 'other-token' ? await server.controlPlane.tokens.issueClusterToken('other') : token;
    const r = await put('rack', body, t);
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    expect(r.body.error).toMatchObject({ code, message: expect.any(String), type: expect.any(String) });
  });

  it('refuses a cluster that does not exist (404), and names the field of a bad summary', async () => {
    const missing = await put('nowhere', { summary: base64Of(1) }, TOKEN);
    expect(missing.status).toBe(404);
    const bad = await put('rack', { summary: Buffer.from('definitely not a prefix summary').toString('base64') });
    expect(bad.body.error).toMatchObject({ param: 'summary', message: expect.stringMatching(/magic/) });
    expect(await codeOf(admin.prefixSummary('other'))).toBe('not_found');
  });

  it('serves every summary with an ETag: 304 while unchanged, a new ETag after a change', async () => {
    const first = await admin.prefixSummaries();
    expect(first!.list.items.map((i) => i.cluster)).toContain('rack');
    expect(first!.etag).toMatch(/^"[0-9a-f]+-\d+"$/);
    expect(first!.list.version).toBe(first!.etag);
    expect(await admin.prefixSummaries(first!.etag)).toBeNull();
    const raw = await fetch(`${server.url}/api/v1/prefix-summaries`, { headers: { authorization: `Bearer ${TOKEN}`, 'if-none-match': first!.etag } });
    expect(raw.status).toBe(304);
    await admin.putPrefixSummary('rack', { summary: base64Of(300), backends: ['rack-0'] });
    const next = await admin.prefixSummaries(first!.etag);
    expect(next!.etag).not.toBe(first!.etag);
    expect(next!.list.items.find((i) => i.cluster === 'rack')!.blocks).toBe(300);
  });

  it('lists the endpoints in the OpenAPI document and reports the bytes per cluster on /metrics', async () => {
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/api/v1/clusters/{name}/prefix-summary']!)).toEqual(expect.arrayContaining(['put', 'get']));
    expect(doc.paths['/api/v1/prefix-summaries']).toHaveProperty('get');
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const item = await admin.prefixSummary('rack');
    expect(metricValue(text, 'switchyard_prefix_summary_bytes', { cluster: 'rack' })).toBe(item.bytes);
  });
});
