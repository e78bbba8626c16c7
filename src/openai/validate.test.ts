import { describe, expect, it } from 'vitest';
import { SwitchyardError } from '../core/index.js';
import { toOpenAIError } from './errors.js';
import { ChatCompletionRequest, CompletionRequest, EmbeddingRequest, ResponsesRequest } from './schemas.js';
import { parseJsonBody, parseRequest } from './validate.js';

const msgs = [
  { role: 'system', content: 'You are a helpful assistant.' },
  { role: 'user', content: 'What is the capital of France?' },
  { role: 'assistant', content: 'Paris.' },
];
const chat = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ model: 'demo', messages: msgs, ...extra });
const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: {} } } }];

/** Run parseRequest and return the wire error (or fail if it parsed). */
function wireError(schema: Parameters<typeof parseRequest>[0], body: unknown): { message: string; param: string | null; code: string | null } {
  try {
    parseRequest(schema, body);
  } catch (e) {
    expect(e).toBeInstanceOf(SwitchyardError);
    expect((e as SwitchyardError).code).toBe('invalid_request');
    const w = toOpenAIError(e);
    expect(w.status).toBe(400);
    expect(w.body.error.type).toBe('invalid_request_error');
    return w.body.error;
  }
  throw new Error('expected a validation error');
}

describe('parseRequest: valid requests pass', () => {
  const valid: Array<[string, Parameters<typeof parseRequest>[0], unknown]> = [
    ['minimal chat', ChatCompletionRequest, chat()],
    ['chat with every known field', ChatCompletionRequest, chat({
      max_tokens: 10, max_completion_tokens: 10, temperature: 0, top_p: 1, n: 1, stream: true,
      stream_options: { include_usage: true, continuous_usage_stats: false }, stop: ['a', 'b'], seed: -5, user: 'u',
      presence_penalty: -2, frequency_penalty: 2, logit_bias: { '50256': -100 }, logprobs: true, top_logprobs: 20,
      tools, tool_choice: { type: 'function', function: { name: 'get_weather' } }, parallel_tool_calls: false,
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' }, strict: true } },
      metadata: { k: 'v' }, store: false, service_tier: 'auto', ignore_eos: true, min_tokens: 0, top_k: -1, min_p: 0.1,
      repetition_penalty: 1.1, skip_special_tokens: true, include_stop_str_in_output: false,
    })],
    ['explicit nulls for optional fields', ChatCompletionRequest, chat({ temperature: null, stop: null, stream: null, stream_options: null, tools: null, n: null })],
    ['content parts (text + image_url)', ChatCompletionRequest, chat({ messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'image_url', image_url: { url: 'data:x' } }] }] })],
    ['assistant tool call with null content, then tool result', ChatCompletionRequest, chat({
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      ],
      tools,
    })],
    ['developer role and unknown extra fields', ChatCompletionRequest, chat({ messages: [{ role: 'developer', content: 'x', weird: 1 }], chat_template_kwargs: { a: [1] }, reasoning_effort: 'low' })],
    ['16 stop sequences (vLLM allows more than OpenAI\'s 4)', ChatCompletionRequest, chat({ stop: Array.from({ length: 16 }, (_, i) => `s${i}`) })],
    ['tool_choice "required" with tools', ChatCompletionRequest, chat({ tools, tool_choice: 'required' })],
    ['n > 1 is accepted by the schema (the engine decides)', ChatCompletionRequest, chat({ n: 4 })],
    ['completion: string prompt', CompletionRequest, { model: 'm', prompt: 'hi' }],
    ['completion: batch of strings', CompletionRequest, { model: 'm', prompt: ['a', 'b'] }],
    ['completion: token ids', CompletionRequest, { model: 'm', prompt: [1, 2, 3], echo: true, logprobs: 5, suffix: 's', best_of: 1 }],
    ['completion: batch of token ids', CompletionRequest, { model: 'm', prompt: [[1], [2, 3]], stream: true, stream_options: { include_usage: true } }],
    ['embeddings: string', EmbeddingRequest, { model: 'e', input: 'hello', encoding_format: 'base64', dimensions: 8 }],
    ['embeddings: token batches', EmbeddingRequest, { model: 'e', input: [[1, 2], [3]] }],
    ['responses: string input', ResponsesRequest, { model: 'm', input: 'hi', stream: true, max_output_tokens: 50, tools: [] }],
    ['responses: item array', ResponsesRequest, { model: 'm', input: [{ role: 'user', content: 'hi' }] }],
  ];
  it.each(valid)('%s', (_name, schema, body) => {
    expect(() => parseRequest(schema, body)).not.toThrow();
  });

  it('keeps unknown fields and fills the completions max_tokens default', () => {
    const r = parseRequest(CompletionRequest, { model: 'm', prompt: 'x', extra_body_field: { a: 1 } });
    expect(r.max_tokens).toBe(16);
    expect(r['extra_body_field']).toEqual({ a: 1 });
    expect(parseRequest(CompletionRequest, { model: 'm', prompt: 'x', max_tokens: null }).max_tokens).toBe(16);
    expect(parseRequest(CompletionRequest, { model: 'm', prompt: 'x', max_tokens: 3 }).max_tokens).toBe(3);
  });

  it('ignores a __proto__ key (no prototype injection through unknown fields)', () => {
    const r = parseRequest(ChatCompletionRequest, JSON.parse('{"model":"m","messages":[{"role":"user","content":"x"}],"__proto__":{"stream":true}}'));
    expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
    expect(r.stream).toBeUndefined();
  });
});

