/**
 * Acceptance tests for `switchyard worker sim` (issue: foundation + simulated engine), run
 * against an in-process SimWorker with the official openai SDK as the client.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimWorker, loadSimTokenizer, ChatTemplate } from '../src/engines/index.js';
import { metricValue, waitFor } from './helpers/wait.js';

const simTokenizer = await loadSimTokenizer();

let worker: SimWorker;
let client: OpenAI;
const MODEL = 'sim-llama-8b';

beforeAll(async () => {
  worker = await SimWorker.start({ model: MODEL, port: 0, speedup: 10, seed: 1 });
  client = new OpenAI({ baseURL: `${worker.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(async () => {
  await worker?.close();
});

const promptTokens = (messages: { role: string; content: string }[]) => simTokenizer.encode(new ChatTemplate().render(messages)).length;

describe('worker sim with the official openai SDK', () => {
  it('lists the model and labels it as simulated', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual([MODEL]);
    expect(models.data[0]!.owned_by).toMatch(/simulator/);
    expect((models.data[0] as unknown as { switchyard: { simulated: boolean } }).switchyard.simulated).toBe(true);
  });

  it('chat, non-streaming: real token counts in usage', async () => {
    const messages = [{ role: 'system' as const, content: 'You are terse.' }, { role: 'user' as const, content: 'Say something about routers.' }];
    const r = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 12, ignore_eos: true } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    expect(r.object).toBe('chat.completion');
    expect(r.choices[0]!.finish_reason).toBe('length');
    const text = r.choices[0]!.message.content!;
    expect(text.length).toBeGreaterThan(10);
    expect(r.usage!.completion_tokens).toBe(12);
    expect(r.usage!.prompt_tokens).toBe(promptTokens(messages));
    expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + 12);
  });

  it('chat, streaming with include_usage: chunks concatenate to the same text as non-streaming', async () => {
    const messages = [{ role: 'user' as const, content: 'Stream me a sentence.' }];
    const params = { model: MODEL, messages, max_tokens: 20, seed: 7, ignore_eos: true };
    const full = await client.chat.completions.create(params as OpenAI.ChatCompletionCreateParamsNonStreaming);
    const stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } } as OpenAI.ChatCompletionCreateParamsStreaming);
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    let finish: string | null = null;
    let chunks = 0;
    for await (const c of stream) {
      chunks++;
      if (c.usage) usage = c.usage;
      for (const ch of c.choices) {
        text += ch.delta.content ?? '';
        if (ch.finish_reason) finish = ch.finish_reason;
      }
    }
    expect(chunks).toBeGreaterThanOrEqual(20);
    expect(text).toBe(full.choices[0]!.message.content);
    expect(finish).toBe('length');
    expect(usage).toMatchObject({ completion_tokens: 20, prompt_tokens: promptTokens(messages) });
  });

  it('completions, non-streaming and streaming, with stop and echo', async () => {
    const r = await client.completions.create({ model: MODEL, prompt: 'Once upon a time', max_tokens: 8, ignore_eos: true } as OpenAI.CompletionCreateParamsNonStreaming);
    expect(r.object).toBe('text_completion');
    expect(r.usage).toMatchObject({ prompt_tokens: simTokenizer.encode('Once upon a time').length, completion_tokens: 8 });
    const echoed = await client.completions.create({ model: MODEL, prompt: 'Once upon a time', max_tokens: 4, echo: true });
    expect(echoed.choices[0]!.text.startsWith('Once upon a time')).toBe(true);
    const stream = await client.completions.create({ model: MODEL, prompt: 'Once upon a time', max_tokens: 8, stream: true, ignore_eos: true } as OpenAI.CompletionCreateParamsStreaming);
    let text = '';
    for await (const c of stream) text += c.choices[0]?.text ?? '';
    expect(text).toBe(r.choices[0]!.text);
    // A stop string taken from the known output cuts the text right before it.
    const words = r.choices[0]!.text.trim().split(' ');
    const stopWord = ` ${words[2]}`;
    const stopped = await client.completions.create({ model: MODEL, prompt: 'Once upon a time', max_tokens: 8, stop: [stopWord], ignore_eos: true } as OpenAI.CompletionCreateParamsNonStreaming);
    expect(stopped.choices[0]!.finish_reason).toBe('stop');
    expect(r.choices[0]!.text.startsWith(stopped.choices[0]!.text)).toBe(true);
    expect(stopped.choices[0]!.text).not.toContain(stopWord);
  });

  it('embeddings are deterministic, with the requested dimensions and usage', async () => {
    const a = await client.embeddings.create({ model: MODEL, input: ['hello world', 'hello there'], dimensions: 32 });
    const b = await client.embeddings.create({ model: MODEL, input: 'hello world', dimensions: 32 });
    expect(a.data).toHaveLength(2);
    expect(a.data[0]!.embedding).toHaveLength(32);
    expect(b.data[0]!.embedding).toEqual(a.data[0]!.embedding);
    expect(a.usage.prompt_tokens).toBe(4);
  });

  it('malformed requests get OpenAI-shaped 4xx errors, never a 5xx', async () => {
    const cases: [string, unknown, number][] = [
      ['/v1/chat/completions', {}, 400],
      ['/v1/chat/completions', { model: MODEL }, 400],
      ['/v1/chat/completions', { model: MODEL, messages: [] }, 400],
      ['/v1/chat/completions', { model: MODEL, messages: [{ role: 'wizard', content: 'x' }] }, 400],
      ['/v1/chat/completions', { model: MODEL, messages: [{ role: 'user', content: 'x' }], temperature: 'hot' }, 400],
      ['/v1/chat/completions', { model: MODEL, messages: [{ role: 'user', content: 'x' }], n: 3 }, 400],
      ['/v1/chat/completions', { model: MODEL, messages: [{ role: 'user', content: 'x' }], max_tokens: 10_000_000 }, 400],
      ['/v1/chat/completions', { model: 'nope', messages: [{ role: 'user', content: 'x' }] }, 404],
      ['/v1/completions', { model: MODEL, prompt: ['a', 'b'] }, 400],
      ['/v1/completions', { model: MODEL, prompt: [1, -5] }, 400],
      ['/v1/embeddings', { model: MODEL }, 400],
      ['/v1/chat/completions', 'not an object', 400],
      ['/v1/chat/completions', [1, 2], 400],
    ];
    for (const [path, body, status] of cases) {
      const res = await fetch(`${worker.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const json = (await res.json()) as { error: { message: string; type: string; param: unknown; code: unknown } };
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(status);
      expect(typeof json.error.message).toBe('string');
      expect(json.error.message.length).toBeGreaterThan(5);
      expect(typeof json.error.type).toBe('string');
      expect('param' in json.error && 'code' in json.error).toBe(true);
    }
    const bad = await fetch(`${worker.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":' });
    expect(bad.status).toBe(400);
    const big = await fetch(`${worker.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'x'.repeat(17 * 1024 * 1024) }] }) });
    expect(big.status).toBe(413);
    const nf = await fetch(`${worker.url}/v2/nothing`);
    expect(nf.status).toBe(404);
    const sdkErr = await client.chat.completions.create({ model: MODEL, messages: [] }).catch((e: unknown) => e);
    expect(sdkErr).toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('/v1/responses answers a clear 501', async () => {
    const res = await fetch(`${worker.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, input: 'hi' }) });
    expect(res.status).toBe(501);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/does not implement/);
  });

  it('exposes vLLM metric names with model_name and engine labels', async () => {
    await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'metrics please' }], max_tokens: 3 });
    const text = await (await fetch(`${worker.url}/metrics`)).text();
    for (const name of ['vllm:num_requests_running', 'vllm:num_requests_waiting', 'vllm:kv_cache_usage_perc', 'vllm:prefix_cache_queries_total', 'vllm:prefix_cache_hits_total', 'vllm:time_to_first_token_seconds_bucket', 'vllm:inter_token_latency_seconds_bucket', 'vllm:e2e_request_latency_seconds_bucket']) {
      expect(text, name).toMatch(new RegExp(`^${name}\\{[^}]*model_name="${MODEL}"[^}]*engine="0"`, 'm'));
    }
    expect(text).toMatch(new RegExp(`^vllm:cache_config_info\\{[^}]*block_size="16"[^}]*num_gpu_blocks="${worker.info.numGpuBlocks}"`, 'm'));
    expect(text).toMatch(/switchyard_sim_info\{[^}]*simulated="true"/);
    expect(metricValue(text, 'vllm:request_success_total')).toBeGreaterThan(0);
  });

  it('a client disconnect aborts the request inside the engine', async () => {
    const ac = new AbortController();
    const stream = await client.chat.completions.create(
      { model: MODEL, messages: [{ role: 'user', content: 'long answer please' }], max_tokens: 5000, ignore_eos: true, stream: true } as OpenAI.ChatCompletionCreateParamsStreaming,
      { signal: ac.signal },
    );
    let n = 0;
    let runningAtAbort = -1;
    // The SDK ends the iteration quietly when its signal aborts.
    for await (const _ of stream) {
      if (++n === 3) {
        runningAtAbort = worker.core.getStats().running;
        ac.abort();
        break;
      }
    }
    expect(runningAtAbort).toBe(1);
    await waitFor(() => worker.core.getStats().running === 0, { what: 'engine to drop the aborted request' });
    expect(worker.core.getStats().kvUsage).toBe(0);
  });
});
