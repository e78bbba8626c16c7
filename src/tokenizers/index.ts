/**
 * Tokenizers and chat templates shared by the simulated engine and the gateway: for exact
 * KV-cache-aware routing the gateway must see the same token ids the engine will prefill.
 *
 * The simulator's tokenizer (cl100k_base BPE) costs ~200 ms and ~20 MB to load, so it is only
 * reachable through `loadSimTokenizer()`: processes that never tokenize never pay for it.
 */
import type { Tokenizer } from './types.js';

export { ChatTemplate, CHATML_TEMPLATE, contentText, type ChatMessageLike } from './chat-template.js';
export type { Tokenizer } from './types.js';
export { PromptTokenizer, type PromptShape, type PromptTokenizerOptions } from './prompt.js';

/** The simulated engine's tokenizer (OpenAI's cl100k_base, shipped in the gpt-tokenizer package). */
export async function loadSimTokenizer(): Promise<Tokenizer> {
  return (await import('./cl100k.js')).simTokenizer;
}
