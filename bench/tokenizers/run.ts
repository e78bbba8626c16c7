/**
 * Tokenizer speed on this machine (docs/adr/0017): @huggingface/tokenizers' encoder vs the fast
 * byte-level BPE path (src/tokenizers/bpe.ts) on the model fixture, cl100k for reference, and what
 * a multi-turn conversation costs PromptTokenizer per turn (cached pieces vs the whole prompt).
 * `npm run bench:tokenizers`. Fresh instances for "cold" rows (empty pre-token caches).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as hf from '@huggingface/tokenizers';
import { loadModelTokenizer, loadSimTokenizer, PromptTokenizer } from '../../src/tokenizers/index.js';
import { machineLine } from '../common/machine.js';

/** The library's tokenizer, typed here (its .d.ts re-exports do not resolve under NodeNext). */
const { Tokenizer: LibTokenizer } = hf as unknown as { Tokenizer: new (json: object, config: object) => { encode(text: string, opts?: { add_special_tokens?: boolean }): { ids: number[] } } };
const FIXTURE = fileURLToPath(new URL('../../test/fixtures/tokenizers/tiny-llama3', import.meta.url));
const text = ['../../docs/benchmarks.md', '../../README.md'].map((p) => readFileSync(fileURLToPath(new URL(p, import.meta.url)), 'utf8')).join('\n');
const json = JSON.parse(readFileSync(`${FIXTURE}/tokenizer.json`, 'utf8')) as object;
const config = JSON.parse(readFileSync(`${FIXTURE}/tokenizer_config.json`, 'utf8')) as object;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Median over `runs` of ms for fn(); `fresh` builds the state each run outside the timing. */
async function time<S>(fresh: () => S | Promise<S>, fn: (s: S) => unknown, runs = 7): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = await fresh();
    const t0 = performance.now();
    fn(s);
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

const rows: string[][] = [];
const model = await loadModelTokenizer(FIXTURE);
const tokens = model.tokenizer.encode(text).length;
const row = (name: string, ms: number, n = tokens): void => {
  rows.push([name, ms.toFixed(2), String(Math.round((n / ms) * 1000)), ((text.length / ms) * 1e-3).toFixed(2)]);
};

row('@huggingface/tokenizers encode, cold', await time(() => new LibTokenizer(json, config), (t) => t.encode(text, { add_special_tokens: false })));
row('@huggingface/tokenizers encode, warm', await time(() => { const t = new LibTokenizer(json, config); t.encode(text); return t; }, (t) => t.encode(text, { add_special_tokens: false })));
row('fast byte-level BPE (bpe.ts), cold', await time(async () => (await loadModelTokenizer(FIXTURE)).tokenizer, (t) => t.encode(text)));
row('fast byte-level BPE (bpe.ts), warm', await time(async () => model.tokenizer, (t) => t.encode(text)));
const sim = await loadSimTokenizer();
row('cl100k (gpt-tokenizer, the simulator), warm', await time(() => sim, (t) => t.encode(text)), sim.encode(text).length);

// A 20-turn conversation: per-turn cost of the last turn (render + tokenize).
const paragraphs = text.split('\n\n').filter((p) => p.length > 200);
const conv = [{ role: 'system', content: paragraphs[0]! }];
for (let i = 1; i <= 40; i++) conv.push({ role: i % 2 ? 'user' : 'assistant', content: paragraphs[i % paragraphs.length]! });
const template = model.template!;
const cached = new PromptTokenizer(model.tokenizer, { template });
for (let n = 2; n < conv.length; n += 2) cached.tokens('chat', { messages: conv.slice(0, n) });
const last = conv.slice(0, conv.length - 1);
const lastTokens = cached.tokens('chat', { messages: last })!.length;
const renderMs = await time(() => template, (t) => t.render(last), 15);
const turnMs = await time(() => cached, (p) => p.tokens('chat', { messages: [...last.slice(0, -1), { role: 'user', content: `${last.at(-1)!.content} (again)` }] }), 15);
const wholeMs = await time(() => new LibTokenizer(json, config), (t) => t.encode(template.render(last), { add_special_tokens: false }), 5);

console.log(`# Tokenizers (${machineLine()})\n`);
console.log(`Corpus: ${text.length} chars, ${tokens} tokens with the fixture tokenizer (vocab ${model.tokenizer.vocabSize}).\n`);
console.log('| encoder | ms | tokens/s | M chars/s |\n|---|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
console.log(`\nA 40-message conversation (${lastTokens} prompt tokens): chat template render ${renderMs.toFixed(2)} ms; PromptTokenizer turn (earlier messages cached, one new message) ${turnMs.toFixed(2)} ms; the whole prompt through @huggingface/tokenizers ${wholeMs.toFixed(1)} ms.`);
