/** A text tokenizer (what engines and the gateway's prompt tokenizer need). */
export interface Tokenizer {
  readonly name: string;
  readonly vocabSize: number;
  readonly eosTokenId: number;
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}
