/** PromptTokenizer with a real model's tokenizer and template: cached pieces equal whole-prompt tokenization. */
import { describe, expect, it } from 'vitest';
import { FIXTURE, randomText, rng } from './fixtures.test-support.js';
import { ChatTemplate, loadModelTokenizer, PromptTokenizer } from './index.js';

const m = await loadModelTokenizer(FIXTURE);
const tok = m.tokenizer;
const template = m.template!;
const whole = (messages: { role: string; content: string }[], tools?: unknown): number[] => tok.encode(template.render(messages, { addGenerationPrompt: true, tools }));

describe('PromptTokenizer with a model tokenizer (pieces cut after added tokens)', () => {
  it('equals tokenizing the whole rendered prompt on 600 random conversations, one instance, cache on', () => {
    const pt = new PromptTokenizer(tok, { template });
    const r = rng(23);
    const roles = ['system', 'user', 'assistant', 'tool'];
    for (let c = 0; c < 600; c++) {
      const messages = Array.from({ length: 1 + Math.floor(r() * 6) }, () => ({ role: roles[Math.floor(r() * roles.length)]!, content: randomText(r) }));
      expect(Array.from(pt.tokens('chat', { messages })!), JSON.stringify(messages)).toEqual(whole(messages));
    }
    expect(pt.hits).toBeGreaterThan(pt.misses);
  });

  it('a later turn tokenizes only its new text', () => {
    const pt = new PromptTokenizer(tok, { template });
    const turn1 = [{ role: 'system', content: 'You answer questions about trains.' }, { role: 'user', content: 'My train was cancelled.' }];
    expect(Array.from(pt.tokens('chat', { messages: turn1 })!)).toEqual(whole(turn1));
    const misses = pt.misses;
    const turn2 = [...turn1, { role: 'assistant', content: 'Sorry to hear that.' }, { role: 'user', content: 'Can I get a refund?' }];
    expect(Array.from(pt.tokens('chat', { messages: turn2 })!)).toEqual(whole(turn2));
    // Pieces are cut after each added token: the two new messages' contents plus their new role headers.
    expect(pt.misses - misses).toBeLessThanOrEqual(4);
  });

  it('maxUncachedChars bounds the new text one request tokenizes; cached history does not count', () => {
    const pt = new PromptTokenizer(tok, { template, maxUncachedChars: 300 }); // the first prompt: ~250 characters
    const history = [{ role: 'system', content: 'x'.repeat(150) }];
    expect(pt.tokens('chat', { messages: history })).toBeDefined();
    const grown = [...history, { role: 'user', content: 'y'.repeat(150) }, { role: 'assistant', content: 'z'.repeat(40) }];
    expect(pt.tokens('chat', { messages: grown.slice(0, 2) })).toBeDefined(); // ~180 new characters
    expect(pt.tokens('chat', { messages: [...grown, { role: 'user', content: 'w'.repeat(400) }] })).toBeUndefined();
    expect(pt.tokens('completions', { prompt: 'v'.repeat(400) })).toBeUndefined();
  });

  it('completions get the BOS the engine adds; token-id prompts pass through', () => {
    const pt = new PromptTokenizer(tok, { template });
    expect(Array.from(pt.tokens('completions', { prompt: 'hello world' })!)).toEqual(tok.encode('hello world', { addSpecialTokens: true }));
    expect(pt.tokens('completions', { prompt: [1, 2, 3] })).toEqual([1, 2, 3]);
  });

  it('tools reach the template; a template that raises gives no ids (approximate routing), as the engine would reject it', () => {
    const withTools = new ChatTemplate("{{ bos_token }}{% if tools %}{{ tools | tojson }}<|eot_id|>{% endif %}{% for m in messages %}{{ m.content }}<|eot_id|>{% endfor %}", { specialTokens: { bos_token: '<|begin_of_text|>' }, messages: 'openai' });
    const pt = new PromptTokenizer(tok, { template: withTools });
    const tools = [{ type: 'function', function: { name: 'weather' } }];
    const messages = [{ role: 'user', content: 'weather?' }];
    expect(Array.from(pt.tokens('chat', { messages, tools })!)).toEqual(tok.encode(withTools.render(messages, { tools })));
    const strict = new ChatTemplate("{% if messages[0].role != 'system' %}{{ raise_exception('system first') }}{% endif %}ok", { messages: 'openai' });
    expect(new PromptTokenizer(tok, { template: strict }).tokens('chat', { messages })).toBeUndefined();
  });

  it('without a chat template (template: null) chat prompts are not tokenized; completions still are', () => {
    const pt = new PromptTokenizer(tok, { template: null });
    expect(pt.tokens('chat', { messages: [{ role: 'user', content: 'hi' }] })).toBeUndefined();
    expect(pt.tokens('completions', { prompt: 'hi' })).toBeDefined();
  });

  it('without pieces() (a library-path tokenizer) the whole prompt is one cache entry: exact repeats hit', () => {
    const noPieces = { name: tok.name, vocabSize: tok.vocabSize, eosTokenId: tok.eosTokenId, encode: tok.encode.bind(tok), decode: tok.decode.bind(tok) };
    const pt = new PromptTokenizer(noPieces, { template });
    const messages = [{ role: 'user', content: 'same question' }];
    const a = Array.from(pt.tokens('chat', { messages })!);
    const b = Array.from(pt.tokens('chat', { messages })!);
    expect(a).toEqual(whole(messages));
    expect(b).toEqual(a);
    expect([pt.misses, pt.hits]).toEqual([1, 1]);
  });
});
