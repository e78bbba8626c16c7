/** Test support: the committed model-tokenizer fixture, a PRNG, and random text that stresses tokenizers. */
import { fileURLToPath } from 'node:url';

/** A small byte-level BPE model (scripts/make-tokenizer-fixture.ts): Llama-3-style specials and chat template. */
export const FIXTURE = fileURLToPath(new URL('../../test/fixtures/tokenizers/tiny-llama3', import.meta.url));

/** A small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  'hello', ' world', ' the', ' routing', '\n', '\n\n', ' ', '   ', '\t', '\r\n', '<|eot_id|>', '<|begin_of_text|>', '<|start_header_id|>', '<|eot', '<', '|>',
  "'s", "'LL", ' don\'t', '123', '45678', '3.14', 'ünïcødé', 'e\u0301', '😀', '中文字符', '```js\nx = 1;\n```', 'KV-cache', ' Mixed CASE', '!!', '?', 'a'.repeat(150), ' ' + 'xyz'.repeat(60),
];

export function randomText(r: () => number, max = 14): string {
  let s = '';
  const n = Math.floor(r() * max);
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(r() * PIECES.length)]!;
  return s;
}
