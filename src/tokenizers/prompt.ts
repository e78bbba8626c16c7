/**
 * PromptTokenizer — the token ids an engine will prefill for an OpenAI request, computed the way
 * the engine computes them (chat template, then tokenizer), so a router can look them up in an
 * exact KV index.
 *
 * Multi-turn chat resends the whole conversation every turn, so with the built-in ChatML
 * template each message is tokenized on its own and cached: `<|im_start|>role\ncontent<|im_end|>\n`
 * always ends in a newline followed by `<`, which is a pre-tokenizer split point for cl100k-style
 * BPE, so the concatenation of the per-message ids equals the ids of the whole rendered prompt
 * (prompt.test.ts checks this on random conversations). A turn then costs one tokenization of its
 * new message. Other templates, and requests with tools, render and tokenize the whole prompt.
 *
 * The cache is an LRU bounded by the total tokens it holds (4 bytes each).
 */
import { ChatTemplate, CHATML_TEMPLATE, contentText, type ChatMessageLike } from './chat-template.js';
import type { Tokenizer } from './types.js';

/** The fields of an OpenAI chat or completions request that determine its prompt. */
export interface PromptShape {
  messages?: readonly ChatMessageLike[];
  tools?: unknown;
  prompt?: unknown;
}

export interface PromptTokenizerOptions {
  template?: ChatTemplate;
  /** Total tokens the segment cache may hold (a cached text costs a token per 4 characters too). Default 2M (8 MB). */
  cacheTokens?: number;
  /**
   * Prompts longer than this many characters are not tokenized (tokens() → undefined, so the
   * router falls back to approximate routing): tokenizing runs on the gateway's event loop at
   * about 20 MB/s. Default 1M.
   */
  maxPromptChars?: number;
}

/** What a cache entry counts against cacheTokens: its ids, and its key text (4 characters a token). */
function costOf(text: string, ids: Uint32Array): number {
  return ids.length + Math.ceil(text.length / 4);
}

const GENERATION_PROMPT = '<|im_start|>assistant\n';

export class PromptTokenizer {
  readonly template: ChatTemplate;
  private readonly chatml: boolean;
  private readonly cache = new Map<string, Uint32Array>();
  private cachedTokens = 0;
  private readonly maxTokens: number;
  private readonly maxChars: number;
  hits = 0;
  misses = 0;

  constructor(
    readonly tokenizer: Tokenizer,
    opts: PromptTokenizerOptions = {},
  ) {
    this.template = opts.template ?? new ChatTemplate();
    this.chatml = this.template.source === CHATML_TEMPLATE;
    this.maxTokens = opts.cacheTokens ?? 2_000_000;
    this.maxChars = opts.maxPromptChars ?? 1_000_000;
  }

  /**
   * The prompt's token ids, or undefined when this request's prompt is not one sequence the
   * gateway can reproduce (a batch of prompts, or a malformed shape).
   */
  tokens(kind: 'chat' | 'completions', req: PromptShape): ArrayLike<number> | undefined {
    return kind === 'chat' ? this.chat(req) : this.completion(req.prompt);
  }

  private chat(req: PromptShape): ArrayLike<number> | undefined {
    const messages = req.messages;
    if (!Array.isArray(messages)) return undefined;
    const hasTools = req.tools !== undefined && req.tools !== null;
    if (!this.chatml || hasTools) {
      const text = this.template.render(messages, { addGenerationPrompt: true, tools: hasTools ? req.tools : undefined });
      return text.length > this.maxChars ? undefined : this.tokenizer.encode(text);
    }
    const texts: string[] = [];
    let chars = 0;
    for (const m of messages as readonly ChatMessageLike[]) {
      const text = `<|im_start|>${m.role}\n${contentText(m)}<|im_end|>\n`;
      chars += text.length;
      if (chars > this.maxChars) return undefined;
      texts.push(text);
    }
    const parts: Uint32Array[] = [];
    let n = 0;
    for (const text of texts) {
      const ids = this.segment(text);
      parts.push(ids);
      n += ids.length;
    }
    const gen = this.segment(GENERATION_PROMPT);
    parts.push(gen);
    n += gen.length;
    const out = new Uint32Array(n);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  private completion(prompt: unknown): ArrayLike<number> | undefined {
    const single = Array.isArray(prompt) && prompt.length === 1 && (typeof prompt[0] === 'string' || Array.isArray(prompt[0])) ? (prompt[0] as unknown) : prompt;
    if (typeof single === 'string') return single.length > this.maxChars ? undefined : this.tokenizer.encode(single);
    if (Array.isArray(single) && single.every((t) => Number.isInteger(t))) return single as number[];
    return undefined;
  }

  private segment(text: string): Uint32Array {
    const hit = this.cache.get(text);
    if (hit !== undefined) {
      this.hits++;
      this.cache.delete(text); // most recent last
      this.cache.set(text, hit);
      return hit;
    }
    this.misses++;
    const ids = Uint32Array.from(this.tokenizer.encode(text));
    const cost = costOf(text, ids);
    if (cost <= this.maxTokens / 4) {
      this.cache.set(text, ids);
      this.cachedTokens += cost;
      for (const [k, v] of this.cache) {
        if (this.cachedTokens <= this.maxTokens) break;
        this.cache.delete(k);
        this.cachedTokens -= costOf(k, v);
      }
    }
    return ids;
  }
}
