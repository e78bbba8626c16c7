/**
 * Real responses of `switchyard worker sim` (over HTTP, not the builders in src/openai) validate
 * against the official OpenAI OpenAPI spec: chat (plain and every streamed chunk), completions,
 * embeddings, the model list and error bodies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimWorker } from '../src/engines/index.js';
import { collectSse } from './helpers/sse-events.js';
import { loadOpenAISpec } from './openai-spec/validator.js';

const MODEL = 'sim-spec-llama-8b';
const spec = loadOpenAISpec();
let worker: SimWorker;

beforeAll(async () => {
  worker = await SimWorker.start({ model: MODEL, port: 0, speedup: 50, seed: 3 });
});
afterAll(async () => {
  await worker?.close();
});

/** Assert `value` validates as `schema`; the validator's errors are the failure message. */
function expectValid(schema: string, value: unknown, what = schema): void {
  const errors = spec.validate(schema, value);
  expect(errors, `${what} is not a valid ${schema}:\n${errors.join('\n')}\nvalue: ${JSON.stringify(value).slice(0, 2000)}`).toEqual([]);
}

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${worker.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function postJson(path: string, body: unknown): Promise<unknown> {
  const res = await post(path, body);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return JSON.parse(text) as unknown;
}

interface Chunk {
  object: string;
  choices: { delta: { role?: string; content?: string }; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number } | null;
}

/** Stream a chat completion; returns the parsed chunks (every one validated) and the text. */
async function streamChat(body: Record<string, unknown>): Promise<{ chunks: Chunk[]; text: string }> {
  const res = await post('/v1/chat/completions', { ...body, stream: true });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events = await collectSse(res);
  expect(events[events.length - 1]?.data).toBe('[DONE]');
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data) as Chunk);
  chunks.forEach((c, i) => expectValid('CreateChatCompletionStreamResponse', c, `chunk ${i} of ${chunks.length}`));
  const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
  return { chunks, text };
}

const messages = [
  { role: 'system', content: 'You are a terse assistant.' },
  { role: 'user', content: 'Name three rivers.' },
];

describe('chat completions', () => {
  it('a non-streaming response is a CreateChatCompletionResponse', async () => {
    for (const extra of [{ max_tokens: 8, ignore_eos: true }, { max_completion_tokens: 4, seed: 9 }, { max_tokens: 50 }]) {
      const body = await postJson('/v1/chat/completions', { model: MODEL, messages, ...extra });
      expectValid('CreateChatCompletionResponse', body, JSON.stringify(extra));
      expect(body).toMatchObject({ object: 'chat.completion', model: MODEL });
    }
  });

  it('every streamed chunk is a CreateChatCompletionStreamResponse: role, content, finish_reason, usage-only', async () => {
    const { chunks, text } = await streamChat({ model: MODEL, messages, max_tokens: 10, ignore_eos: true, stream_options: { include_usage: true } });
    expect(text.length).toBeGreaterThan(0);
    // The role chunk comes first, with usage: null as OpenAI sends when include_usage is on.
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(chunks[0]!.usage).toBeNull();
    // The finish_reason chunk, then the usage-only chunk with no choices.
    const finishIdx = chunks.findIndex((c) => c.choices[0]?.finish_reason != null);
    expect(chunks[finishIdx]!.choices[0]!.finish_reason).toBe('length');
    expect(finishIdx).toBe(chunks.length - 2);
    const last = chunks[chunks.length - 1]!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ completion_tokens: 10 });
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
  });

  it('streamed chunks without stream_options and with continuous usage stats also validate', async () => {
    const plain = await streamChat({ model: MODEL, messages, max_tokens: 5, ignore_eos: true });
    expect(plain.chunks.every((c) => !('usage' in c))).toBe(true);
    expect(plain.chunks[plain.chunks.length - 1]!.choices[0]!.finish_reason).toBe('length');
    const continuous = await streamChat({ model: MODEL, messages, max_tokens: 5, ignore_eos: true, stream_options: { include_usage: true, continuous_usage_stats: true } });
    expect(continuous.chunks.filter((c) => c.usage).length).toBeGreaterThanOrEqual(5);
    // A stop string ends the stream with finish_reason 'stop'.
    const words = plain.text.trim().split(' ');
    expect(words.length).toBeGreaterThan(2);
    const stopped = await streamChat({ model: MODEL, messages, max_tokens: 5, ignore_eos: true, stop: [` ${words[2]}`] });
    expect(stopped.chunks[stopped.chunks.length - 1]!.choices[0]!.finish_reason).toBe('stop');
  });
});

