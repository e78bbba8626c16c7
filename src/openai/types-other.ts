/**
 * Response types and builders for /v1/completions, /v1/embeddings and /v1/models
 * (re-exported by types.ts; see there for the conventions).
 */
import { openAIId } from '../core/index.js';
import type { BaseInit, CompletionFinishReason, Usage } from './types.js';
import { nowSeconds } from './types.js';

/** Legacy completions logprobs (parallel arrays, one entry per generated token). */
export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: number[];
  top_logprobs: Array<Record<string, number>>;
  text_offset: number[];
}

export interface CompletionChoice {
  index: number;
  text: string;
  logprobs: CompletionLogprobs | null;
  finish_reason: CompletionFinishReason;
}

export interface Completion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: CompletionChoice[];
  usage?: Usage;
  system_fingerprint?: string;
}

/**
 * A streamed completion chunk. Same shape as Completion, but `finish_reason` is null until
 * the last content chunk (what OpenAI and vLLM send; the OpenAPI spec does not model the null).
 */
export interface CompletionChunk extends Omit<Completion, 'choices' | 'usage'> {
  choices: Array<Omit<CompletionChoice, 'finish_reason'> & { finish_reason: CompletionFinishReason | null }>;
  usage?: Usage | null;
}

export interface CompletionInit extends BaseInit {
  text: string;
  finish_reason: CompletionFinishReason;
  logprobs?: CompletionLogprobs | null;
  usage?: Usage;
}

function base(init: BaseInit): Omit<Completion, 'choices'> {
  const out: Omit<Completion, 'choices'> = {
    id: init.id ?? openAIId('cmpl'),
    object: 'text_completion',
    created: init.created ?? nowSeconds(),
    model: init.model,
  };
  if (init.system_fingerprint !== undefined) out.system_fingerprint = init.system_fingerprint;
  return out;
}

/** A non-streaming completion with one choice. */
export function completion(init: CompletionInit): Completion {
  const out: Completion = { ...base(init), choices: [{ index: 0, text: init.text, logprobs: init.logprobs ?? null, finish_reason: init.finish_reason }] };
  if (init.usage) out.usage = init.usage;
  return out;
}

export interface CompletionChunkInit extends BaseInit {
  text: string;
  finish_reason?: CompletionFinishReason | null;
  logprobs?: CompletionLogprobs | null;
  usage?: Usage | null;
}

/** One streamed completion chunk with one choice. Reuse `id` and `created` across the stream. */
export function completionChunk(init: CompletionChunkInit): CompletionChunk {
  const out: CompletionChunk = {
    ...base(init),
    choices: [{ index: 0, text: init.text, logprobs: init.logprobs ?? null, finish_reason: init.finish_reason ?? null }],
  };
  if (init.usage !== undefined) out.usage = init.usage;
  return out;
}

/** The final usage-only chunk sent with `stream_options.include_usage`: `choices: []`. */
export function completionUsageChunk(init: BaseInit & { usage: Usage }): CompletionChunk {
  return { ...base(init), choices: [], usage: init.usage };
}

export interface Embedding {
  object: 'embedding';
  index: number;
  /** Floats, or a base64 string of little-endian float32s with `encoding_format: 'base64'`. */
  embedding: number[] | string;
}

export interface CreateEmbeddingResponse {
  object: 'list';
  data: Embedding[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

/** An embeddings response; `embeddings[i]` becomes `data[i]`. */
export function embeddingResponse(init: { model: string; embeddings: ReadonlyArray<number[] | string>; prompt_tokens: number }): CreateEmbeddingResponse {
  return {
    object: 'list',
    data: init.embeddings.map((embedding, index) => ({ object: 'embedding', index, embedding })),
    model: init.model,
    usage: { prompt_tokens: init.prompt_tokens, total_tokens: init.prompt_tokens },
  };
}

/** A model card (`GET /v1/models` item). vLLM adds `root`, `parent` and `max_model_len`. */
export interface Model {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  root?: string;
  parent?: string | null;
  max_model_len?: number;
}

export interface ModelList {
  object: 'list';
  data: Model[];
}

export interface ModelInit {
  id: string;
  created?: number;
  /** Defaults to 'switchyard'. */
  owned_by?: string;
  root?: string;
  parent?: string | null;
  max_model_len?: number;
}

export function modelCard(init: ModelInit): Model {
  const out: Model = { id: init.id, object: 'model', created: init.created ?? nowSeconds(), owned_by: init.owned_by ?? 'switchyard' };
  if (init.root !== undefined) out.root = init.root;
  if (init.parent !== undefined) out.parent = init.parent;
  if (init.max_model_len !== undefined) out.max_model_len = init.max_model_len;
  return out;
}

export function modelList(models: readonly Model[]): ModelList {
  return { object: 'list', data: [...models] };
}
