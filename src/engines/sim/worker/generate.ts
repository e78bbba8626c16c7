/**
 * One generation request against the simulated engine, in the OpenAI wire format:
 * chat completions and text completions, streaming (SSE) and not. Streaming chunks are
 * serialised from precomputed prefixes — one small string concat per token.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { openAIId } from '../../../core/index.js';
import { SSE_DONE } from '../../../openai/index.js';
import type { EngineRunner, FinishedRequest, FinishReason } from '../model/index.js';
import { generateSequence, type Tokenizer } from '../text/index.js';
import type { Faults } from './faults.js';
import { StopChecker } from './stop-checker.js';

export interface GenerationSpec {
  kind: 'chat' | 'text';
  model: string;
  promptIds: number[];
  maxTokens: number;
  minTokens: number;
  ignoreEos: boolean;
  seed: number;
  stop: string[];
  includeStopStr: boolean;
  stream: boolean;
  includeUsage: boolean;
  continuousUsage: boolean;
  /** Text prepended to the completion (completions `echo`). */
  echoText: string;
}

export interface GenerationDeps {
  runner: EngineRunner;
  tokenizer: Tokenizer;
  faults: () => Faults;
  /** Engine ms per real ms (the --speedup factor). */
  speedup: number;
}

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

function usageOf(prompt: number, completion: number, cached: number): Usage {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: cached } };
}

/** Every response and chunk names the simulator in `system_fingerprint` (an OpenAI field), so it shows through any gateway. */
export const SIM_FINGERPRINT = 'switchyard-simulator';

/** Run the request to completion, writing the response. Resolves when the response ended. */
export function runGeneration(spec: GenerationSpec, deps: GenerationDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const id = openAIId(spec.kind === 'chat' ? 'chatcmpl' : 'cmpl');
  const created = Math.floor(Date.now() / 1000);
  const seq = generateSequence(deps.tokenizer, spec.promptIds, spec.seed);
  const stopper = new StopChecker(spec.stop, spec.includeStopStr);
  const chunkHead = spec.kind === 'chat'
    ? `{"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(spec.model)},"system_fingerprint":"${SIM_FINGERPRINT}","choices":[{"index":0,`
    : `{"id":"${id}","object":"text_completion","created":${created},"model":${JSON.stringify(spec.model)},"system_fingerprint":"${SIM_FINGERPRINT}","choices":[{"index":0,`;
  const usageNull = spec.includeUsage && !spec.continuousUsage ? ',"usage":null' : '';
  let text = '';
  let outputTokens = 0;
  let cachedTokens = 0;
  const faults = deps.faults();

  const writeDelta = (piece: string, finish: FinishReason | null): void => {
    const body = spec.kind === 'chat'
      ? (finish ? `"delta":{},` : `"delta":{"content":${JSON.stringify(piece)}},`)
      : `"text":${JSON.stringify(piece)},`;
    const fr = finish ? `"${finish}"` : 'null';
    const usage = spec.continuousUsage ? `,"usage":${JSON.stringify(usageOf(spec.promptIds.length, outputTokens, cachedTokens))}` : usageNull;
    res.write(`data: ${chunkHead}${body}"logprobs":null,"finish_reason":${fr}}]${usage}}\n\n`);
  };

  return new Promise<void>((resolve) => {
    let finished = false;
    const onClose = (): void => {
      if (!finished) deps.runner.abort(id);
    };
    res.on('close', onClose);

    const finish = (r: FinishedRequest): void => {
      finished = true;
      res.off('close', onClose);
      if (r.finishReason === 'abort') {
        if (!res.writableEnded) res.destroy();
        resolve();
        return;
      }
      const tail = stopper.flush();
      cachedTokens = r.cachedTokens;
      const usage = usageOf(r.promptTokens, r.outputTokens, r.cachedTokens);
      if (spec.stream) {
        if (tail) writeDelta(tail, null);
        writeDelta('', r.finishReason);
        if (spec.includeUsage) res.write(`data: ${chunkHead.slice(0, chunkHead.length - '{"index":0,'.length)}],"usage":${JSON.stringify(usage)}}\n\n`);
        res.end(SSE_DONE);
      } else {
        text += tail;
        const full = spec.echoText + text;
        const choice = spec.kind === 'chat'
          ? { index: 0, message: { role: 'assistant', content: full, refusal: null, tool_calls: [] }, logprobs: null, finish_reason: r.finishReason }
          : { index: 0, text: full, logprobs: null, finish_reason: r.finishReason };
        const body = { id, object: spec.kind === 'chat' ? 'chat.completion' : 'text_completion', created, model: spec.model, system_fingerprint: SIM_FINGERPRINT, choices: [choice], usage };
        const json = JSON.stringify(body);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
        res.end(json);
      }
      resolve();
    };

    // Submit first: the engine validates (context length, capacity) before any byte is sent.
    deps.runner.submit({
      id,
      promptTokenIds: spec.promptIds,
      maxTokens: spec.maxTokens,
      minTokens: spec.minTokens,
      ignoreEos: spec.ignoreEos,
      eosAt: seq.naturalLength,
      nextToken: (i) => seq.tokenAt(i),
      onToken: (tokenId, index) => {
        outputTokens = index + 1;
        if (faults.stallMidStreamAfterTokens > 0 && outputTokens === faults.stallMidStreamAfterTokens && faults.stallMidStreamMs > 0) {
          deps.runner.stall(faults.stallMidStreamMs * deps.speedup);
        }
        const piece = deps.tokenizer.decode([tokenId]);
        const { emit, stopped } = stopper.feed(piece);
        if (spec.stream) {
          if (emit) writeDelta(emit, null);
        } else {
          text += emit;
        }
        return stopped;
      },
      onFinish: finish,
    });
    if (spec.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
      if (spec.kind === 'chat') {
        res.write(`data: ${chunkHead}"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]${usageNull}}\n\n`);
      }
      if (spec.echoText) writeDelta(spec.echoText, null);
    }
  });
}
