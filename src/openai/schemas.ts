/**
 * Request schemas for the OpenAI endpoints we serve, with their inferred TS types.
 *
 * All objects are loose: unknown fields are accepted and passed through untouched (OpenAI and
 * vLLM clients send extras), but every known field must have the right type. Validate a body
 * with `parseRequest(Schema, body)` (validate.ts), which words errors the way OpenAI does.
 *
 * Deliberately not checked here (the engine rejects them with a clear message): `n > 1`,
 * batched prompts, and semantic rules that need the model (context length, tool support).
 */
import { z } from 'zod';
import {
  bool,
  checkStreamOptions,
  customIssue,
  intField,
  jsonObject,
  metadata,
  modelField,
  nonEmptyStr,
  positiveInt,
  samplingFields,
  str,
  temperature,
  tokenId,
  topP,
} from './fields.js';

// ---------------------------------------------------------------------------------------------
// Chat messages

export const MESSAGE_ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'] as const;
export type MessageRole = (typeof MESSAGE_ROLES)[number];

/** One part of an array `content`. Only `text` parts count as prompt text. */
export const ContentPart = z.discriminatedUnion(
  'type',
  [
    z.looseObject({ type: z.literal('text'), text: str }),
    z.looseObject({ type: z.literal('image_url'), image_url: z.looseObject({ url: str }, { error: 'an object' }) }),
    z.looseObject({ type: z.literal('input_audio'), input_audio: z.looseObject({ data: str, format: str }, { error: 'an object' }) }),
    z.looseObject({ type: z.literal('file'), file: z.looseObject({}, { error: 'an object' }) }),
    z.looseObject({ type: z.literal('refusal'), refusal: str }),
  ],
  { error: 'an object' },
);
export type ContentPart = z.infer<typeof ContentPart>;

export const MessageContent = z.union([str, z.array(ContentPart, { error: 'an array' })], {
  error: 'one of a string or array of content parts',
});
export type MessageContent = z.infer<typeof MessageContent>;

export const ToolCall = z.looseObject(
  {
    id: str,
    type: z.literal('function'),
    function: z.looseObject({ name: str, arguments: str }, { error: 'an object' }),
  },
  { error: 'an object' },
);
export type ToolCall = z.infer<typeof ToolCall>;

export const ChatMessage = z
  .looseObject(
    {
      role: z.enum(MESSAGE_ROLES),
      content: MessageContent.nullish(),
      name: str.nullish(),
      tool_calls: z.array(ToolCall, { error: 'an array of tool calls' }).nullish(),
      tool_call_id: str.nullish(),
      function_call: z.looseObject({ name: str, arguments: str }, { error: 'an object' }).nullish(),
      refusal: str.nullish(),
    },
    { error: 'a message object' },
  )
  .superRefine((m, ctx) => {
    if (m.content == null) {
      const hasCalls = (m.tool_calls != null && m.tool_calls.length > 0) || m.function_call != null || m.refusal != null;
      if (m.role !== 'assistant' || !hasCalls) {
        const hint = m.role === 'assistant' ? " ('content' may be null only when the assistant message has 'tool_calls')" : '';
        customIssue(ctx, ['content'], `Invalid type for '{param}': expected one of a string or array of content parts, but got null instead${hint}.`, 'invalid_type');
      }
    }
    if (m.role === 'tool' && m.tool_call_id == null) {
      customIssue(ctx, ['tool_call_id'], "Invalid type for '{param}': expected a string (required for messages with role 'tool'), but got null instead.", 'invalid_type');
    }
  });
export type ChatMessage = z.infer<typeof ChatMessage>;

// ---------------------------------------------------------------------------------------------
// Tools and structured output

export const Tool = z.looseObject(
  {
    type: z.literal('function'),
    function: z.looseObject(
      { name: nonEmptyStr, description: str.nullish(), parameters: jsonObject.nullish(), strict: bool.nullish() },
      { error: 'an object' },
    ),
  },
  { error: 'a tool object' },
);
export type Tool = z.infer<typeof Tool>;

export const ToolChoice = z.union(
  [
    z.enum(['none', 'auto', 'required']),
    z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: str }, { error: 'an object' }) }),
  ],
  { error: "one of 'none', 'auto', 'required' or an object naming a function" },
);
export type ToolChoice = z.infer<typeof ToolChoice>;

export const ResponseFormat = z.discriminatedUnion(
  'type',
  [
    z.looseObject({ type: z.literal('text') }),
    z.looseObject({ type: z.literal('json_object') }),
    z.looseObject({
      type: z.literal('json_schema'),
      json_schema: z.looseObject({ name: nonEmptyStr, description: str.nullish(), schema: jsonObject.nullish(), strict: bool.nullish() }, { error: 'an object' }),
    }),
  ],
  { error: 'an object' },
);
export type ResponseFormat = z.infer<typeof ResponseFormat>;

