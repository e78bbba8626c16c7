/**
 * A real model's tokenizer and chat template, from local files only (never downloaded):
 *
 * - `tokenizer.json` (required): loaded with @huggingface/tokenizers; byte-level BPE vocabularies
 *   (Llama 3, Qwen, GPT-2 style) encode through the fast path in bpe.ts, others through the library;
 * - `tokenizer_config.json` (optional): `chat_template`, `bos_token` / `eos_token` / `unk_token` /
 *   `pad_token` (what the template sees), `add_bos_token` / `add_eos_token` (override what
 *   tokenizer.json's post-processor adds around a raw completions prompt);
 * - `chat_template.jinja` or `chat_template.json` (optional): the chat template, preferred over
 *   tokenizer_config.json's as transformers does.
 *
 * Ids are computed as vLLM computes them: a chat prompt is the rendered template encoded without
 * added special tokens (the template writes its own, e.g. `<|begin_of_text|>`); a completions
 * prompt gets the post-processor's (`addSpecialTokens`). Added-token text inside messages is
 * matched as that token, as the engine does.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as hfTokenizers from '@huggingface/tokenizers';
import { SwitchyardError } from '../core/index.js';
import { AddedTokenSplitter, ByteLevelBpe, type ByteLevelBpeSpec } from './bpe.js';
import { ChatTemplate } from './chat-template.js';
import { REMOTE_MODEL_URI, type Tokenizer } from './types.js';

/**
 * The part of @huggingface/tokenizers used here, typed here: the package's .d.ts re-exports are
 * extensionless, so under NodeNext resolution its types come out as errors (any).
 */
interface HfLibTokenizer {
  encode(text: string, opts?: { add_special_tokens?: boolean }): { ids: number[] };
  decode(ids: number[], opts?: { skip_special_tokens?: boolean; clean_up_tokenization_spaces?: boolean }): string;
  token_to_id(token: string): number | undefined;
  get_added_tokens_decoder(): Map<number, { content: string }>;
  get_vocab(withAddedTokens?: boolean): Map<string, number>;
  model: { tokens_to_ids: Map<string, number>; encode(tokens: string[]): string[] } | null;
}
const { Tokenizer: HfLibTokenizer, SplitPreTokenizer } = hfTokenizers as unknown as {
  Tokenizer: new (tokenizerJson: object, tokenizerConfig: object) => HfLibTokenizer;
  SplitPreTokenizer: new (config: object) => { pattern: RegExp | null };
};

export interface ModelTokenizer {
  /** The model directory the files came from. */
  readonly dir: string;
  readonly tokenizer: Tokenizer;
  /** The model's chat template; absent when it ships none (chat prompts cannot be reproduced). */
  readonly template: ChatTemplate | undefined;
  /** 'fast': byte-level BPE path (bpe.ts); 'library': @huggingface/tokenizers' encoder (and why). */
  readonly encoder: 'fast' | `library: ${string}`;
  /**
   * Characters one request may tokenize uncached on the gateway's event loop: ~100 ms at worst on
   * the reference machine (fast path ≥2.5M chars/s, the library's ≥0.17M, JIT cold; docs/adr/0017).
   */
  readonly budgetChars: number;
}

/**
 * Load a model's tokenizer from a local directory (or its tokenizer.json file; `file://` allowed).
 * @throws SwitchyardError naming the path: a remote URI, a missing directory or tokenizer.json,
 *   malformed JSON, a tokenizer the library rejects, a chat template that does not parse.
 */
export async function loadHfTokenizer(path: string): Promise<ModelTokenizer> {
  if (REMOTE_MODEL_URI.test(path)) throw new SwitchyardError('invalid_config', `tokenizer '${path}' is not a local path: tokenizers are never downloaded; point at a directory holding tokenizer.json`, { param: 'tokenizer' });
  const local = path.startsWith('file://') ? path.slice('file://'.length) : path;
  const st = await stat(local).catch(() => undefined);
  if (st === undefined) throw new SwitchyardError('invalid_config', `no tokenizer at '${local}': the path does not exist`, { param: 'tokenizer' });
  const dir = st.isDirectory() ? local : dirname(local);
  const tokenizerFile = st.isDirectory() ? join(dir, 'tokenizer.json') : local;
  const json = (await readJson(tokenizerFile, true))!;
  const configFile = join(dir, 'tokenizer_config.json');
  const config = (await readJson(configFile, false)) ?? {};
  let lib: HfLibTokenizer;
  try {
    lib = new HfLibTokenizer(json, config);
  } catch (e) {
    throw new SwitchyardError('invalid_config', `${tokenizerFile}: not a tokenizer the loader understands: ${(e as Error).message}`, { cause: e, param: 'tokenizer' });
  }
  const specials = specialTokens(config);
  const tokenizer = new HfTokenizer(basename(dir), lib, json, config, specials);
  const source = await chatTemplateSource(dir, config, configFile);
  const template = source === undefined ? undefined : new ChatTemplate(source.text, { specialTokens: specials, messages: 'openai', origin: source.file });
  const fast = tokenizer.fast !== null;
  return { dir, tokenizer, template, encoder: fast ? 'fast' : `library: ${tokenizer.why}`, budgetChars: fast ? 256_000 : 16_000 };
}

