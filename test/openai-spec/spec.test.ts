/**
 * Our OpenAI wire objects against the official OpenAPI spec (../shared/data/openai/openapi.yaml):
 * every builder's output, the error shape, and sample requests (which must also agree with our
 * zod request schemas, apart from the documented deliberate differences).
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SwitchyardError } from '../../src/core/index.js';
import {
  chatChunk,
  chatCompletion,
  chatUsageChunk,
  ChatCompletionRequest,
  completion,
  completionChunk,
  CompletionRequest,
  embeddingResponse,
  invalidParam,
  modelCard,
  modelList,
  parseRequest,
  toOpenAIError,
  usage,
} from '../../src/openai/index.js';
import { DEFAULT_SPEC_PATH, loadOpenAISpec, readSpecDocument, rewriteNullable } from './validator.js';

const spec = loadOpenAISpec();
const ids = { id: 'chatcmpl-abc', model: 'demo-llama-8b', created: 1_760_000_000 };
const logprob = { token: 'Hi', logprob: -0.1, bytes: [72, 105], top_logprobs: [{ token: 'Hi', logprob: -0.1, bytes: [72, 105] }] };

describe('the spec file', () => {
  it('is found at ../shared relative to the repo root and is OpenAPI 3.1', () => {
    expect(existsSync(DEFAULT_SPEC_PATH)).toBe(true);
    expect(String(spec.doc['openapi'])).toMatch(/^3\.1/);
  });

  it('YAML (parsed with the yaml package) and its JSON twin hold the same document', () => {
    const fromYaml = readSpecDocument(DEFAULT_SPEC_PATH, false);
    const fromJson = readSpecDocument(DEFAULT_SPEC_PATH, true);
    expect(fromJson).toEqual(fromYaml);
  }, 60_000);

  it('rewrites OpenAPI 3.0 nullable into JSON Schema anyOf-null', () => {
    expect(rewriteNullable({ type: 'string', enum: ['a'], nullable: true, properties: { nullable: { type: 'string' } } })).toEqual({
      anyOf: [{ type: 'string', enum: ['a'], properties: { nullable: { type: 'string' } } }, { type: 'null' }],
    });
  });
});

describe('responses built by src/openai validate against the spec', () => {
  const cases: Array<[string, string, unknown]> = [
    ['chat completion', 'CreateChatCompletionResponse', chatCompletion({ ...ids, content: 'Paris.', finish_reason: 'stop', usage: usage(12, 3) })],
    ['chat completion with cached tokens and fingerprint', 'CreateChatCompletionResponse', chatCompletion({ ...ids, content: 'x', finish_reason: 'length', usage: usage(12, 3, 8), system_fingerprint: 'fp_1' })],
    ['chat completion with tool calls', 'CreateChatCompletionResponse', chatCompletion({
      ...ids, content: null, finish_reason: 'tool_calls', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
    })],
    ['chat completion with logprobs', 'CreateChatCompletionResponse', chatCompletion({ ...ids, content: 'Hi', finish_reason: 'stop', logprobs: { content: [logprob], refusal: null } })],
    ['first chat chunk (role)', 'CreateChatCompletionStreamResponse', chatChunk({ ...ids, delta: { role: 'assistant', content: '' } })],
    ['content chunk with usage: null', 'CreateChatCompletionStreamResponse', chatChunk({ ...ids, delta: { content: 'Par' }, usage: null })],
    ['final chunk', 'CreateChatCompletionStreamResponse', chatChunk({ ...ids, delta: {}, finish_reason: 'stop' })],
    ['tool call chunk', 'CreateChatCompletionStreamResponse', chatChunk({ ...ids, delta: { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '' } }] } })],
    ['chunk with continuous usage', 'CreateChatCompletionStreamResponse', chatChunk({ ...ids, delta: { content: 'x' }, usage: usage(5, 1) })],
    ['usage-only last chunk', 'CreateChatCompletionStreamResponse', chatUsageChunk({ ...ids, usage: usage(12, 3, 0) })],
    ['completion', 'CreateCompletionResponse', completion({ ...ids, id: 'cmpl-1', text: 'Hello', finish_reason: 'stop', usage: usage(2, 1) })],
    ['completion with logprobs', 'CreateCompletionResponse', completion({
      ...ids, text: 'Hi', finish_reason: 'length', logprobs: { tokens: ['Hi'], token_logprobs: [-0.1], top_logprobs: [{ Hi: -0.1 }], text_offset: [0] },
    })],
    ['final completion chunk', 'CreateCompletionResponse', completionChunk({ ...ids, text: '', finish_reason: 'length' })],
    ['embeddings', 'CreateEmbeddingResponse', embeddingResponse({ model: 'e5', embeddings: [[0.1, -0.2], [0.3, 0.4]], prompt_tokens: 7 })],
    ['model', 'Model', modelCard({ id: 'demo-llama-8b', created: 1, max_model_len: 8192, root: 'demo-llama-8b', parent: null })],
    ['model list', 'ListModelsResponse', modelList([modelCard({ id: 'a' }), modelCard({ id: 'b', owned_by: 'vllm' })])],
  ];
  it.each(cases)('%s', (_name, schema, value) => {
    expect(spec.validate(schema, value)).toEqual([]);
  });

  it('wire errors match ErrorResponse', () => {
    const errors: unknown[] = [
      new SwitchyardError('model_not_found', 'no such model', { param: 'model' }),
      new SwitchyardError('rate_limit_exceeded', 'slow down'),
      invalidParam("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter'),
      invalidParam('x', null, null),
      new Error('boom'),
      'thrown string',
    ];
    for (const e of errors) expect(spec.validate('ErrorResponse', toOpenAIError(e).body)).toEqual([]);
    try {
      parseRequest(ChatCompletionRequest, { model: 'm', messages: [{ role: 'user', content: 1 }] });
    } catch (e) {
      expect(spec.validate('ErrorResponse', toOpenAIError(e).body)).toEqual([]);
    }
  });
});

describe('the validator catches what real servers get wrong (negative controls)', () => {
  const good = chatChunk({ ...ids, delta: { content: 'x' } });
  it.each<[string, unknown]>([
    ['system_fingerprint: null (sent by vLLM; the spec types it as string)', { ...good, system_fingerprint: null }],
    ['missing object', { ...good, object: undefined }],
    ['wrong object constant', { ...good, object: 'chat.completion' }],
    ['created in milliseconds as a decimal', { ...good, created: 1.5 }],
    ['unknown finish_reason', { ...good, choices: [{ ...good.choices[0], finish_reason: 'eos' }] }],
  ])('%s', (_name, value) => {
    expect(spec.validate('CreateChatCompletionStreamResponse', JSON.parse(JSON.stringify(value)))).not.toEqual([]);
  });

  it('non-final completion chunks (finish_reason: null) are not modelled by the spec', () => {
    // OpenAI and vLLM send finish_reason: null mid-stream; the spec's CreateCompletionResponse
    // does not allow it, so only final completion chunks can be checked against it.
    expect(spec.validate('CreateCompletionResponse', completionChunk({ ...ids, text: 'x' }))).not.toEqual([]);
  });

  it('throws on unknown schema names', () => {
    expect(() => spec.validate('NoSuchSchema', {})).toThrow(/NoSuchSchema/);
    expect(spec.has('CreateChatCompletionRequest')).toBe(true);
  });
});

describe('sample requests: the spec and our zod schemas agree', () => {
  const user = [{ role: 'user', content: 'Hello' }];
  const chat: Array<[string, unknown, boolean]> = [
    ['minimal', { model: 'm', messages: user }, true],
    ['streaming with usage', { model: 'm', messages: user, stream: true, stream_options: { include_usage: true } }, true],
    ['full conversation with tools', {
      model: 'm',
      messages: [
        { role: 'developer', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Weather?' }, { type: 'image_url', image_url: { url: 'https://x/y.png' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'w', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      ],
      tools: [{ type: 'function', function: { name: 'w', description: 'weather', parameters: { type: 'object', properties: {} }, strict: false } }],
      tool_choice: { type: 'function', function: { name: 'w' } },
      parallel_tool_calls: true,
      response_format: { type: 'json_schema', json_schema: { name: 'out', schema: { type: 'object' }, strict: true } },
      temperature: 0.2, top_p: 0.9, max_completion_tokens: 100, seed: 7, stop: ['\n\n'], logprobs: true, top_logprobs: 3,
      presence_penalty: 0.5, frequency_penalty: -0.5, logit_bias: { '100': 5 }, user: 'u', metadata: { team: 'a' }, store: false, n: 2,
    }, true],
    ['temperature above 2', { model: 'm', messages: user, temperature: 2.5 }, false],
    ['empty messages', { model: 'm', messages: [] }, false],
    ['missing model', { messages: user }, false],
    ['bad role', { model: 'm', messages: [{ role: 'robot', content: 'x' }] }, false],
  ];
  it.each(chat)('chat: %s', (_name, body, ok) => {
    expect(spec.validate('CreateChatCompletionRequest', body).length === 0).toBe(ok);
    expect(accepts(ChatCompletionRequest, body)).toBe(ok);
  });

  const completions: Array<[string, unknown, boolean]> = [
    ['text prompt', { model: 'm', prompt: 'Once upon a time', max_tokens: 32, temperature: 0 }, true],
    ['token ids with echo and logprobs', { model: 'm', prompt: [1, 2, 3], echo: true, logprobs: 2 }, true],
    ['batch', { model: 'm', prompt: ['a', 'b'], stream: true, stream_options: { include_usage: true } }, true],
    ['missing prompt', { model: 'm' }, false],
    ['logprobs above 5', { model: 'm', prompt: 'x', logprobs: 6 }, false],
  ];
  it.each(completions)('completions: %s', (_name, body, ok) => {
    expect(spec.validate('CreateCompletionRequest', body).length === 0).toBe(ok);
    expect(accepts(CompletionRequest, body)).toBe(ok);
  });

  it('deliberate difference: up to 16 stop sequences (the spec allows 4, vLLM more)', () => {
    const body = { model: 'm', messages: user, stop: ['a', 'b', 'c', 'd', 'e'], ignore_eos: true };
    expect(spec.validate('CreateChatCompletionRequest', body)).not.toEqual([]);
    expect(accepts(ChatCompletionRequest, body)).toBe(true);
  });
});

function accepts(schema: Parameters<typeof parseRequest>[0], body: unknown): boolean {
  try {
    parseRequest(schema, body);
    return true;
  } catch {
    return false;
  }
}