/** The wording table: [case, schema, body, param, wire code, message]. */
const invalid: Array<[string, Parameters<typeof parseRequest>[0], unknown, string | null, string, string]> = [
  ['missing model', ChatCompletionRequest, { messages: msgs }, 'model', 'missing_required_parameter', "Missing required parameter: 'model'."],
  ['missing messages', ChatCompletionRequest, { model: 'm' }, 'messages', 'missing_required_parameter', "Missing required parameter: 'messages'."],
  ['empty model', ChatCompletionRequest, chat({ model: '' }), 'model', 'empty_string', "Invalid 'model': empty string. Expected a string with minimum length 1, but got an empty string instead."],
  ['model not a string', ChatCompletionRequest, chat({ model: 7 }), 'model', 'invalid_type', "Invalid type for 'model': expected a string (the model name), but got an integer instead."],
  ['temperature type', ChatCompletionRequest, chat({ temperature: 'hot' }), 'temperature', 'invalid_type', "Invalid type for 'temperature': expected a number between 0 and 2, but got a string instead."],
  ['temperature range', ChatCompletionRequest, chat({ temperature: 2.5 }), 'temperature', 'decimal_above_max_value', "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 2.5 instead."],
  ['top_p exclusive minimum', ChatCompletionRequest, chat({ top_p: 0 }), 'top_p', 'decimal_below_min_value', "Invalid 'top_p': decimal below minimum value. Expected a value > 0, but got 0 instead."],
  ['n below 1', ChatCompletionRequest, chat({ n: 0 }), 'n', 'integer_below_min_value', "Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead."],
  ['max_tokens decimal', ChatCompletionRequest, chat({ max_tokens: 1.5 }), 'max_tokens', 'invalid_type', "Invalid type for 'max_tokens': expected a positive integer, but got a decimal instead."],
  ['top_logprobs above 20', ChatCompletionRequest, chat({ logprobs: true, top_logprobs: 21 }), 'top_logprobs', 'integer_above_max_value', "Invalid 'top_logprobs': integer above maximum value. Expected a value <= 20, but got 21 instead."],
  ['top_logprobs without logprobs', ChatCompletionRequest, chat({ top_logprobs: 2 }), 'top_logprobs', 'invalid_value', "Invalid value for 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used."],
  ['stream not boolean', ChatCompletionRequest, chat({ stream: 'yes' }), 'stream', 'invalid_type', "Invalid type for 'stream': expected a boolean, but got a string instead."],
  ['stream_options without stream', ChatCompletionRequest, chat({ stream_options: { include_usage: true } }), 'stream_options', 'invalid_value', "'stream_options' is only allowed when 'stream' is true."],
  ['stream_options with stream false', CompletionRequest, { model: 'm', prompt: 'x', stream: false, stream_options: {} }, 'stream_options', 'invalid_value', "'stream_options' is only allowed when 'stream' is true."],
  ['messages empty', ChatCompletionRequest, chat({ messages: [] }), 'messages', 'empty_array', "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead."],
  ['messages not an array', ChatCompletionRequest, chat({ messages: 'hi' }), 'messages', 'invalid_type', "Invalid type for 'messages': expected an array of message objects, but got a string instead."],
  ['message not an object', ChatCompletionRequest, chat({ messages: ['hi'] }), 'messages[0]', 'invalid_type', "Invalid type for 'messages[0]': expected a message object, but got a string instead."],
  ['bad role', ChatCompletionRequest, chat({ messages: [{ role: 'robot', content: 'x' }] }), 'messages[0].role', 'invalid_value', "Invalid value for 'messages[0].role': 'robot'. Supported values are: 'system', 'developer', 'user', 'assistant', 'tool', and 'function'."],
  ['missing role', ChatCompletionRequest, chat({ messages: [{ content: 'x' }] }), 'messages[0].role', 'missing_required_parameter', "Missing required parameter: 'messages[0].role'."],
  ['content wrong type', ChatCompletionRequest, chat({ messages: [msgs[0], { role: 'user', content: 42 }] }), 'messages[1].content', 'invalid_type', "Invalid type for 'messages[1].content': expected one of a string or array of content parts, but got an integer instead."],
  ['content missing (user)', ChatCompletionRequest, chat({ messages: [{ role: 'user' }] }), 'messages[0].content', 'missing_required_parameter', "Missing required parameter: 'messages[0].content'."],
  ['content null without tool_calls', ChatCompletionRequest, chat({ messages: [{ role: 'assistant', content: null }] }), 'messages[0].content', 'invalid_type', "Invalid type for 'messages[0].content': expected one of a string or array of content parts, but got null instead ('content' may be null only when the assistant message has 'tool_calls')."],
  ['content part without text', ChatCompletionRequest, chat({ messages: [{ role: 'user', content: [{ type: 'text' }] }] }), 'messages[0].content[0].text', 'missing_required_parameter', "Missing required parameter: 'messages[0].content[0].text'."],
  ['content part of unknown type', ChatCompletionRequest, chat({ messages: [{ role: 'user', content: [{ type: 'video' }] }] }), 'messages[0].content[0].type', 'invalid_value', "Invalid value for 'messages[0].content[0].type': 'video'. Supported values are: 'text', 'image_url', 'input_audio', 'file', and 'refusal'."],
  ['tool message without tool_call_id', ChatCompletionRequest, chat({ messages: [{ role: 'tool', content: 'x' }] }), 'messages[0].tool_call_id', 'missing_required_parameter', "Missing required parameter: 'messages[0].tool_call_id'."],
  ['stop too long', ChatCompletionRequest, chat({ stop: Array.from({ length: 17 }, () => 'x') }), 'stop', 'array_above_max_length', "Invalid 'stop': array too long. Expected an array with maximum length 16, but got an array with length 17 instead."],
  ['stop wrong type', ChatCompletionRequest, chat({ stop: 5 }), 'stop', 'invalid_type', "Invalid type for 'stop': expected a string or an array of up to 16 strings, but got an integer instead."],
  ['stop element wrong type', ChatCompletionRequest, chat({ stop: ['a', 1] }), 'stop[1]', 'invalid_type', "Invalid type for 'stop[1]': expected a string, but got an integer instead."],
  ['logit_bias out of range', ChatCompletionRequest, chat({ logit_bias: { '42': 101 } }), 'logit_bias.42', 'decimal_above_max_value', "Invalid 'logit_bias.42': decimal above maximum value. Expected a value <= 100, but got 101 instead."],
  ['tool_choice unknown string', ChatCompletionRequest, chat({ tools, tool_choice: 'any' }), 'tool_choice', 'invalid_value', "Invalid value for 'tool_choice': 'any'. Supported values are: 'none', 'auto', and 'required'."],
  ['tool_choice wrong type', ChatCompletionRequest, chat({ tool_choice: 1 }), 'tool_choice', 'invalid_type', "Invalid type for 'tool_choice': expected one of 'none', 'auto', 'required' or an object naming a function, but got an integer instead."],
  ['tool_choice without tools', ChatCompletionRequest, chat({ tool_choice: 'required' }), 'tool_choice', 'invalid_value', "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified."],
  ['tool type', ChatCompletionRequest, chat({ tools: [{ type: 'retrieval' }] }), 'tools[0].type', 'invalid_value', "Invalid value for 'tools[0].type': 'retrieval'. Supported values are: 'function'."],
  ['tool without function name', ChatCompletionRequest, chat({ tools: [{ type: 'function', function: {} }] }), 'tools[0].function.name', 'missing_required_parameter', "Missing required parameter: 'tools[0].function.name'."],
  ['response_format type', ChatCompletionRequest, chat({ response_format: { type: 'xml' } }), 'response_format.type', 'invalid_value', "Invalid value for 'response_format.type': 'xml'. Supported values are: 'text', 'json_object', and 'json_schema'."],
  ['response_format json_schema missing', ChatCompletionRequest, chat({ response_format: { type: 'json_schema' } }), 'response_format.json_schema', 'missing_required_parameter', "Missing required parameter: 'response_format.json_schema'."],
  ['prompt missing', CompletionRequest, { model: 'm' }, 'prompt', 'missing_required_parameter', "Missing required parameter: 'prompt'."],
  ['prompt empty array', CompletionRequest, { model: 'm', prompt: [] }, 'prompt', 'empty_array', "Invalid 'prompt': empty array. Expected an array with minimum length 1, but got an empty array instead."],
  ['prompt wrong type', CompletionRequest, { model: 'm', prompt: { text: 'x' } }, 'prompt', 'invalid_type', "Invalid type for 'prompt': expected one of a string, an array of strings, an array of token ids, or an array of token-id arrays, but got an object instead."],
  ['prompt token id negative', CompletionRequest, { model: 'm', prompt: [1, -2] }, 'prompt[1]', 'integer_below_min_value', "Invalid 'prompt[1]': integer below minimum value. Expected a value >= 0, but got -2 instead."],
  ['completions logprobs above 5', CompletionRequest, { model: 'm', prompt: 'x', logprobs: 6 }, 'logprobs', 'integer_above_max_value', "Invalid 'logprobs': integer above maximum value. Expected a value <= 5, but got 6 instead."],
  ['embeddings empty string', EmbeddingRequest, { model: 'e', input: '' }, 'input', 'empty_string', "Invalid 'input': empty string. Expected a string with minimum length 1, but got an empty string instead."],
  ['embeddings dimensions absurd', EmbeddingRequest, { model: 'e', input: 'x', dimensions: 9007199254740991 }, 'dimensions', 'integer_above_max_value', "Invalid 'dimensions': integer above maximum value. Expected a value <= 65536, but got 9007199254740991 instead."],
  ['embeddings encoding_format', EmbeddingRequest, { model: 'e', input: 'x', encoding_format: 'hex' }, 'encoding_format', 'invalid_value', "Invalid value for 'encoding_format': 'hex'. Supported values are: 'float' and 'base64'."],
  ['responses input wrong type', ResponsesRequest, { model: 'm', input: 3 }, 'input', 'invalid_type', "Invalid type for 'input': expected one of a string or an array of input items, but got an integer instead."],
  ['body is an array', ChatCompletionRequest, [chat()], null, 'invalid_type', 'The request body must be a JSON object, but got an array instead.'],
  ['body is a string', ChatCompletionRequest, 'hello', null, 'invalid_type', 'The request body must be a JSON object, but got a string instead.'],
  ['body is null', ChatCompletionRequest, null, null, 'invalid_type', 'The request body must be a JSON object, but got null instead.'],
];

