import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as hf from '@huggingface/tokenizers';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURE, randomText, rng } from './fixtures.test-support.js';
import { loadModelTokenizer } from './index.js';

const tokenizerJson = JSON.parse(readFileSync(join(FIXTURE, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
const configJson = JSON.parse(readFileSync(join(FIXTURE, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
const m = await loadModelTokenizer(FIXTURE);
const tok = m.tokenizer;

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A model directory in a temp dir with the given files (objects are written as JSON). */
function modelDir(files: Record<string, string | object>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sy-tok-'));
  dirs.push(dir);
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), typeof body === 'string' ? body : JSON.stringify(body));
  return dir;
}

describe('loadModelTokenizer (a local tokenizer.json + tokenizer_config.json)', () => {
  it('loads the fixture: byte-level BPE on the fast path, special tokens, the chat template', () => {
    expect(m.encoder).toBe('fast');
    expect(tok.name).toBe('tiny-llama3');
    expect(tok.vocabSize).toBe(Object.keys((tokenizerJson.model as { vocab: object }).vocab).length + 5);
    expect(tok.decode([tok.eosTokenId])).toBe('<|eot_id|>');
    expect(m.template).toBeDefined();
  });

  it('accepts the tokenizer.json file itself and file:// paths', async () => {
    for (const p of [join(FIXTURE, 'tokenizer.json'), `file://${FIXTURE}`]) {
      const other = await loadModelTokenizer(p);
      expect(other.dir).toBe(FIXTURE);
      expect(other.tokenizer.encode('hello world')).toEqual(tok.encode('hello world'));
    }
  });

  it('fails with an error naming the path: missing, no tokenizer.json, malformed JSON, remote', async () => {
    await expect(loadModelTokenizer('/nonexistent/model')).rejects.toThrow(/no tokenizer at '\/nonexistent\/model'/);
    const empty = modelDir({ 'tokenizer_config.json': configJson });
    await expect(loadModelTokenizer(empty)).rejects.toThrow(new RegExp(`${join(empty, 'tokenizer.json')}`));
    const broken = modelDir({ 'tokenizer.json': '{"model": ' });
    await expect(loadModelTokenizer(broken)).rejects.toThrow(new RegExp(`${join(broken, 'tokenizer.json')} is not valid JSON`));
    const badConfig = modelDir({ 'tokenizer.json': tokenizerJson, 'tokenizer_config.json': '[1,' });
    await expect(loadModelTokenizer(badConfig)).rejects.toThrow(/tokenizer_config\.json is not valid JSON/);
    const notTok = modelDir({ 'tokenizer.json': { hello: 1 } });
    await expect(loadModelTokenizer(notTok)).rejects.toThrow(/not a tokenizer the loader understands/);
    const badTemplate = modelDir({ 'tokenizer.json': tokenizerJson, 'chat_template.jinja': '{% for %}' });
    await expect(loadModelTokenizer(badTemplate)).rejects.toThrow(/chat template in .*chat_template\.jinja does not parse/);
    for (const remote of ['s3://bucket/llama', 'hf://meta-llama/Llama-3.1-8B', 'https://huggingface.co/x/y']) {
      await expect(loadModelTokenizer(remote)).rejects.toThrow(/never downloaded/);
    }
  });

  it('works without tokenizer_config.json (no template, no bos/eos) and prefers chat_template.jinja', async () => {
    const bare = await loadModelTokenizer(modelDir({ 'tokenizer.json': tokenizerJson }));
    expect(bare.template).toBeUndefined();
    expect(bare.tokenizer.eosTokenId).toBe(-1);
    expect(bare.tokenizer.encode('hello <|eot_id|>')).toEqual(tok.encode('hello <|eot_id|>'));
    const jinja = await loadModelTokenizer(modelDir({ 'tokenizer.json': tokenizerJson, 'tokenizer_config.json': configJson, 'chat_template.jinja': '{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{{ eos_token }}{% endfor %}' }));
    expect(jinja.template!.render([{ role: 'user', content: 'hi' }])).toBe('<|begin_of_text|>[user]hi<|eot_id|>');
    const named = await loadModelTokenizer(modelDir({ 'tokenizer.json': tokenizerJson, 'tokenizer_config.json': { ...configJson, chat_template: [{ name: 'tool_use', template: 'T' }, { name: 'default', template: 'D{{ messages | length }}' }] } }));
    expect(named.template!.render([{ role: 'user', content: 'x' }])).toBe('D1');
  });
});

describe('the model chat template', () => {
  it('renders with the model\'s bos token, trims content, and adds the generation prompt', () => {
    const text = m.template!.render([
      { role: 'system', content: ' Be brief. ' },
      { role: 'user', content: [{ type: 'text', text: 'Hi' }, { type: 'text', text: 'there' }] },
    ]);
    expect(text).toBe('<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi\nthere<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n');
    const ids = tok.encode(text);
    expect(ids[0]).toBe(tok.encode('<|begin_of_text|>')[0]);
    expect(ids.filter((id) => id === tok.eosTokenId)).toHaveLength(2); // special-token text becomes the token
    expect(tok.decode(ids)).toBe(text);
  });

  it('hands tool calls to the template with their arguments parsed, as vLLM does', async () => {
    const t = await loadModelTokenizer(modelDir({ 'tokenizer.json': tokenizerJson, 'chat_template.jinja': '{% for m in messages %}{% if m.tool_calls %}{% for c in m.tool_calls %}{{ c.function.name }}({{ c.function.arguments.city }}){% endfor %}{% endif %}{% if m.tool_call_id %}{{ m.tool_call_id }}{% endif %}{% endfor %}' }));
    const text = t.template!.render([
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Lyon"}' } }] },
      { role: 'tool', content: 'sunny', tool_call_id: 'c1' } as never,
    ], { addGenerationPrompt: false });
    expect(text).toBe('weather(Lyon)c1');
  });
});

describe('encoding', () => {
  const lib = new hf.Tokenizer(tokenizerJson, configJson);

  it('equals @huggingface/tokenizers on random text and on the repository docs (differential)', () => {
    const r = rng(11);
    for (let i = 0; i < 1500; i++) {
      const text = randomText(r);
      expect(tok.encode(text), JSON.stringify(text)).toEqual(lib.encode(text, { add_special_tokens: false }).ids);
    }
    const docs = readFileSync(fileURLToPath(new URL('../../docs/architecture.md', import.meta.url)), 'utf8');
    expect(tok.encode(docs)).toEqual(lib.encode(docs, { add_special_tokens: false }).ids);
  });

  it('round-trips text through decode', () => {
    const r = rng(5);
    for (let i = 0; i < 300; i++) {
      const text = randomText(r);
      expect(tok.decode(tok.encode(text))).toBe(text);
    }
    expect(tok.decode([])).toBe('');
  });

  it('addSpecialTokens adds what the post-processor adds (a BOS); add_bos_token overrides it', async () => {
    const bos = tok.encode('<|begin_of_text|>')[0]!;
    expect(tok.encode('hi', { addSpecialTokens: true })).toEqual([bos, ...tok.encode('hi')]);
    expect(tok.encode('hi', { addSpecialTokens: true })).toEqual(lib.encode('hi').ids);
    const noBos = await loadModelTokenizer(modelDir({ 'tokenizer.json': tokenizerJson, 'tokenizer_config.json': { ...configJson, add_bos_token: false } }));
    expect(noBos.tokenizer.encode('hi', { addSpecialTokens: true })).toEqual(tok.encode('hi'));
    const withEos = await loadModelTokenizer(modelDir({ 'tokenizer.json': tokenizerJson, 'tokenizer_config.json': { ...configJson, add_eos_token: true } }));
    expect(withEos.tokenizer.encode('hi', { addSpecialTokens: true })).toEqual([bos, ...tok.encode('hi'), tok.eosTokenId]);
  });

  it('pieces() cut after added tokens, and their ids concatenate to the whole text\'s', () => {
    const r = rng(3);
    for (let i = 0; i < 500; i++) {
      const text = randomText(r, 20);
      const pieces = tok.pieces!(text);
      expect(pieces.join('')).toBe(text);
      expect(pieces.flatMap((p) => tok.encode(p)), JSON.stringify(text)).toEqual(tok.encode(text));
    }
    expect(tok.pieces!('a<|eot_id|>b<|eot_id|>')).toEqual(['a<|eot_id|>', 'b<|eot_id|>']);
  });

  it('other byte-level shapes (NFC normalizer, GPT-2 ByteLevel regex) take the fast path and still equal the library', async () => {
    const variants = [
      { ...tokenizerJson, normalizer: { type: 'NFC' } },
      { ...tokenizerJson, pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true } },
      { ...tokenizerJson, model: { ...(tokenizerJson.model as object), ignore_merges: false } },
    ];
    for (const v of variants) {
      const t = await loadModelTokenizer(modelDir({ 'tokenizer.json': v, 'tokenizer_config.json': configJson }));
      expect(t.encoder).toBe('fast');
      const l = new hf.Tokenizer(v, configJson);
      const r = rng(17);
      for (let i = 0; i < 400; i++) {
        const text = randomText(r);
        expect(t.tokenizer.encode(text), JSON.stringify(text)).toEqual(l.encode(text, { add_special_tokens: false }).ids);
      }
    }
  });

  it('other tokenizers use the library\'s encoder, and say why', async () => {
    const lower = { ...tokenizerJson, normalizer: { type: 'Lowercase' } };
    const t = await loadModelTokenizer(modelDir({ 'tokenizer.json': lower, 'tokenizer_config.json': configJson }));
    expect(t.encoder).toBe('library: normalizer Lowercase');
    expect('pieces' in t.tokenizer && t.tokenizer.pieces !== undefined).toBe(false);
    expect(t.tokenizer.encode('Hello World')).toEqual(new hf.Tokenizer(lower, configJson).encode('Hello World', { add_special_tokens: false }).ids);
  });
});
