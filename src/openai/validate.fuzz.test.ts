/**
 * Fuzz parseRequest with seeded random inputs: random JSON, known fields set to values of the
 * wrong type, huge strings and deep nesting. Whatever comes in, parseRequest either returns or
 * throws an `invalid_request` SwitchyardError with a short message naming its param.
 */
import { describe, expect, it } from 'vitest';
import { Rng, SwitchyardError } from '../core/index.js';
import { toOpenAIError } from './errors.js';
import { ChatCompletionRequest, CompletionRequest, EmbeddingRequest, ResponsesRequest } from './schemas.js';
import { parseRequest } from './validate.js';

type Schema = Parameters<typeof parseRequest>[0];
const SCHEMAS: readonly Schema[] = [ChatCompletionRequest, CompletionRequest, EmbeddingRequest, ResponsesRequest];
const CHAT_FIELDS = [
  'model', 'messages', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'n', 'stream', 'stream_options', 'stop',
  'seed', 'user', 'presence_penalty', 'frequency_penalty', 'logit_bias', 'logprobs', 'top_logprobs', 'tools', 'tool_choice',
  'response_format', 'parallel_tool_calls', 'metadata', 'store', 'service_tier', 'ignore_eos', 'min_tokens', 'top_k',
  'repetition_penalty', 'skip_special_tokens', 'include_stop_str_in_output', 'prompt', 'input', 'echo', 'suffix', 'best_of',
  'encoding_format', 'dimensions', 'max_output_tokens', '__proto__', 'constructor',
];

function deep(depth: number, leaf: unknown, asArray: boolean): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = asArray ? [v] : { a: v };
  return v;
}

/** A random JSON-ish value. */
function randomValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(depth > 3 ? 8 : 12)) {
    case 0: return null;
    case 1: return rng.int(2) === 0;
    case 2: return rng.int(2000) - 1000;
    case 3: return (rng.next() - 0.5) * 10 ** rng.int(20);
    case 4: return ['', 'user', 'assistant', 'text', 'function', 'none', 'auto', 'float', 'x'][rng.int(9)];
    case 5: return String.fromCharCode(...Array.from({ length: rng.int(20) }, () => rng.int(0x3000)));
    case 6: return rng.int(50) === 0 ? 'x'.repeat(1_000_000) : 'abc';
    case 7: return [Number.MAX_SAFE_INTEGER + 2, -0, 1e308, Number.MIN_VALUE][rng.int(4)];
    case 8: return Array.from({ length: rng.int(5) }, () => randomValue(rng, depth + 1));
    case 9: {
      const o: Record<string, unknown> = {};
      for (let i = rng.int(5); i > 0; i--) o[CHAT_FIELDS[rng.int(CHAT_FIELDS.length)]!] = randomValue(rng, depth + 1);
      return o;
    }
    case 10: return deep(2_000 + rng.int(3_000), rng.int(2) ? 'leaf' : {}, rng.int(2) === 0);
    default: return { role: ['user', 'tool', 'assistant', 'x'][rng.int(4)], content: randomValue(rng, depth + 1) };
  }
}

/** A mostly-valid request with a few fields replaced by random values. */
function mutatedRequest(rng: Rng): unknown {
  const base: Record<string, unknown> = {
    model: 'm',
    messages: [{ role: 'user', content: 'hi' }],
    prompt: 'hi',
    input: 'hi',
    stream: true,
  };
  for (let i = 1 + rng.int(3); i > 0; i--) {
    const field = CHAT_FIELDS[rng.int(CHAT_FIELDS.length)]!;
    if (rng.int(8) === 0) delete base[field];
    else base[field] = randomValue(rng);
  }
  if (rng.int(4) === 0) base['messages'] = [randomValue(rng), randomValue(rng)];
  return base;
}

function check(schema: Schema, body: unknown): void {
  try {
    parseRequest(schema, body);
  } catch (e) {
    if (!(e instanceof SwitchyardError)) throw new Error(`non-Switchyard error: ${String(e)}`);
    expect(e.code).toBe('invalid_request');
    const w = toOpenAIError(e);
    expect(w.status).toBe(400);
    expect(w.body.error.message.length).toBeGreaterThan(0);
    expect(w.body.error.message.length).toBeLessThan(400);
    if (w.body.error.param !== null) expect(w.body.error.message).toContain(`'${w.body.error.param}'`);
  }
}

describe('parseRequest fuzz', () => {
  it('random JSON values as bodies (2,000 cases)', () => {
    const rng = new Rng(1);
    for (let i = 0; i < 2_000; i++) check(SCHEMAS[i % SCHEMAS.length]!, randomValue(rng));
  });

  it('mutated valid requests (4,000 cases)', () => {
    const rng = new Rng(2);
    for (let i = 0; i < 4_000; i++) check(SCHEMAS[i % SCHEMAS.length]!, mutatedRequest(rng));
  });

  it('deep nesting and huge strings in every position', () => {
    const nasty = [deep(100_000, 1, true), deep(100_000, 1, false), 'x'.repeat(5_000_000), Array.from({ length: 20_000 }, () => 'x')];
    for (const v of nasty) {
      for (const field of CHAT_FIELDS) {
        for (const schema of SCHEMAS) check(schema, { model: 'm', messages: [{ role: 'user', content: 'x' }], prompt: 'p', input: 'i', [field]: v });
      }
      check(ChatCompletionRequest, { model: 'm', messages: [{ role: 'user', content: v }] });
      check(ChatCompletionRequest, { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: v }] }] });
      check(ChatCompletionRequest, { model: 'm', messages: [v] });
    }
  });

  it('objects with throwing getters become invalid_request, not crashes', () => {
    const evil = Object.defineProperty({ model: 'm' }, 'messages', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    check(ChatCompletionRequest, evil);
  });
});
