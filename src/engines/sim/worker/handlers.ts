/** Request handlers of the simulated worker: validate, tokenize, then generate or embed. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { openAIId, SwitchyardError } from '../../../core/index.js';
import { ChatCompletionRequest, CompletionRequest, EmbeddingRequest, parseRequest, readJsonBody, sendJson } from '../../../openai/index.js';
import { type ChatTemplate, DEFAULT_EMBEDDING_DIM, embeddingToBase64, embedTokens, type Tokenizer } from '../text/index.js';
import { type GenerationDeps, runGeneration, type GenerationSpec } from './generate.js';

export interface HandlerContext {
  model: string;
  maxModelLen: number;
  tokenizer: Tokenizer;
  template: ChatTemplate;
  defaultSeed: number;
  maxBodyBytes: number | undefined;
  gen: GenerationDeps;
}

async function parseBody<T>(ctx: HandlerContext, req: IncomingMessage, schema: Parameters<typeof parseRequest<T>>[0]): Promise<T> {
  const raw = await readJsonBody(req, ctx.maxBodyBytes);
  return parseRequest(schema, raw);
}

function checkModel(ctx: HandlerContext, model: string): void {
  if (model !== ctx.model) {
    throw new SwitchyardError('model_not_found', `The model '${model}' does not exist. This simulated engine serves '${ctx.model}'.`, { param: 'model' });
  }
}

function checkN(n: number | null | undefined): void {
  if (n !== undefined && n !== null && n !== 1) throw new SwitchyardError('invalid_request', `The simulated engine supports only n=1, got n=${n}.`, { param: 'n' });
}

function stopList(stop: string | string[] | null | undefined): string[] {
  if (stop === undefined || stop === null) return [];
  return typeof stop === 'string' ? [stop] : stop;
}

/** Stall fault: hold the request before any byte is sent. Real time, by design. */
async function stallBeforeFirstToken(ctx: HandlerContext, res: ServerResponse): Promise<void> {
  const ms = ctx.gen.faults().stallBeforeFirstTokenMs;
  if (ms <= 0) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    res.once('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

function defaultMaxTokens(ctx: HandlerContext, promptLen: number): number {
  return Math.max(1, ctx.maxModelLen - promptLen);
}

export async function handleChat(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await parseBody(ctx, req, ChatCompletionRequest);
  checkModel(ctx, body.model);
  checkN(body.n);
  const prompt = ctx.template.render(body.messages, { addGenerationPrompt: true, tools: body.tools ?? undefined });
  const promptIds = ctx.tokenizer.encode(prompt);
  const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? defaultMaxTokens(ctx, promptIds.length);
  const spec: GenerationSpec = {
    kind: 'chat',
    model: ctx.model,
    promptIds,
    maxTokens,
    minTokens: body.min_tokens ?? 0,
    ignoreEos: body.ignore_eos ?? false,
    seed: body.seed ?? ctx.defaultSeed,
    stop: stopList(body.stop),
    includeStopStr: body.include_stop_str_in_output ?? false,
    stream: body.stream ?? false,
    includeUsage: body.stream_options?.include_usage ?? false,
    continuousUsage: body.stream_options?.continuous_usage_stats ?? false,
    echoText: '',
  };
  await stallBeforeFirstToken(ctx, res);
  if (res.destroyed) return; // the client went away while we stalled
  await runGeneration(spec, ctx.gen, req, res);
}

export async function handleCompletion(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await parseBody(ctx, req, CompletionRequest);
  checkModel(ctx, body.model);
  checkN(body.n);
  const promptIds = promptToIds(ctx, body.prompt);
  const spec: GenerationSpec = {
    kind: 'text',
    model: ctx.model,
    promptIds,
    maxTokens: body.max_tokens ?? 16,
    minTokens: body.min_tokens ?? 0,
    ignoreEos: body.ignore_eos ?? false,
    seed: body.seed ?? ctx.defaultSeed,
    stop: stopList(body.stop),
    includeStopStr: false,
    stream: body.stream ?? false,
    includeUsage: body.stream_options?.include_usage ?? false,
    continuousUsage: body.stream_options?.continuous_usage_stats ?? false,
    echoText: body.echo ? ctx.tokenizer.decode(promptIds) : '',
  };
  await stallBeforeFirstToken(ctx, res);
  if (res.destroyed) return; // the client went away while we stalled
  await runGeneration(spec, ctx.gen, req, res);
}

/** Raw prompts get the model's added special tokens (e.g. a BOS), as vLLM adds them; rendered chat templates carry their own. */
const SPECIAL = { addSpecialTokens: true };

/** One prompt per request: a string, a one-element string array, or token ids. */
function promptToIds(ctx: HandlerContext, prompt: CompletionRequest['prompt']): number[] {
  const single = Array.isArray(prompt) && prompt.length === 1 && (typeof prompt[0] === 'string' || Array.isArray(prompt[0])) ? prompt[0] : prompt;
  if (typeof single === 'string') return ctx.tokenizer.encode(single, SPECIAL);
  if (Array.isArray(single) && single.every((x): x is number => typeof x === 'number')) {
    const bad = single.find((t) => !Number.isInteger(t) || t < 0 || t >= ctx.tokenizer.vocabSize);
    if (bad !== undefined) throw new SwitchyardError('invalid_request', `Token id ${bad} is out of vocabulary (0..${ctx.tokenizer.vocabSize - 1}).`, { param: 'prompt' });
    return single.slice();
  }
  throw new SwitchyardError('invalid_request', 'The simulated engine accepts one prompt per request (a string or an array of token ids); send batches as separate requests.', { param: 'prompt' });
}

export async function handleEmbeddings(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await parseBody(ctx, req, EmbeddingRequest);
  checkModel(ctx, body.model);
  const input = body.input;
  const items: number[][] =
    typeof input === 'string' ? [ctx.tokenizer.encode(input, SPECIAL)]
    : input.length > 0 && typeof input[0] === 'number' ? [input as number[]]
    : (input as (string | number[])[]).map((x) => (typeof x === 'string' ? ctx.tokenizer.encode(x, SPECIAL) : x));
  const dim = body.dimensions ?? DEFAULT_EMBEDDING_DIM;
  let promptTokens = 0;
  const data = items.map((ids, index) => {
    if (ids.length > ctx.maxModelLen) throw new SwitchyardError('context_length_exceeded', `Input ${index} has ${ids.length} tokens; the maximum is ${ctx.maxModelLen}.`, { param: 'input' });
    promptTokens += ids.length;
    const v = embedTokens(ids, dim);
    return { object: 'embedding', index, embedding: body.encoding_format === 'base64' ? embeddingToBase64(v) : v };
  });
  sendJson(res, 200, { object: 'list', id: openAIId('embd'), model: ctx.model, data, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } });
}