// ---------------------------------------------------------------------------------------------
// Endpoints

/** POST /v1/chat/completions */
export const ChatCompletionRequest = z
  .looseObject({
    ...samplingFields,
    messages: z.array(ChatMessage, { error: 'an array of message objects' }).min(1),
    max_tokens: positiveInt.nullish(),
    max_completion_tokens: positiveInt.nullish(),
    logprobs: bool.nullish(),
    top_logprobs: intField('an integer between 0 and 20', { min: 0, max: 20 }).nullish(),
    tools: z.array(Tool, { error: 'an array of tool objects' }).nullish(),
    tool_choice: ToolChoice.nullish(),
    parallel_tool_calls: bool.nullish(),
    response_format: ResponseFormat.nullish(),
    metadata: metadata.nullish(),
    store: bool.nullish(),
    service_tier: str.nullish(),
  })
  .superRefine((r, ctx) => {
    checkStreamOptions(r, ctx);
    if (r.top_logprobs != null && r.logprobs !== true) {
      customIssue(ctx, ['top_logprobs'], "Invalid value for '{param}': 'logprobs' must be set to true when 'top_logprobs' is used.", 'invalid_value');
    }
    const choice = r.tool_choice;
    if (choice != null && choice !== 'none' && choice !== 'auto' && (r.tools == null || r.tools.length === 0)) {
      customIssue(ctx, ['tool_choice'], "Invalid value for '{param}': 'tool_choice' is only allowed when 'tools' are specified.", 'invalid_value');
    }
  });
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

/** A prompt: text, a batch of texts, token ids, or a batch of token-id arrays. */
export const Prompt = z.union(
  [
    str,
    z.array(str).min(1),
    z.array(tokenId).min(1),
    z.array(z.array(tokenId).min(1)).min(1),
  ],
  { error: 'one of a string, an array of strings, an array of token ids, or an array of token-id arrays' },
);
export type Prompt = z.infer<typeof Prompt>;

/** Default `max_tokens` of /v1/completions (as in OpenAI and vLLM). */
export const COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

/** POST /v1/completions (legacy). `max_tokens` defaults to 16. */
export const CompletionRequest = z
  .looseObject({
    ...samplingFields,
    prompt: Prompt,
    max_tokens: positiveInt.nullish().transform((v) => v ?? COMPLETIONS_DEFAULT_MAX_TOKENS),
    echo: bool.nullish(),
    logprobs: intField('an integer between 0 and 5', { min: 0, max: 5 }).nullish(),
    suffix: str.nullish(),
    best_of: intField('an integer >= 1', { min: 1 }).nullish(),
  })
  .superRefine(checkStreamOptions);
export type CompletionRequest = z.infer<typeof CompletionRequest>;

/**
 * Upper bound of `dimensions`: far above any embedding model's width (OpenAI's largest is 3072,
 * open models reach 4096–8192), low enough that no request can make an engine allocate an
 * absurd vector (`dimensions: 9007199254740991` used to reach the engine).
 */
export const MAX_EMBEDDING_DIMENSIONS = 65_536;

/** POST /v1/embeddings */
export const EmbeddingRequest = z.looseObject({
  model: modelField,
  input: z.union(
    [
      nonEmptyStr,
      z.array(nonEmptyStr).min(1),
      z.array(tokenId).min(1),
      z.array(z.array(tokenId).min(1)).min(1),
    ],
    { error: 'one of a string, an array of strings, an array of token ids, or an array of token-id arrays' },
  ),
  encoding_format: z.enum(['float', 'base64']).nullish(),
  dimensions: intField(`an integer between 1 and ${MAX_EMBEDDING_DIMENSIONS}`, { min: 1, max: MAX_EMBEDDING_DIMENSIONS }).nullish(),
  user: str.nullish(),
});
export type EmbeddingRequest = z.infer<typeof EmbeddingRequest>;

/** POST /v1/responses (minimal: the fields the engine uses; everything else passes through). */
export const ResponsesRequest = z.looseObject({
  model: modelField,
  input: z.union([str, z.array(z.looseObject({}, { error: 'an object' }))], { error: 'one of a string or an array of input items' }),
  instructions: str.nullish(),
  stream: bool.nullish(),
  max_output_tokens: positiveInt.nullish(),
  temperature: temperature.nullish(),
  top_p: topP.nullish(),
  user: str.nullish(),
  metadata: metadata.nullish(),
  store: bool.nullish(),
});
export type ResponsesRequest = z.infer<typeof ResponsesRequest>;
