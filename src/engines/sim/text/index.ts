export { simTokenizer, type Tokenizer } from './tokenizer.js';
export { ChatTemplate, CHATML_TEMPLATE, contentText, type ChatMessageLike } from './chat-template.js';
export { generateSequence, seedFromString, type GeneratedSequence } from './generator.js';
export { embedTokens, embeddingToBase64, DEFAULT_EMBEDDING_DIM } from './embeddings.js';
