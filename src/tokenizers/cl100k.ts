/**
 * The simulator's tokenizer: OpenAI's cl100k_base BPE (shipped inside the gpt-tokenizer npm
 * package, so nothing is downloaded). Prompt and completion token counts are therefore real
 * BPE counts. Special-token text in user input (e.g. "<|endoftext|>") is encoded as plain
 * text, never as a control token, as a serving engine must.
 */
import { decode, encode } from 'gpt-tokenizer/encoding/cl100k_base';
import type { Tokenizer } from './types.js';


const NO_SPECIAL = { allowedSpecial: new Set<string>(), disallowedSpecial: new Set<string>() };

export const simTokenizer: Tokenizer = {
  name: 'cl100k_base',
  vocabSize: 100_277,
  eosTokenId: 100_257, // <|endoftext|>
  encode: (text) => encode(text, NO_SPECIAL),
  decode: (ids) => decode(ids as number[]),
};
