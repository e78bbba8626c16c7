import { describe, expect, it } from 'vitest';
import { ChatCompletionRequest, parseRequest } from '../openai/index.js';
import { withIncludeUsage } from './inbound.js';
import { chatRequestCertainlyValid, DEFERRED_FIELDS, DEFERRED_MESSAGE_FIELDS } from './precheck.js';

const base = () => ({
  model: 'm',
  messages: [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'Hello' },
  ],
});

/** Values every field is tried with: the edges of each rule and every JSON type. */
const VALUES: unknown[] = [
  null, true, false, 0, -0, 1, 2, -1, -2, -2.5, 0.5, 1.5, 2.0000001, 3, 16, 17, 2 ** 53, 2 ** 53 - 1, 1e308, Infinity, -Infinity, NaN,
  '', 'x', 'auto', 'none', [], ['a'], ['a', 1], Array.from({ length: 16 }, () => 's'), Array.from({ length: 17 }, () => 's'), [1, 2],
  {}, { include_usage: true }, { include_usage: null }, { include_usage: 'yes' }, { continuous_usage_stats: 1 }, { include_obfuscation: false, extra: 1 },
];

const FIELDS = [...Object.keys(ChatCompletionRequest.shape), 'unknown_extra', 'metadata_x'];

const MESSAGE_VARIANTS: unknown[] = [
  { role: 'user', content: 'hi' },
  { role: 'user', content: '' },
  { role: 'assistant', content: 'ok', name: 'bot' },
  { role: 'assistant', content: 'ok', name: null },
  { role: 'assistant', content: 'ok', name: 3 },
  { role: 'assistant', content: null, tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{}' } }] },
  { role: 'assistant', content: null },
  { role: 'tool', content: 'r', tool_call_id: 'a' },
  { role: 'tool', content: 'r' },
  { role: 'developer', content: 'd' },
  { role: 'function', content: 'f', name: 'f' },
  { role: 'robot', content: 'x' },
  { role: 'user', content: [{ type: 'text', text: 'hi' }] },
  { role: 'user', content: 'x', extra_field: { anything: 1 } },
  { role: 'user', content: 'x', refusal: null },
  { role: 'user' },
  { content: 'x' },
  'not an object',
  null,
  ['array'],
];

/** A small deterministic PRNG (mulberry32): integers in [0, n). */
function rng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * n | 0;
  };
}

function zodResult(body: unknown): { ok: true; value: Record<string, unknown> } | { ok: false } {
  try {
    return { ok: true, value: parseRequest(ChatCompletionRequest, body) };
  } catch {
    return { ok: false };
  }
}

function expectAgreement(body: Record<string, unknown>): boolean {
  const fast = chatRequestCertainlyValid(body);
  const z = zodResult(body);
  if (fast) {
    expect(z.ok, `pre-check accepted what zod rejects: ${JSON.stringify(body)}`).toBe(true);
    if (z.ok) {
      for (const k of ['model', 'stream', 'stream_options', 'user', 'messages']) expect(z.value[k], k).toEqual(body[k]);
    }
  }
  return fast;
}

describe('chatRequestCertainlyValid', () => {
  it('accepts the common request shapes (so the hot path skips zod)', () => {
    expect(chatRequestCertainlyValid(base())).toBe(true);
    expect(chatRequestCertainlyValid({ ...base(), max_tokens: 64, temperature: 0.7 })).toBe(true);
    expect(chatRequestCertainlyValid({ ...base(), max_tokens: 64, temperature: 0.7, stream: true })).toBe(true);
    expect(chatRequestCertainlyValid({ ...base(), stream: true, stream_options: { include_usage: true } })).toBe(true);
    expect(chatRequestCertainlyValid({ ...base(), top_p: 1, n: 1, stop: ['\n'], seed: 7, user: 'u', presence_penalty: 0, frequency_penalty: -2, max_completion_tokens: 9, vendor_extra: { x: 1 } })).toBe(true);
  });

  it('defers to zod for every field of the schema it does not check, and for unusual messages', () => {
    expect([...DEFERRED_FIELDS]).toEqual(expect.arrayContaining(['tools', 'tool_choice', 'logit_bias', 'response_format', 'top_logprobs', 'logprobs']));
    expect([...DEFERRED_MESSAGE_FIELDS].sort()).toEqual(['function_call', 'refusal', 'tool_call_id', 'tool_calls']);
    for (const k of DEFERRED_FIELDS) expect(chatRequestCertainlyValid({ ...base(), [k]: null }), k).toBe(false);
    expect(chatRequestCertainlyValid({ ...base(), stream_options: { include_usage: true } })).toBe(false); // needs stream: true
    expect(chatRequestCertainlyValid({ ...base(), messages: [] })).toBe(false);
    expect(chatRequestCertainlyValid({ ...base(), model: '' })).toBe(false);
    expect(chatRequestCertainlyValid([base()])).toBe(false);
  });

  it('never accepts a body zod rejects, and agrees with zod on the values the gateway reads (generated bodies)', () => {
    const r = rng(7);
    let accepted = 0;
    let total = 0;
    // Every field with every value, one at a time.
    for (const f of FIELDS) {
      for (const v of VALUES) {
        total++;
        if (expectAgreement({ ...base(), stream: true, [f]: v })) accepted++;
        if (expectAgreement({ ...base(), [f]: v })) accepted++;
      }
    }
    // Every message variant, alone and after a valid one.
    for (const m of MESSAGE_VARIANTS) {
      expectAgreement({ ...base(), messages: [m] });
      expectAgreement({ ...base(), messages: [{ role: 'user', content: 'a' }, m] });
    }
    // Random combinations.
    for (let i = 0; i < 4000; i++) {
      const body: Record<string, unknown> = r(10) === 0 ? {} : base();
      const n = r(6);
      for (let k = 0; k < n; k++) body[FIELDS[r(FIELDS.length)]!] = VALUES[r(VALUES.length)];
      if (r(3) === 0) body.messages = Array.from({ length: 1 + r(3) }, () => MESSAGE_VARIANTS[r(MESSAGE_VARIANTS.length)]);
      if (r(4) === 0) body.stream = true;
      total++;
      if (expectAgreement(body)) accepted++;
    }
    expect(accepted).toBeGreaterThan(total / 10); // the generator does reach the fast path
  });

  it('handles JSON-only values (-0, 1e999, __proto__ keys) the way zod does', () => {
    for (const text of ['{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":1e999}', '{"model":"m","messages":[{"role":"user","content":"x"}],"seed":-0}', '{"model":"m","messages":[{"role":"user","content":"x"}],"__proto__":{"stream":true}}']) {
      expectAgreement(JSON.parse(text) as Record<string, unknown>);
    }
  });
});

describe('withIncludeUsage', () => {
  it('adds stream_options as the last member, keeping every other byte', () => {
    for (const text of ['{"model":"m","stream":true}', '{ "model" : "m" , "stream" : true }\n', '{"model":"m","stream":true,"x":{"y":"}"}}  \r\n\t']) {
      const out = withIncludeUsage(Buffer.from(text)).toString();
      const want = { ...(JSON.parse(text) as object), stream_options: { include_usage: true } };
      expect(JSON.parse(out)).toEqual(want);
      expect(Object.keys(JSON.parse(out) as object)).toEqual(Object.keys(want));
      expect(out.replace(',"stream_options":{"include_usage":true}', '')).toBe(text);
    }
  });
});
