export { ChatTemplate, CHATML_TEMPLATE, contentText, loadModelTokenizer, loadSimTokenizer, type ChatMessageLike, type Tokenizer } from '../../../tokenizers/index.js';
export { generateSequence, seedFromString, type GeneratedSequence } from './generator.js';
export { embedTokens, embeddingToBase64, DEFAULT_EMBEDDING_DIM } from './embeddings.js';
