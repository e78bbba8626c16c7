/**
 * PromptTokenizer — the token ids an engine will prefill for an OpenAI request, computed the way
 * the engine computes them (chat template, then tokenizer), so a router can look them up in an
 * exact KV index.
 *
 * Multi-turn chat resends the whole conversation every turn, so with the built-in ChatML
 * template each message is tokenized on its own and cached: `<|im_start|>role\ncontent<|im_end|>\n`
 * always ends in a newline followed by `<`, which is a pre-tokenizer split point for cl100k-style
 * BPE, so the concatenation of the per-message ids equals the ids of the whole rendered prompt
 * (tokenizers.test.ts checks this on random conversations). A turn then costs one tokenization of
 * its new message.
 *
 * Other templates (a model's own, or requests with tools) render the whole prompt. When the
 * tokenizer can cut text into pieces that tokenize independently (`Tokenizer.pieces`: a real
 * model's tokenizer cuts after each added token such as `<|eot_id|>`), each piece is cached the
 * same way, so a turn again costs only its new text; otherwise the whole text is the cache key
 * (exact repeats only). Either way the ids equal encode(rendered prompt): hf.test.ts checks it.
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
  /** Default: the simulator's ChatML. null: the model has no chat template (chat prompts are not tokenized). */
  template?: ChatTemplate | null;
  /** Total tokens the segment cache may hold (a cached text costs a token per 4 characters too). Default 2M (8 MB). */
  cacheTokens?: number;
  /**
   * Prompts longer than this many characters are not tokenized (tokens() → undefined, so the
   * router falls back to approximate routing): tokenizing runs on the gateway's event loop at
   * about 20 MB/s. Default 1M.
   */
  maxPromptChars?: number;
  /**
   * At most this many characters of a prompt may be tokenized on a cache miss; past it, tokens()
   * → undefined (approximate routing for that request). Bounds the event-loop time one request can
   * take with a slow tokenizer (ModelTokenizer.budgetChars). Default: no bound beyond maxPromptChars.
   */
  maxUncachedChars?: number;
}

/** What a cache entry counts against cacheTokens: its ids, and its key text (4 characters a token). */
function costOf(text: string, ids: Uint32Array): number {
  return ids.length + Math.ceil(text.length / 4);
}

const GENERATION_PROMPT = '<|im_start|>assistant\n';

export class PromptTokenizer {
  readonly template: ChatTemplate | undefined;
  private readonly chatml: boolean;
  private readonly cache = new Map<string, Uint32Array>();
  private cachedTokens = 0;
  private readonly maxTokens: number;
  private readonly maxChars: number;
  private readonly maxUncached: number;
  hits = 0;
  misses = 0;

  constructor(
    readonly tokenizer: Tokenizer,
    opts: PromptTokenizerOptions = {},
  ) {
    this.template = opts.template === null ? undefined : (opts.template ?? new ChatTemplate());
    // The per-message shortcut relies on cl100k-style pre-tokenization; tokenizers with pieces() cut exactly anyway.
    this.chatml = this.template?.source === CHATML_TEMPLATE && tokenizer.pieces === undefined;
    this.maxTokens = opts.cacheTokens ?? 2_000_000;
    this.maxChars = opts.maxPromptChars ?? 1_000_000;
    this.maxUncached = opts.maxUncachedChars ?? Infinity;
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
    if (this.template === undefined) return undefined;
    if (!this.chatml || hasTools) return this.rendered(this.template, messages, hasTools ? req.tools : undefined);
    const texts: string[] = [];
    let chars = 0;
    for (const m of messages as readonly ChatMessageLike[]) {
      const text = `<|im_start|>${m.role}\n${contentText(m)}<|im_end|>\n`;
      chars += text.length;
      if (chars > this.maxChars) return undefined;
      texts.push(text);
    }
    texts.push(GENERATION_PROMPT);
    return this.concat(texts);
  }

  /** The whole rendered prompt, by cached pieces when the tokenizer can cut it exactly. */
  private rendered(template: ChatTemplate, messages: readonly ChatMessageLike[], tools: unknown): ArrayLike<number> | undefined {
    let text: string;
    try {
      text = template.render(messages, { addGenerationPrompt: true, tools });
    } catch {
      return undefined; // the template rejects the conversation (raise_exception): so will the engine
    }
    if (text.length > this.maxChars) return undefined;
    return this.concat(this.tokenizer.pieces?.(text) ?? [text]);
  }

  private concat(texts: readonly string[]): Uint32Array | undefined {
    if (this.maxUncached !== Infinity) {
      let uncached = 0;
      for (const t of texts) if (!this.cache.has(t)) uncached += t.length;
      if (uncached > this.maxUncached) return undefined;
    }
    const parts: Uint32Array[] = [];
    let n = 0;
    for (const text of texts) {
      const ids = this.segment(text);
      parts.push(ids);
      n += ids.length;
    }
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
    if (typeof single === 'string') return single.length > Math.min(this.maxChars, this.maxUncached) ? undefined : this.tokenizer.encode(single, { addSpecialTokens: true });
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
