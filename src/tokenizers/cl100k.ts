/**
 * The simulator's tokenizer: OpenAI's cl100k_base BPE (shipped inside the gpt-tokenizer npm
 * package, so nothing is downloaded). Prompt and completion token counts are therefore real
 * BPE counts. Special-token text in user input (e.g. "<|endoftext|>") is encoded as plain
 * text, never as a control token, as a serving engine must.
 */
import { decode, encode } from 'gpt-tokenizer/encoding/cl100k_base';
import type { Tokenizer } from './types.js';


const NO_SPECIAL = { allowedSpecial: new Set<string>(), disallowedSpecial: new Set<string>() };

/**
 * Runs of more than this many characters of one kind (letters, whitespace, other ASCII, or
 * non-ASCII) are encoded in pieces of this length. BPE over one pre-token is quadratic in its
 * length (40,000 'a's take 1.2 s, 40,000 CJK characters 12 s), which would let one hostile prompt
 * freeze the gateway and the engine; pieces make encoding linear. Both tokenize through here, so
 * they still agree on every id. The cost: text with such runs (a 300-character word, CJK text
 * with no ASCII in 256 characters) gets slightly different ids than real cl100k_base would give.
 */
export const MAX_BPE_RUN = 256;

export const simTokenizer: Tokenizer = {
  name: 'cl100k_base',
  vocabSize: 100_277,
  eosTokenId: 100_257, // <|endoftext|>
  encode: encodeBounded,
  decode: (ids) => decode(ids as number[]),
};

function encodeBounded(text: string): number[] {
  if (text.length <= MAX_BPE_RUN) return encode(text, NO_SPECIAL);
  const cuts = runCuts(text);
  if (cuts.length === 0) return encode(text, NO_SPECIAL);
  const out: number[] = [];
  let from = 0;
  for (const cut of [...cuts, text.length]) {
    for (const id of encode(text.slice(from, cut), NO_SPECIAL)) out.push(id);
    from = cut;
  }
  return out;
}

const enum Kind {
  Space,
  Letter,
  Digit,
  Other,
  NonAscii,
}

function kindOf(c: number): Kind {
  if (c < 128) {
    if (c === 32 || (c >= 9 && c <= 13)) return Kind.Space;
    const l = c | 32;
    if (l >= 97 && l <= 122) return Kind.Letter;
    if (c >= 48 && c <= 57) return Kind.Digit;
    return Kind.Other;
  }
  if (c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000) return Kind.Space;
  return Kind.NonAscii;
}

/** Offsets where runs longer than MAX_BPE_RUN are cut (never inside a surrogate pair; digit runs are split by the pre-tokenizer anyway). */
function runCuts(text: string): number[] {
  const cuts: number[] = [];
  let kind: Kind | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const k = kindOf(c);
    if (k !== kind || k === Kind.Digit) {
      kind = k;
      start = i;
    } else if (i - start >= MAX_BPE_RUN && !(c >= 0xdc00 && c <= 0xdfff)) {
      cuts.push(i);
      start = i;
    }
  }
  return cuts;
}
