import { describe, expect, it } from 'vitest';
import { chatChunk, chatCompletion, chatUsageChunk, nowSeconds, usage } from './types.js';
import { completion, completionChunk, completionUsageChunk, embeddingResponse, modelCard, modelList } from './types-other.js';

const fixed = { id: 'chatcmpl-1', model: 'demo', created: 1_700_000_000 };

describe('builders', () => {
  it('usage() sums tokens and adds cached tokens only when given', () => {
    expect(usage(10, 5)).toEqual({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 });
    expect(usage(10, 5, 8)).toEqual({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, prompt_tokens_details: { cached_tokens: 8 } });
  });

  it('chatCompletion() has the exact wire shape', () => {
    expect(chatCompletion({ ...fixed, content: 'Paris.', finish_reason: 'stop', usage: usage(3, 2) })).toEqual({
      id: 'chatcmpl-1', object: 'chat.completion', created: 1_700_000_000, model: 'demo',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Paris.', refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    });
  });

  it('chatCompletion() with tool calls, defaults for id and created', () => {
    const c = chatCompletion({ model: 'demo', content: null, finish_reason: 'tool_calls', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] });
    expect(c.id).toMatch(/^chatcmpl-/);
    expect(Math.abs(c.created - nowSeconds())).toBeLessThanOrEqual(1);
    expect(c.choices[0]!.message.tool_calls).toHaveLength(1);
    expect('usage' in c).toBe(false);
    expect('system_fingerprint' in c).toBe(false);
  });

  it('chatChunk() defaults finish_reason and logprobs to null and passes usage: null through', () => {
    expect(chatChunk({ ...fixed, delta: { role: 'assistant', content: '' }, usage: null })).toEqual({
      id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'demo',
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }],
      usage: null,
    });
    expect('usage' in chatChunk({ ...fixed, delta: {} })).toBe(false);
    expect(chatUsageChunk({ ...fixed, usage: usage(1, 1) }).choices).toEqual([]);
  });

  it('completion builders', () => {
    expect(completion({ ...fixed, id: 'cmpl-1', text: 'x', finish_reason: 'length', system_fingerprint: 'fp' })).toEqual({
      id: 'cmpl-1', object: 'text_completion', created: 1_700_000_000, model: 'demo', system_fingerprint: 'fp',
      choices: [{ index: 0, text: 'x', logprobs: null, finish_reason: 'length' }],
    });
    expect(completionChunk({ ...fixed, text: 'y' }).choices[0]!.finish_reason).toBeNull();
    expect(completionUsageChunk({ ...fixed, usage: usage(1, 2) })).toMatchObject({ object: 'text_completion', choices: [], usage: { total_tokens: 3 } });
  });

  it('embeddings and models', () => {
    expect(embeddingResponse({ model: 'e', embeddings: [[0.5], 'AAAA'], prompt_tokens: 4 })).toEqual({
      object: 'list', model: 'e', usage: { prompt_tokens: 4, total_tokens: 4 },
      data: [{ object: 'embedding', index: 0, embedding: [0.5] }, { object: 'embedding', index: 1, embedding: 'AAAA' }],
    });
    const m = modelCard({ id: 'demo', created: 1, max_model_len: 4096, root: 'demo' });
    expect(m).toEqual({ id: 'demo', object: 'model', created: 1, owned_by: 'switchyard', root: 'demo', max_model_len: 4096 });
    expect(modelList([m])).toEqual({ object: 'list', data: [m] });
  });
});
