/**
 * Gateway protocol tests: the official openai SDK through the gateway to simulated workers, and
 * the responses checked against the OpenAI OpenAPI spec.
 */
import OpenAI from 'openai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway, loadGatewayConfig } from '../src/gateway/index.js';
import { startFleet, startWorkers, type Fleet } from './helpers/fleet.js';
import { metricValue, waitFor } from './helpers/wait.js';
import { loadOpenAISpec } from './openai-spec/validator.js';

let fleet: Fleet;
let client: OpenAI;
const spec = loadOpenAISpec();
const valid = (schema: string, v: unknown) => expect(spec.validate(schema, v), `${schema}: ${JSON.stringify(v).slice(0, 300)}`).toEqual([]);

beforeAll(async () => {
  fleet = await startFleet(await startWorkers(2, { model: 'm1' }));
  client = new OpenAI({ baseURL: `${fleet.gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(async () => {
  await fleet?.close();
});

describe('gateway with the official openai SDK', () => {
  it('lists models, and says when the simulator serves one (once a scrape of its metrics showed it)', async () => {
    const list = await client.models.list();
    expect(list.data.map((m) => m.id)).toEqual(['m1']);
    valid('ListModelsResponse', { object: 'list', data: list.data });
    await waitFor(async () => (await client.models.list()).data[0]?.owned_by === 'switchyard-simulator', { what: "the gateway to label m1 as simulated" });
  });

  it('chat, non-streaming: valid response, routing headers, request id propagated', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'm1', messages: [{ role: 'user', content: 'hello' }], max_tokens: 5 }, { headers: { 'x-request-id': 'req-test-123' } })
      .withResponse();
    valid('CreateChatCompletionResponse', data);
    expect(data.system_fingerprint).toBe('switchyard-simulator'); // the simulator names itself in every response
    expect(data.usage?.completion_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-switchyard-backend')).toMatch(/^w[01]$/);
    expect(response.headers.get('x-switchyard-route')).toMatch(/^default; /);
    expect(response.headers.get('x-request-id')).toBe('req-test-123');
    const gen = await client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'x' }], max_tokens: 1 }).withResponse();
    expect(gen.response.headers.get('x-request-id')).toMatch(/^req-/);
  });

  it('streams without usage unless asked, yet accounts usage either way', async () => {
    const metrics = async () => (await fetch(`${fleet.gateway.url}/metrics`)).text();
    const before = metricValue(await metrics(), 'switchyard_output_tokens_total') || 0;
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const c of await client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'count' }], max_tokens: 7, stream: true, ignore_eos: true } as OpenAI.ChatCompletionCreateParamsStreaming)) chunks.push(c);
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect(chunks.filter((c) => c.choices[0]?.delta.content).length).toBe(7);
    for (const c of chunks) valid('CreateChatCompletionStreamResponse', c);
    expect(chunks.every((c) => c.system_fingerprint === 'switchyard-simulator')).toBe(true);
    const withUsage: OpenAI.ChatCompletionChunk[] = [];
    for await (const c of await client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'count' }], max_tokens: 7, stream: true, stream_options: { include_usage: true }, ignore_eos: true } as OpenAI.ChatCompletionCreateParamsStreaming)) withUsage.push(c);
    expect(withUsage.at(-1)?.usage?.completion_tokens).toBe(7);
    const after = metricValue(await metrics(), 'switchyard_output_tokens_total');
    expect(after - before).toBe(14);
    const text = await metrics();
    expect(metricValue(text, 'switchyard_time_to_first_token_seconds_count')).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/switchyard_requests_total\{model="m1",backend="w[01]",status="200"\}/);
    expect(text).toMatch(/switchyard_routing_plugin_duration_seconds_bucket\{/);
  });

  it('completions (streaming and not) and embeddings', async () => {
    const c = await client.completions.create({ model: 'm1', prompt: 'Once upon', max_tokens: 4, seed: 5 }); // same seed → same text on any backend
    valid('CreateCompletionResponse', c);
    let text = '';
    for await (const ch of await client.completions.create({ model: 'm1', prompt: 'Once upon', max_tokens: 4, seed: 5, stream: true })) text += ch.choices[0]?.text ?? '';
    expect(text).toBe(c.choices[0]!.text);
    const e = await client.embeddings.create({ model: 'm1', input: ['a', 'b'], dimensions: 8 });
    valid('CreateEmbeddingResponse', e);
    expect(e.data).toHaveLength(2);
  });

  it('errors use the OpenAI shape: unknown model 404 names the available models; bad input 400; /v1/responses 501', async () => {
    const nf = await client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(nf).toBeInstanceOf(OpenAI.NotFoundError);
    expect((nf as InstanceType<typeof OpenAI.NotFoundError>).message).toMatch(/'m1'/);
    const bad = await client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'x' }], temperature: 7 }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    const raw = await fetch(`${fleet.gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"m1",' });
    expect(raw.status).toBe(400);
    valid('ErrorResponse', await raw.json());
    const resp = await fetch(`${fleet.gateway.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm1', input: 'hi' }) });
    expect(resp.status).toBe(501);
    expect(((await resp.json()) as { error: { message: string } }).error.message).toMatch(/does not support \/v1\/responses/);
  });

  it('enforces body and header limits', async () => {
    const big = await fetch(`${fleet.gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm1', messages: [{ role: 'user', content: 'x'.repeat(17 * 1024 * 1024) }] }) });
    expect(big.status).toBe(413);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    for (let i = 0; i < 150; i++) headers[`x-h${i}`] = 'v';
    const many = await fetch(`${fleet.gateway.url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify({ model: 'm1', messages: [{ role: 'user', content: 'x' }] }) });
    expect(many.status).toBe(431);
  });

  it('serves /health, /ready and /debug/routing', async () => {
    expect((await fetch(`${fleet.gateway.url}/health`)).status).toBe(200);
    expect((await fetch(`${fleet.gateway.url}/ready`)).status).toBe(200);
    const dbg = (await (await fetch(`${fleet.gateway.url}/debug/routing`)).json()) as { models: Record<string, { endpoints: { id: string; healthy: boolean }[] }>; recentDecisions: { reason: string; timings: unknown[] }[] };
    expect(dbg.models.m1!.endpoints.map((e) => e.id)).toEqual(['w0', 'w1']);
    expect(dbg.recentDecisions.length).toBeGreaterThan(0);
    expect(dbg.recentDecisions.at(-1)!.timings.length).toBeGreaterThan(0);
  });

  it('with readyModels, /ready waits for each of those models (up --demo: the demo model)', async () => {
    const object = { listen: { port: 0 }, models: [{ name: 'm1', endpoints: [{ url: fleet.workers[0]!.url }] }] };
    const waiting = await Gateway.start({ config: loadGatewayConfig({ object }), readyModels: ['m1', 'demo-model'] });
    const serving = await Gateway.start({ config: loadGatewayConfig({ object }), readyModels: ['m1'] });
    try {
      const r = await fetch(`${waiting.url}/ready`);
      expect(r.status).toBe(503);
      expect(await r.json()).toEqual({ status: 'no healthy backend for demo-model' });
      expect((await fetch(`${serving.url}/ready`)).status).toBe(200);
    } finally {
      await Promise.all([waiting.close(), serving.close()]);
    }
  });
});

describe('gateway config reload', () => {
  it('picks up a changed config file without dropping the server', async () => {
    const [w] = await startWorkers(1, { model: 'm2' });
    const dir = mkdtempSync(join(tmpdir(), 'sy-gw-'));
    const file = join(dir, 'gateway.yaml');
    writeFileSync(file, `listen: { port: 0 }\nmodels:\n  - name: m1\n    endpoints: [{ url: '${fleet.workers[0]!.url}' }]\n`);
    const gw = await Gateway.start({ config: loadGatewayConfig({ file }), configFile: file });
    try {
      expect(gw.table.models()).toEqual(['m1']);
      writeFileSync(file, `listen: { port: 0 }\nmodels:\n  - name: m1\n    endpoints: [{ url: '${fleet.workers[0]!.url}' }]\n  - name: m2\n    endpoints: [{ url: '${w!.url}' }]\n`);
      await waitFor(() => gw.table.models().includes('m2'), { what: 'reload to add m2' });
      const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm2', messages: [{ role: 'user', content: 'x' }], max_tokens: 2 }) });
      expect(r.status).toBe(200);
      // A broken edit is rejected and the previous table kept.
      writeFileSync(file, 'models: [ { name: 3 } ]\n');
      gw.reload();
      expect(gw.table.models()).toEqual(['m1', 'm2']);
    } finally {
      await gw.close();
      await w!.close();
    }
  });
});