type Json = Record<string, unknown>;

async function readJson(file: string, required: boolean): Promise<Json | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (!required && (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SwitchyardError('invalid_config', `cannot read ${file}: ${(e as Error).message}`, { cause: e, param: 'tokenizer' });
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new SwitchyardError('invalid_config', `${file} is not valid JSON: ${(e as Error).message}`, { cause: e, param: 'tokenizer' });
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new SwitchyardError('invalid_config', `${file}: expected a JSON object`, { param: 'tokenizer' });
  return v as Json;
}

/** `"<s>"` or `{ "content": "<s>", ... }` → the token text. */
function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && 'content' in v && typeof v.content === 'string') return v.content;
  return undefined;
}

function specialTokens(config: Json): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['bos_token', 'eos_token', 'unk_token', 'pad_token']) {
    const t = tokenText(config[k]);
    if (t !== undefined) out[k] = t;
  }
  return out;
}

/** chat_template.jinja, else chat_template.json, else tokenizer_config.json's (a string, or named templates: 'default'). */
async function chatTemplateSource(dir: string, config: Json, configFile: string): Promise<{ text: string; file: string } | undefined> {
  const jinja = join(dir, 'chat_template.jinja');
  const text = await readFile(jinja, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw new SwitchyardError('invalid_config', `cannot read ${jinja}: ${e.message}`, { cause: e, param: 'tokenizer' });
  });
  if (text !== undefined) return { text, file: jinja };
  const jsonFile = join(dir, 'chat_template.json');
  const fromJson = (await readJson(jsonFile, false))?.chat_template;
  const [value, file] = fromJson !== undefined ? [fromJson, jsonFile] : [config.chat_template, configFile];
  if (typeof value === 'string') return { text: value, file };
  if (Array.isArray(value)) {
    const named = value as { name?: unknown; template?: unknown }[];
    const pick = named.find((t) => t.name === 'default') ?? named[0];
    if (typeof pick?.template === 'string') return { text: pick.template, file };
  }
  if (value !== undefined && value !== null) throw new SwitchyardError('invalid_config', `${file}: chat_template must be a string or a list of { name, template }`, { param: 'tokenizer' });
  return undefined;
}

class HfTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly eosTokenId: number;
  readonly fast: ByteLevelBpe | null = null;
  readonly why: string = '';
  private readonly splitter: AddedTokenSplitter;
  private readonly prefix: readonly number[];
  private readonly suffix: readonly number[];

  constructor(
    readonly name: string,
    private readonly lib: HfLibTokenizer,
    json: Json,
    config: Json,
    specials: Record<string, string>,
  ) {
    const added = [...lib.get_added_tokens_decoder()].map(([id, t]) => ({ id, content: t.content }));
    this.splitter = new AddedTokenSplitter(added);
    this.vocabSize = lib.get_vocab(true).size;
    const idOf = (t: string | undefined): number | undefined => (t === undefined ? undefined : lib.token_to_id(t));
    this.eosTokenId = idOf(specials.eos_token) ?? -1;
    const spec = fastSpec(lib, json, config);
    if (typeof spec === 'string') this.why = spec;
    else {
      try {
        this.fast = new ByteLevelBpe(spec);
      } catch (e) {
        this.why = (e as Error).message;
      }
    }
    [this.prefix, this.suffix] = addedAround(lib, config, idOf(specials.bos_token), this.eosTokenId);
  }

  encode(text: string, opts?: { addSpecialTokens?: boolean }): number[] {
    const out: number[] = opts?.addSpecialTokens === true ? [...this.prefix] : [];
    const fast = this.fast;
    if (fast === null) {
      if (text.length > 0) for (const id of this.lib.encode(text, { add_special_tokens: false }).ids) out.push(id);
    } else {
      this.splitter.scan(text, (s, e) => fast.encodeSection(text.slice(s, e), out), (id) => out.push(id));
    }
    if (opts?.addSpecialTokens === true) out.push(...this.suffix);
    return out;
  }

  decode(ids: readonly number[]): string {
    return ids.length === 0 ? '' : this.lib.decode([...ids], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  /**
   * Cut after every added token: the fast path encodes the text between added tokens section by
   * section, and the leftmost-longest scan of a piece finds the same tokens as the whole text's
   * (a match never crosses the end of an earlier one), so the pieces' ids concatenate exactly.
   */
  get pieces(): ((text: string) => string[]) | undefined {
    if (this.fast === null) return undefined;
    return (text: string) => {
      const out: string[] = [];
      let from = 0;
      this.splitter.scan(text, () => {}, (_id, end) => {
        out.push(text.slice(from, end));
        from = end;
      });
      if (from < text.length) out.push(text.slice(from));
      return out;
    };
  }
}

/** What the post-processor adds around a raw prompt (probed), with tokenizer_config's add_bos_token / add_eos_token overriding. */
function addedAround(lib: HfLibTokenizer, config: Json, bos: number | undefined, eos: number): [number[], number[]] {
  const core = lib.encode('a', { add_special_tokens: false }).ids;
  const all = lib.encode('a', { add_special_tokens: true }).ids;
  let at = 0;
  while (at + core.length <= all.length && !core.every((id, i) => all[at + i] === id)) at++;
  let prefix = at + core.length <= all.length ? all.slice(0, at) : [];
  let suffix = at + core.length <= all.length ? all.slice(at + core.length) : [];
  if (bos !== undefined && config.add_bos_token === true && prefix[0] !== bos) prefix = [bos, ...prefix];
  if (bos !== undefined && config.add_bos_token === false && prefix[0] === bos) prefix = prefix.slice(1);
  if (eos >= 0 && config.add_eos_token === true && suffix.at(-1) !== eos) suffix = [...suffix, eos];
  if (eos >= 0 && config.add_eos_token === false && suffix.at(-1) === eos) suffix = suffix.slice(0, -1);
  return [prefix, suffix];
}

/** The fast path's settings, or why this tokenizer.json needs the library's encoder. */
function fastSpec(lib: HfLibTokenizer, json: Json, config: Json): ByteLevelBpeSpec | string {
  const model = json.model as Json | undefined;
  if (model?.type !== 'BPE') return `model type ${String(model?.type)}`;
  if (model.byte_fallback === true || model.continuing_subword_prefix || model.end_of_word_suffix || (typeof model.dropout === 'number' && model.dropout > 0)) return 'BPE options (byte_fallback, subword affixes or dropout)';
  const norm = json.normalizer as Json | null | undefined;
  if (norm != null && norm.type !== 'NFC') return `normalizer ${String(norm.type)}`;
  if (config.remove_space === true || config.do_lowercase_and_remove_accent === true) return 'remove_space / lowercasing';
  for (const t of (json.added_tokens ?? []) as Json[]) {
    if (t.lstrip === true || t.rstrip === true) return `added token ${String(t.content)} strips whitespace`;
    if (t.normalized === true && norm != null) return `added token ${String(t.content)} is normalized`;
  }
  const split = splitRegex(json.pre_tokenizer as Json | null | undefined);
  if (typeof split === 'string') return split;
  const libModel = lib.model;
  if (libModel === null) return 'no model';
  const raw = model.merges as (string | [string, string])[] | undefined;
  if (!Array.isArray(raw)) return 'no merges';
  const merges = raw.map((m) => (typeof m === 'string' ? (m.split(' ', 2) as [string, string]) : m));
  return {
    vocab: libModel.tokens_to_ids,
    merges,
    split,
    ignoreMerges: model.ignore_merges === true,
    nfc: norm != null,
    longPiece: (s) => libModel.encode([s]).map((t) => libModel.tokens_to_ids.get(t)!),
  };
}

/** GPT-2's pre-tokenizer pattern (ByteLevel with use_regex), as the library writes it. */
const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

function splitRegex(pre: Json | null | undefined): RegExp | string {
  const isByteLevel = (p: Json | undefined, regex: boolean): boolean => p?.type === 'ByteLevel' && p.add_prefix_space !== true && (p.use_regex !== false) === regex;
  if (isByteLevel(pre ?? undefined, true)) return new RegExp(GPT2_SPLIT.source, 'gu');
  const seq = pre?.type === 'Sequence' && Array.isArray(pre.pretokenizers) ? (pre.pretokenizers as Json[]) : [];
  const [split, byteLevel] = seq;
  if (seq.length === 2 && split?.type === 'Split' && split.invert === false && split.behavior === 'Isolated' && isByteLevel(byteLevel, false)) {
    const pattern = new SplitPreTokenizer(split).pattern;
    if (pattern !== null) return new RegExp(pattern.source, pattern.flags);
  }
  return `pre-tokenizer ${String(pre?.type)} (fast path: ByteLevel, or Split + ByteLevel)`;
}