describe('completions, embeddings, models', () => {
  it('a non-streaming completion is a CreateCompletionResponse (plain, echo, token-id prompt)', async () => {
    for (const extra of [{ prompt: 'Once upon a time', max_tokens: 6 }, { prompt: 'Echo me', max_tokens: 3, echo: true }, { prompt: [101, 202, 303], max_tokens: 2, ignore_eos: true }]) {
      const body = await postJson('/v1/completions', { model: MODEL, ...extra });
      expectValid('CreateCompletionResponse', body, JSON.stringify(extra));
      expect(body).toMatchObject({ object: 'text_completion', model: MODEL });
    }
  });

  it('streamed completion chunks are CreateCompletionResponse objects (mid-stream finish_reason: null aside)', async () => {
    const res = await post('/v1/completions', { model: MODEL, prompt: 'Stream this', max_tokens: 4, ignore_eos: true, stream: true });
    expect(res.status).toBe(200);
    const events = await collectSse(res);
    expect(events.pop()?.data).toBe('[DONE]');
    const chunks = events.map((e) => JSON.parse(e.data) as { choices: { finish_reason: string | null }[] });
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    const last = chunks.pop()!;
    expect(last.choices[0]!.finish_reason).toBe('length');
    expectValid('CreateCompletionResponse', last, 'final completion chunk');
    // The spec has no stream schema for completions and its finish_reason is not nullable, while
    // OpenAI and vLLM send null mid-stream (see test/openai-spec/spec.test.ts): check that field
    // is null, and everything else against the spec.
    chunks.forEach((c, i) => {
      expect(c.choices[0]!.finish_reason).toBeNull();
      expectValid('CreateCompletionResponse', { ...c, choices: c.choices.map((ch) => ({ ...ch, finish_reason: 'length' })) }, `completion chunk ${i}`);
    });
  });

  it('embeddings (float and base64) are a CreateEmbeddingResponse', async () => {
    for (const extra of [{ input: 'hello world' }, { input: ['a', 'b c'], dimensions: 16 }, { input: [1, 2, 3], encoding_format: 'float' }]) {
      const body = await postJson('/v1/embeddings', { model: MODEL, ...extra });
      expectValid('CreateEmbeddingResponse', body, JSON.stringify(extra));
    }
    // The spec types `embedding` as number[] only; with encoding_format base64 OpenAI sends the
    // little-endian float32 bytes as a base64 string. Decode it, then validate.
    const floats = (await postJson('/v1/embeddings', { model: MODEL, input: 'same text', dimensions: 8 })) as { data: { embedding: number[] }[] };
    const b64 = (await postJson('/v1/embeddings', { model: MODEL, input: 'same text', dimensions: 8, encoding_format: 'base64' })) as { data: { embedding: unknown }[] };
    const raw = b64.data[0]!.embedding;
    expect(typeof raw).toBe('string');
    const bytes = Buffer.from(raw as string, 'base64');
    expect(bytes.length).toBe(8 * 4);
    const decoded = Array.from({ length: 8 }, (_, i) => bytes.readFloatLE(i * 4));
    decoded.forEach((v, i) => expect(v).toBeCloseTo(floats.data[0]!.embedding[i]!, 6));
    expectValid('CreateEmbeddingResponse', { ...b64, data: [{ ...b64.data[0], embedding: decoded }] }, 'base64 embeddings, decoded');
  });

  it('/v1/models is a ListModelsResponse', async () => {
    const res = await fetch(`${worker.url}/v1/models`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: unknown[] };
    expectValid('ListModelsResponse', body);
    expect(body.data).toHaveLength(1);
    expectValid('Model', body.data[0]);
  });
});

describe('errors', () => {
  it('every error body is an ErrorResponse', async () => {
    const cases: [string, { method: string; body?: string }, number][] = [
      ['/v1/chat/completions', { method: 'POST', body: JSON.stringify({ model: MODEL }) }, 400],
      ['/v1/chat/completions', { method: 'POST', body: '{"model":' }, 400],
      ['/v1/chat/completions', { method: 'POST', body: JSON.stringify({ model: 'nope', messages }) }, 404],
      ['/v1/completions', { method: 'POST', body: JSON.stringify({ model: MODEL, prompt: ['a', 'b'] }) }, 400],
      ['/v1/embeddings', { method: 'POST', body: JSON.stringify({ model: MODEL }) }, 400],
      ['/v1/responses', { method: 'POST', body: JSON.stringify({ model: MODEL, input: 'hi' }) }, 501],
      ['/v1/chat/completions', { method: 'GET' }, 405],
      ['/v2/nothing', { method: 'GET' }, 404],
      ['/sim/faults', { method: 'PUT', body: JSON.stringify({ bogus: true }) }, 400],
    ];
    for (const [path, init, status] of cases) {
      const res = await fetch(`${worker.url}${path}`, { headers: { 'content-type': 'application/json' }, ...init });
      const body: unknown = await res.json();
      const what = `${init.method} ${path} ${init.body ?? ''}`;
      expect(res.status, what).toBe(status);
      expectValid('ErrorResponse', body, what);
    }
  });

  it('injected faults (500, 429, 503) and slow start are ErrorResponse bodies too', async () => {
    const w = await SimWorker.start({ model: MODEL, port: 0, faults: { slowStartMs: 60_000 } });
    try {
      const loading = await fetch(`${w.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, messages }) });
      expect(loading.status).toBe(503);
      expectValid('ErrorResponse', await loading.json(), 'slow start');
      for (const status of [500, 429, 503]) {
        w.setFaults({ slowStartMs: 0, errorRate: 1, errorStatus: status });
        const res = await fetch(`${w.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, messages }) });
        expect(res.status).toBe(status);
        expectValid('ErrorResponse', await res.json(), `injected ${status}`);
      }
    } finally {
      await w.close();
    }
  });
});
