/** Test support: the committed model-tokenizer fixture, a PRNG, and random text that stresses tokenizers. */
import { fileURLToPath } from 'node:url';
import { Rng } from '../core/index.js';

/** A small byte-level BPE model (scripts/make-tokenizer-fixture.ts): Llama-3-style specials and chat template. */
export const FIXTURE = fileURLToPath(new URL('../../test/fixtures/tokenizers/tiny-llama3', import.meta.url));

/** A seeded uniform [0, 1) stream (core's Rng). */
export function rng(seed: number): () => number {
  const g = new Rng(seed);
  return () => g.next();
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
