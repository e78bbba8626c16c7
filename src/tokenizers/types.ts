/** A text tokenizer (what engines and the gateway's prompt tokenizer need). */
export interface Tokenizer {
  readonly name: string;
  readonly vocabSize: number;
  readonly eosTokenId: number;
  /**
   * Token ids of `text`. `addSpecialTokens` adds what the model's post-processor adds around a raw
   * prompt (e.g. Llama 3's `<|begin_of_text|>`): engines do so for completions prompts, not for
   * rendered chat templates (which write their own). The simulator's cl100k adds nothing.
   */
  encode(text: string, opts?: { addSpecialTokens?: boolean }): number[];
  decode(ids: readonly number[]): string;
  /**
   * `text` cut into consecutive pieces whose ids, concatenated, equal `encode(text)`'s, or absent
   * when the tokenizer cannot promise that. PromptTokenizer caches per piece, so a conversation's
   * later turns only tokenize their new text.
   */
  pieces?(text: string): string[];
}

/** Model URIs that name remote models: their tokenizers are never loaded (no downloads at run time). */
export const REMOTE_MODEL_URI = /^(s3|hf|gs|https?):\/\//;
