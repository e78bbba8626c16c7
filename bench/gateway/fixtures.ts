/**
 * The fixed upstream answers (one OpenAI chat completion, one OpenAI SSE stream) and the request
 * bodies the load generators send. Everything here is a constant: the upstream is nginx `return`,
 * so the proxies, not the upstream, are the bottleneck.
 */

/** Model names in the Switchyard gateway config: one per upstream kind. */
export const MODEL_CHAT = 'bench-model';
export const MODEL_STREAM = 'bench-model-stream';
export const MODEL_IDLE = 'bench-idle';

export const COMPLETION_CONTENT = 'Hello! The quick brown fox jumps over the lazy dog.';

export const COMPLETION_JSON = JSON.stringify({
  id: 'chatcmpl-bench0001',
  object: 'chat.completion',
  created: 1_760_000_000,
  model: MODEL_CHAT,
  system_fingerprint: 'fp_bench',
  choices: [{ index: 0, message: { role: 'assistant', content: COMPLETION_CONTENT, refusal: null }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 24, completion_tokens: 16, total_tokens: 40 },
});

/** The 16 content deltas of the fixed stream (one token each). */
export const STREAM_TOKENS = ['Hello', '!', ' The', ' quick', ' brown', ' fox', ' jumps', ' over', ' the', ' lazy', ' dog', '.', ' It', ' is', ' fast', '.'];

function chunk(choices: unknown[], usage: unknown = null): string {
  return `data: ${JSON.stringify({ id: 'chatcmpl-bench0002', object: 'chat.completion.chunk', created: 1_760_000_000, model: MODEL_STREAM, system_fingerprint: 'fp_bench', choices, usage })}\n\n`;
}

/** OpenAI's streaming format: role chunk, 16 content chunks, finish chunk, usage chunk (`choices: []`), [DONE]. */
export const SSE_BODY = [
  chunk([{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }]),
  ...STREAM_TOKENS.map((t) => chunk([{ index: 0, delta: { content: t }, logprobs: null, finish_reason: null }])),
  chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]),
  chunk([], { prompt_tokens: 24, completion_tokens: 16, total_tokens: 40 }),
  'data: [DONE]\n\n',
].join('');

/** The first event of an idle stream (bench/gateway/idle-upstream.ts). */
export const ROLE_CHUNK = chunk([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]);

export type Mode = 'chat' | 'stream' | 'stream-usage';
export const MODES: readonly Mode[] = ['chat', 'stream', 'stream-usage'];

export const MODE_LABEL: Record<Mode, string> = {
  chat: 'non-streaming',
  stream: 'streaming',
  'stream-usage': 'streaming, include_usage in request',
};

const MESSAGES = [
  { role: 'system', content: 'You are a helpful assistant.' },
  { role: 'user', content: 'Say hello and then describe a fox jumping over a dog in one sentence.' },
];

/** A realistic small chat request body. */
export function requestBody(mode: Mode, model: string): string {
  const base = { model, messages: MESSAGES, max_tokens: 64, temperature: 0.7 };
  if (mode === 'chat') return JSON.stringify(base);
  if (mode === 'stream') return JSON.stringify({ ...base, stream: true });
  return JSON.stringify({ ...base, stream: true, stream_options: { include_usage: true } });
}

/** What a complete, correct response looks like, for the pre-flight check. */
export function looksComplete(mode: Mode, body: string): string | null {
  if (mode === 'chat') {
    try {
      const j = JSON.parse(body) as { choices?: { message?: { content?: unknown } }[] };
      return j.choices?.[0]?.message?.content === COMPLETION_CONTENT ? null : `unexpected completion: ${body.slice(0, 200)}`;
    } catch {
      return `not JSON: ${body.slice(0, 200)}`;
    }
  }
  const text = streamText(body);
  if (text !== STREAM_TOKENS.join('')) return `stream text ${JSON.stringify(text)} differs from the fixed stream`;
  if (!body.includes('data: [DONE]')) return 'stream has no [DONE]';
  return null;
}

/** Concatenated delta.content of an SSE chat stream. */
export function streamText(body: string): string {
  let out = '';
  for (const line of body.split('\n')) {
    if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
    try {
      const j = JSON.parse(line.slice(6)) as { choices?: { delta?: { content?: unknown } }[] };
      const c = j.choices?.[0]?.delta?.content;
      if (typeof c === 'string') out += c;
    } catch {
      // not a JSON event: ignore
    }
  }
  return out;
}

/** Whether an SSE stream carries a usage chunk. */
export function hasUsageChunk(body: string): boolean {
  return body.split('\n').some((l) => l.startsWith('data: {') && /"usage":\{/.test(l));
}
