/**
 * Response types of the OpenAI API (as served by vLLM-compatible servers) and builders that
 * produce objects matching the OpenAPI spec exactly: required fields present, `object`
 * constants, `created` in seconds, `logprobs: null`, `refusal: null`, `finish_reason: null` in
 * non-final chunks. `system_fingerprint` is omitted unless given: the spec types it as a
 * string, so `null` would not validate.
 *
 * This file: usage and chat completions. types-other.ts: completions, embeddings, models.
 */
import { openAIId } from '../core/index.js';

export type ChatFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';
export type CompletionFinishReason = 'stop' | 'length' | 'content_filter';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens: number };
}

/** Token usage; `cached` (prompt tokens served from the prefix cache) adds prompt_tokens_details. */
export function usage(prompt: number, completion: number, cached?: number): Usage {
  const u: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  if (cached !== undefined) u.prompt_tokens_details = { cached_tokens: cached };
  return u;
}

export interface TopLogprob {
  token: string;
  logprob: number;
  bytes: number[] | null;
}
export interface ChatTokenLogprob extends TopLogprob {
  top_logprobs: TopLogprob[];
}
export interface ChatLogprobs {
  content: ChatTokenLogprob[] | null;
  refusal: ChatTokenLogprob[] | null;
}

export interface ChatToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChatCompletionMessage {
  role: 'assistant';
  content: string | null;
  refusal: string | null;
  tool_calls?: ChatToolCall[];
}

export interface ChatCompletionChoice {
  index: number;
  message: ChatCompletionMessage;
  logprobs: ChatLogprobs | null;
  finish_reason: ChatFinishReason;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: ChatCompletionChoice[];
  usage?: Usage;
  system_fingerprint?: string;
}

/** Fields shared by every builder. */
export interface BaseInit {
  /** Defaults to a fresh `chatcmpl-…` / `cmpl-…` id. Chunks of one stream must share it. */
  id?: string;
  model: string;
  /** Unix seconds; defaults to now. Chunks of one stream must share it. */
  created?: number;
  system_fingerprint?: string;
}

export interface ChatCompletionInit extends BaseInit {
  content: string | null;
  finish_reason: ChatFinishReason;
  tool_calls?: ChatToolCall[];
  logprobs?: ChatLogprobs | null;
  usage?: Usage;
}

/** Current Unix time in whole seconds. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** A non-streaming chat completion with one choice. */
export function chatCompletion(init: ChatCompletionInit): ChatCompletion {
  const message: ChatCompletionMessage = { role: 'assistant', content: init.content, refusal: null };
  if (init.tool_calls && init.tool_calls.length > 0) message.tool_calls = init.tool_calls;
  const out: ChatCompletion = {
    id: init.id ?? openAIId('chatcmpl'),
    object: 'chat.completion',
    created: init.created ?? nowSeconds(),
    model: init.model,
    choices: [{ index: 0, message, logprobs: init.logprobs ?? null, finish_reason: init.finish_reason }],
  };
  if (init.usage) out.usage = init.usage;
  if (init.system_fingerprint !== undefined) out.system_fingerprint = init.system_fingerprint;
  return out;
}

export interface ChatToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface ChatDelta {
  role?: 'assistant';
  content?: string | null;
  refusal?: string | null;
  tool_calls?: ChatToolCallDelta[];
}

export interface ChatChunkChoice {
  index: number;
  delta: ChatDelta;
  logprobs: ChatLogprobs | null;
  finish_reason: ChatFinishReason | null;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: ChatChunkChoice[];
  /** With `stream_options.include_usage`: null on every chunk but the last (usage-only) one. */
  usage?: Usage | null;
  system_fingerprint?: string;
}

export interface ChatChunkInit extends BaseInit {
  delta: ChatDelta;
  /** null (default) in all but the final content chunk. */
  finish_reason?: ChatFinishReason | null;
  logprobs?: ChatLogprobs | null;
  /** Pass `null` on every chunk when the client asked for `include_usage`. */
  usage?: Usage | null;
}

/** One streamed chat chunk with one choice. Reuse `id` and `created` across the stream. */
export function chatChunk(init: ChatChunkInit): ChatCompletionChunk {
  const out: ChatCompletionChunk = {
    id: init.id ?? openAIId('chatcmpl'),
    object: 'chat.completion.chunk',
    created: init.created ?? nowSeconds(),
    model: init.model,
    choices: [{ index: 0, delta: init.delta, logprobs: init.logprobs ?? null, finish_reason: init.finish_reason ?? null }],
  };
  if (init.usage !== undefined) out.usage = init.usage;
  if (init.system_fingerprint !== undefined) out.system_fingerprint = init.system_fingerprint;
  return out;
}

/** The final usage-only chunk sent with `stream_options.include_usage`: `choices: []`. */
export function chatUsageChunk(init: BaseInit & { usage: Usage }): ChatCompletionChunk {
  const out: ChatCompletionChunk = {
    id: init.id ?? openAIId('chatcmpl'),
    object: 'chat.completion.chunk',
    created: init.created ?? nowSeconds(),
    model: init.model,
    choices: [],
    usage: init.usage,
  };
  if (init.system_fingerprint !== undefined) out.system_fingerprint = init.system_fingerprint;
  return out;
}
