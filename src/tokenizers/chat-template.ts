/**
 * Chat templating: messages → prompt text, rendered by a real Jinja engine (@huggingface/jinja,
 * the implementation transformers.js uses for Hugging Face chat templates). The simulator ships
 * a ChatML template (the format of Qwen and many fine-tunes); a model directory supplies its own
 * (tokenizer_config.json's `chat_template` or chat_template.jinja) with its special tokens.
 */
import { Template } from '@huggingface/jinja';
import { SwitchyardError } from '../core/index.js';

export const CHATML_TEMPLATE =
  "{%- if tools %}{{ '<|im_start|>system\\n# Tools\\nYou may call these functions:\\n' + (tools | tojson) + '<|im_end|>\\n' }}{%- endif %}" +
  "{%- for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}{%- endfor %}" +
  "{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{%- endif %}";

export interface ChatMessageLike {
  role: string;
  content?: unknown;
  tool_calls?: unknown;
}

export interface ChatTemplateOptions {
  /**
   * Special-token strings the template sees (`bos_token`, `eos_token`, ...), as a model's
   * tokenizer_config.json names them. Default: the simulator's (bos '', eos '<|endoftext|>').
   */
  specialTokens?: Readonly<Record<string, string>>;
  /**
   * How messages reach the template. 'flat' (default, the simulator's): `{ role, content }` with
   * content parts and tool calls flattened into text. 'openai' (model templates, as vLLM passes
   * them): content parts joined with '\n', and `tool_calls` (arguments parsed from JSON),
   * `tool_call_id` and `name` kept.
   */
  messages?: 'flat' | 'openai';
  /** Where the source came from, for error messages (e.g. a file path). */
  origin?: string;
}

const SIM_SPECIAL_TOKENS: Readonly<Record<string, string>> = { bos_token: '', eos_token: '<|endoftext|>' };

export class ChatTemplate {
  private readonly template: Template;
  private readonly specialTokens: Readonly<Record<string, string>>;
  private readonly openai: boolean;
  constructor(
    readonly source: string = CHATML_TEMPLATE,
    opts: ChatTemplateOptions = {},
  ) {
    this.specialTokens = opts.specialTokens ?? SIM_SPECIAL_TOKENS;
    this.openai = opts.messages === 'openai';
    try {
      this.template = new Template(source);
    } catch (e) {
      throw new SwitchyardError('invalid_config', `chat template${opts.origin !== undefined ? ` in ${opts.origin}` : ''} does not parse: ${(e as Error).message}`, { cause: e, param: 'chatTemplate' });
    }
  }

  /** The prompt text. Throws what the template raises (`raise_exception`, e.g. roles out of order). */
  render(messages: readonly ChatMessageLike[], opts: { addGenerationPrompt?: boolean; tools?: unknown } = {}): string {
    const normalized = this.openai ? messages.map(openaiMessage) : messages.map((m) => ({ role: m.role, content: contentText(m) }));
    return this.template.render({
      ...this.specialTokens,
      messages: normalized,
      add_generation_prompt: opts.addGenerationPrompt ?? true,
      tools: opts.tools ?? null,
    });
  }
}

/** A message as vLLM hands it to a model's template ("string" content format). */
function openaiMessage(m: ChatMessageLike & { tool_call_id?: unknown; name?: unknown }): Record<string, unknown> {
  const c = m.content;
  let content = '';
  if (typeof c === 'string') content = c;
  else if (Array.isArray(c)) content = (c as unknown[]).flatMap((p) => (p && typeof p === 'object' && 'text' in p && typeof p.text === 'string' ? [p.text] : [])).join('\n');
  const out: Record<string, unknown> = { role: m.role, content };
  if (Array.isArray(m.tool_calls)) out.tool_calls = (m.tool_calls as unknown[]).map(parsedToolCall);
  if (m.tool_call_id !== undefined) out.tool_call_id = m.tool_call_id;
  if (m.name !== undefined) out.name = m.name;
  return out;
}

function parsedToolCall(call: unknown): unknown {
  if (!call || typeof call !== 'object' || !('function' in call)) return call;
  const fn = call.function;
  if (!fn || typeof fn !== 'object' || !('arguments' in fn) || typeof fn.arguments !== 'string') return call;
  try {
    return { ...call, function: { ...fn, arguments: JSON.parse(fn.arguments) as unknown } };
  } catch {
    return call;
  }
}

/** Flatten OpenAI message content (string | parts[] | null, plus tool calls) into text. */
export function contentText(m: ChatMessageLike): string {
  const c = m.content;
  let text = '';
  if (typeof c === 'string') text = c;
  else if (Array.isArray(c)) {
    for (const part of c as unknown[]) {
      if (part && typeof part === 'object' && 'text' in part && typeof (part).text === 'string') text += (part as { text: string }).text;
    }
  }
  if (m.tool_calls !== undefined && m.tool_calls !== null) text += JSON.stringify(m.tool_calls);
  return text;
}