describe('parseRequest: malformed requests', () => {
  it.each(invalid)('%s', (_name, schema, body, param, code, message) => {
    expect(wireError(schema, body)).toEqual({ message, type: 'invalid_request_error', param, code });
  });

  it('truncates long offending values in messages', () => {
    const e = wireError(ChatCompletionRequest, chat({ messages: [{ role: 'x'.repeat(100_000), content: 'x' }] }));
    expect(e.message.length).toBeLessThan(300);
    expect(e.message).toContain("'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…'");
  });

  it('reports the first problem in document order of the schema', () => {
    expect(wireError(ChatCompletionRequest, { temperature: 9 }).param).toBe('model');
  });
});

describe('parseJsonBody', () => {
  it('parses JSON text and bytes', () => {
    expect(parseJsonBody('{"a":1}')).toEqual({ a: 1 });
    expect(parseJsonBody(new TextEncoder().encode('{"é":"ü"}'))).toEqual({ é: 'ü' });
  });
  it.each(['', '{', '{"a":}', 'nope'])('rejects %j with invalid_json', (text) => {
    try {
      parseJsonBody(text);
      expect.unreachable();
    } catch (e) {
      const w = toOpenAIError(e).body.error;
      expect(w.code).toBe('invalid_json');
      expect(w.message).toMatch(/^We could not parse the JSON body of your request/);
      expect(w.param).toBeNull();
    }
  });
});

