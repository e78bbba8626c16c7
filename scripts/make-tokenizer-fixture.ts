/**
 * Generates a small but real Hugging Face tokenizer for tests, with no download: a byte-level BPE
 * `tokenizer.json` (Llama-3 pre-tokenizer regex, merges learned here from the repository's own
 * Markdown docs) and a `tokenizer_config.json` with Llama-3-style special tokens and chat template.
 *
 *   npx tsx scripts/make-tokenizer-fixture.ts [outDir] [merges]
 *
 * Default: test/fixtures/tokenizers/tiny-llama3, 2000 merges. The output is committed; rerunning
 * after the docs change gives a different (equally valid) vocabulary.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Llama 3's pre-tokenizer split pattern (Oniguruma syntax, as tokenizer.json stores it). */
export const LLAMA3_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
/** The same pattern in JavaScript syntax (for training). */
const SPLIT_JS = /'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;

export const SPECIAL_TOKENS = ['<|begin_of_text|>', '<|end_of_text|>', '<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>'] as const;

/** A Llama-3-style chat template (bos, then header + trimmed content + <|eot_id|> per message). */
export const LLAMA3_STYLE_TEMPLATE =
  "{{- bos_token }}{%- for message in messages %}{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}";

/** GPT-2's byte → printable character map used by byte-level BPE. */
export function byteChars(): string[] {
  const out: string[] = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    out[b] = String.fromCodePoint(printable ? b : 256 + extra++);
  }
  return out;
}

/** Learn `count` byte-level BPE merges from `corpus` (most frequent pair first, ties by text). */
export function learnMerges(corpus: string, count: number): [string, string][] {
  const bc = byteChars();
  const enc = new TextEncoder();
  const freq = new Map<string, number>();
  for (const m of corpus.matchAll(SPLIT_JS)) {
    const w = Array.from(enc.encode(m[0]), (b) => bc[b]!).join('');
    freq.set(w, (freq.get(w) ?? 0) + 1);
  }
  const words = [...freq].map(([w, n]) => ({ syms: Array.from(w), n }));
  const pairs = new Map<string, number>();
  const where = new Map<string, Set<number>>();
  const key = (a: string, b: string): string => `${a}\u0000${b}`;
  const addPairs = (i: number, sign: 1 | -1): void => {
    const { syms, n } = words[i]!;
    for (let j = 0; j + 1 < syms.length; j++) {
      const k = key(syms[j]!, syms[j + 1]!);
      pairs.set(k, (pairs.get(k) ?? 0) + sign * n);
      if (sign > 0) (where.get(k) ?? where.set(k, new Set()).get(k)!).add(i);
    }
  };
  words.forEach((_, i) => addPairs(i, 1));
  const merges: [string, string][] = [];
  while (merges.length < count) {
    let best: string | undefined;
    let bestN = 1;
    for (const [k, n] of pairs) if (n > bestN || (n === bestN && best !== undefined && k < best)) [best, bestN] = [k, n];
    if (best === undefined) break;
    const [a, b] = best.split('\u0000') as [string, string];
    merges.push([a, b]);
    for (const i of where.get(best) ?? []) {
      addPairs(i, -1);
      const syms = words[i]!.syms;
      const next: string[] = [];
      for (let j = 0; j < syms.length; j++) {
        if (syms[j] === a && syms[j + 1] === b) {
          next.push(a + b);
          j++;
        } else next.push(syms[j]!);
      }
      words[i]!.syms = next;
      addPairs(i, 1);
    }
    pairs.delete(best);
    where.delete(best);
  }
  return merges;
}

/** tokenizer.json + tokenizer_config.json contents for the merges. */
export function buildFixture(merges: readonly [string, string][]): { tokenizer: object; config: object } {
  const vocab: Record<string, number> = {};
  byteChars().forEach((c, i) => (vocab[c] = i));
  for (const [a, b] of merges) vocab[a + b] ??= Object.keys(vocab).length;
  const base = Object.keys(vocab).length;
  const added = SPECIAL_TOKENS.map((content, i) => ({ id: base + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  const bos = added[0]!;
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: LLAMA3_SPLIT }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: bos.content, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: bos.content, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: bos.content, type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { [bos.content]: { id: bos.content, ids: [bos.id], tokens: [bos.content] } },
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: true, vocab, merges },
  };
  const config = {
    bos_token: '<|begin_of_text|>',
    eos_token: '<|eot_id|>',
    clean_up_tokenization_spaces: true,
    model_max_length: 131072,
    tokenizer_class: 'PreTrainedTokenizerFast',
    added_tokens_decoder: Object.fromEntries(added.map(({ id, ...t }) => [String(id), t])),
    chat_template: LLAMA3_STYLE_TEMPLATE,
  };
  return { tokenizer, config };
}

function corpusOf(root: string): string {
  const files = [join(root, 'README.md'), ...['docs', 'docs/adr'].flatMap((d) => readdirSync(join(root, d)).filter((f) => f.endsWith('.md')).sort().map((f) => join(root, d, f)))];
  return files.map((f) => readFileSync(f, 'utf8')).join('\n\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2] ?? 'test/fixtures/tokenizers/tiny-llama3';
  const count = Number(process.argv[3] ?? 2000);
  const t0 = performance.now();
  const merges = learnMerges(corpusOf(process.cwd()), count);
  const { tokenizer, config } = buildFixture(merges);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'tokenizer.json'), JSON.stringify(tokenizer) + '\n');
  writeFileSync(join(out, 'tokenizer_config.json'), JSON.stringify(config, null, 2) + '\n');
  console.log(`${out}: ${merges.length} merges learned in ${Math.round(performance.now() - t0)} ms`);
}
