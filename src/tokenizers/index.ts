/**
 * Tokenizers and chat templates shared by the simulated engine and the gateway: for exact
 * KV-cache-aware routing the gateway must see the same token ids the engine will prefill.
 *
 * The simulator's tokenizer (cl100k_base BPE) costs ~200 ms and ~20 MB to load, so it is only
 * reachable through `loadSimTokenizer()`: processes that never tokenize never pay for it. A real
 * model's tokenizer.json + chat template load from a local directory through `loadModelTokenizer()`
 * (never downloaded), which pulls in @huggingface/tokenizers only then.
 */
import type { ModelTokenizer } from './hf.js';
import type { Tokenizer } from './types.js';

export { ChatTemplate, CHATML_TEMPLATE, contentText, type ChatMessageLike, type ChatTemplateOptions } from './chat-template.js';
export { REMOTE_MODEL_URI, type Tokenizer } from './types.js';
export type { ModelTokenizer } from './hf.js';
export { PromptTokenizer, type PromptShape, type PromptTokenizerOptions } from './prompt.js';

/** The simulated engine's tokenizer (OpenAI's cl100k_base, shipped in the gpt-tokenizer package). */
export async function loadSimTokenizer(): Promise<Tokenizer> {
  return (await import('./cl100k.js')).simTokenizer;
}

/**
 * A real model's tokenizer and chat template from a local directory (or its tokenizer.json).
 * @throws SwitchyardError naming the path when it is remote, missing or malformed.
 */
export async function loadModelTokenizer(path: string): Promise<ModelTokenizer> {
  return (await import('./hf.js')).loadHfTokenizer(path);
}
