import { describe, expect, it } from 'vitest';
import { ChatTemplate } from './chat-template.js';
import { encode } from 'gpt-tokenizer/encoding/cl100k_base';
import { MAX_BPE_RUN } from './cl100k.js';
import { loadSimTokenizer, PromptTokenizer } from './index.js';
import { rng } from './fixtures.test-support.js';

const simTokenizer = await loadSimTokenizer();

describe('simTokenizer (cl100k_base)', () => {
  it('gives real BPE counts and round-trips text', () => {
    const ids = simTokenizer.encode('Hello world');
    expect(ids).toEqual([9906, 1917]);
    expect(simTokenizer.decode(ids)).toBe('Hello world');
  });
  it('encodes special-token text in user input as plain text, never as a control token', () => {
    const ids = simTokenizer.encode('a <|endoftext|> b');
    expect(ids).not.toContain(simTokenizer.eosTokenId);
    expect(simTokenizer.decode(ids)).toBe('a <|endoftext|> b');
  });
});

describe('long runs (MAX_BPE_RUN)', () => {
  it('encode long single-kind runs in linear time, round-trip them, and leave ordinary text as real cl100k', () => {
    // Quadratic BPE made each of these take 1–12 s; in pieces they take milliseconds.
    for (const text of ['a'.repeat(40_000), ' '.repeat(40_000), '!'.repeat(40_000), '中'.repeat(40_000), '😀'.repeat(20_000)]) {
      const ids = simTokenizer.encode(text);
      expect(simTokenizer.decode(ids)).toBe(text);
      // Cut in pieces of MAX_BPE_RUN: the ids are the pieces' ids, in order.
      const piece = simTokenizer.encode(text.slice(0, MAX_BPE_RUN));
      expect(ids.slice(0, piece.length)).toEqual(piece);
    }
    const prose = 'The quick brown fox jumps over the lazy dog. '.repeat(100);
    expect(simTokenizer.encode(prose)).toEqual(encode(prose, { allowedSpecial: new Set(), disallowedSpecial: new Set() }));
  });
  it('never cuts a surrogate pair', () => {
    const text = `a${'😀'.repeat(300)}`;
    expect(simTokenizer.decode(simTokenizer.encode(text))).toBe(text);
  });
  it('PromptTokenizer gives up (undefined) on prompts longer than maxPromptChars', () => {
    const pt = new PromptTokenizer(simTokenizer, { maxPromptChars: 1000 });
    expect(pt.tokens('chat', { messages: [{ role: 'user', content: 'x'.repeat(2000) }] })).toBeUndefined();
    expect(pt.tokens('completions', { prompt: 'y'.repeat(2000) })).toBeUndefined();
    expect(pt.tokens('chat', { messages: [{ role: 'user', content: 'hi' }] })?.length).toBeGreaterThan(0);
  });
});

describe('ChatTemplate', () => {
  it('renders ChatML with a generation prompt, flattening content parts', () => {
    const t = new ChatTemplate();
    const text = t.render([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'Hi ' }, { type: 'text', text: 'there' }] },
    ]);
    expect(text).toBe('<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n');
  });
  it('includes tool definitions so they count as prompt tokens', () => {
    const t = new ChatTemplate();
    const withTools = t.render([{ role: 'user', content: 'x' }], { tools: [{ type: 'function', function: { name: 'get_weather' } }] });
    expect(withTools).toContain('get_weather');
  });
  it('rejects a template that does not parse, as a config error', () => {
    expect(() => new ChatTemplate('{% for %}')).toThrow(/chat template does not parse/);
  });
});

const PIECES = ['hello', ' world', '\n', '\n\n', ' ', '  ', '<|im_end|>', '<', '>', '|', '123', '4567', "'s", 'ünïcødé', '😀', '\t', 'a.b', '.', '?!', '\r\n', 'Mixed CASE', ' <|im_start|>user\n', '```js\nx=1\n```'];

function randomText(r: () => number): string {
  let s = '';
  const n = Math.floor(r() * 12);
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(r() * PIECES.length)]!;
  return s;
}

describe('PromptTokenizer', () => {
  it('per-message chat tokenization equals tokenizing the whole rendered prompt (600 random conversations)', () => {
    const template = new ChatTemplate();
    const pt = new PromptTokenizer(simTokenizer, { template });
    const r = rng(7);
    const roles = ['system', 'user', 'assistant', 'tool'];
    for (let c = 0; c < 600; c++) {
      const messages = Array.from({ length: 1 + Math.floor(r() * 6) }, () => ({ role: roles[Math.floor(r() * roles.length)]!, content: randomText(r) }));
      const want = simTokenizer.encode(template.render(messages, { addGenerationPrompt: true }));
      expect(Array.from(pt.tokens('chat', { messages })!), JSON.stringify(messages)).toEqual(want);
    }
    expect(pt.hits).toBeGreaterThan(0);
  });

  it('a later turn reuses the earlier messages from the cache', () => {
    const pt = new PromptTokenizer(simTokenizer);
    const turn1 = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi there' }];
    pt.tokens('chat', { messages: turn1 });
    const misses = pt.misses;
    const turn2 = [...turn1, { role: 'assistant', content: 'Hello!' }, { role: 'user', content: 'And then?' }];
    const ids = pt.tokens('chat', { messages: turn2 })!;
    expect(pt.misses - misses).toBe(2); // only the two new messages were tokenized
    expect(Array.from(ids)).toEqual(simTokenizer.encode(new ChatTemplate().render(turn2)));
  });

  it('renders whole prompts with tools or a custom template, as the engine does', () => {
    const tools = [{ type: 'function', function: { name: 'get_weather' } }];
    const messages = [{ role: 'user', content: 'weather?' }];
    const pt = new PromptTokenizer(simTokenizer);
    expect(Array.from(pt.tokens('chat', { messages, tools })!)).toEqual(simTokenizer.encode(new ChatTemplate().render(messages, { tools })));
    const custom = new ChatTemplate("{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}");
    const pc = new PromptTokenizer(simTokenizer, { template: custom });
    expect(Array.from(pc.tokens('chat', { messages })!)).toEqual(simTokenizer.encode('[user] weather?\n'));
  });

  it('completions: a string, a one-string array or token ids; batches are not tokenized', () => {
    const pt = new PromptTokenizer(simTokenizer);
    expect(pt.tokens('completions', { prompt: 'Hello world' })).toEqual([9906, 1917]);
    expect(pt.tokens('completions', { prompt: ['Hello world'] })).toEqual([9906, 1917]);
    expect(pt.tokens('completions', { prompt: [1, 2, 3] })).toEqual([1, 2, 3]);
    expect(pt.tokens('completions', { prompt: [[4, 5]] })).toEqual([4, 5]);
    expect(pt.tokens('completions', { prompt: ['a', 'b'] })).toBeUndefined();
    expect(pt.tokens('chat', {})).toBeUndefined();
  });

  it('keeps the segment cache within its token budget', () => {
    const pt = new PromptTokenizer(simTokenizer, { cacheTokens: 200 });
    for (let i = 0; i < 100; i++) pt.tokens('chat', { messages: [{ role: 'user', content: `message number ${i} with some words` }] });
    expect((pt as unknown as { cachedTokens: number }).cachedTokens).toBeLessThanOrEqual(200);
  });
});
