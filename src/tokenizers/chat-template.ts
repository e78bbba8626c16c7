/**
 * Chat templating: messages → prompt text, rendered by a real Jinja engine (@huggingface/jinja,
 * the implementation transformers.js uses for Hugging Face chat templates). The simulator ships
 * a ChatML template (the format of Qwen and many fine-tunes); a Function may supply its own.
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

export class ChatTemplate {
  private readonly template: Template;
  constructor(readonly source: string = CHATML_TEMPLATE) {
    try {
      this.template = new Template(source);
    } catch (e) {
      throw new SwitchyardError('invalid_config', `chat template does not parse: ${(e as Error).message}`, { cause: e, param: 'chatTemplate' });
    }
  }

  render(messages: readonly ChatMessageLike[], opts: { addGenerationPrompt?: boolean; tools?: unknown } = {}): string {
    const normalized = messages.map((m) => ({ role: m.role, content: contentText(m) }));
    return this.template.render({
      messages: normalized,
      add_generation_prompt: opts.addGenerationPrompt ?? true,
      tools: opts.tools ?? null,
      bos_token: '',
      eos_token: '<|endoftext|>',
    });
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
