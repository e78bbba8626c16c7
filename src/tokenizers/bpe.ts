/**
 * A fast encoder for byte-level BPE tokenizer.json files (the GPT-2 / Llama 3 / Qwen family), and
 * the added-token splitter it and PromptTokenizer share.
 *
 * @huggingface/tokenizers encodes these at 0.1–0.9M characters/s on the reference machine (its
 * byte-to-character mapping allocates strings per pre-token); this does the same work on token ids
 * with a pre-token cache, 7–15× faster (`npm run bench:tokenizers`, docs/adr/0017). It follows that
 * library step for step — split
 * on added tokens (leftmost-longest, as its DictionarySplitter), NFC per section when the
 * normalizer is NFC, the Split regex as the library translates it, then BPE merging the leftmost
 * lowest-ranked pair first (its heap order) — and hf.test.ts checks it against the library on
 * random and real text. Tokenizers it does not cover use the library's encoder.
 */

export interface AddedTokenSpec {
  readonly id: number;
  readonly content: string;
}

/** Leftmost-longest matcher of added-token strings (e.g. `<|eot_id|>`) in text. */
export class AddedTokenSplitter {
  private readonly trie = new Map<string, TrieNode>();
  /** UTF-16 units that start some added token: other positions are skipped without a trie lookup. */
  private readonly starts = new Uint8Array(65_536);
  readonly size: number;

  constructor(tokens: readonly AddedTokenSpec[]) {
    for (const t of tokens) {
      if (t.content.length > 0) this.starts[t.content.charCodeAt(0)] = 1;
      let level = this.trie;
      let node: TrieNode | undefined;
      for (const ch of t.content.split('')) {
        node = level.get(ch);
        if (node === undefined) level.set(ch, (node = { next: new Map(), id: -1, len: 0 }));
        level = node.next;
      }
      if (node !== undefined) [node.id, node.len] = [t.id, t.content.length];
    }
    this.size = tokens.length;
  }

  /** The longest added token starting at `i`: [id, length], or undefined. */
  matchAt(text: string, i: number): [number, number] | undefined {
    let level = this.trie;
    let found: [number, number] | undefined;
    for (let j = i; j < text.length; j++) {
      const node = level.get(text[j]!);
      if (node === undefined) break;
      if (node.id >= 0) found = [node.id, node.len];
      level = node.next;
    }
    return found;
  }

  /** Calls `text(start, end)` for each stretch between added tokens and `token(id, end)` for each added token, in order. */
  scan(text: string, onText: (start: number, end: number) => void, onToken: (id: number, end: number) => void): void {
    let start = 0;
    let i = 0;
    while (i < text.length) {
      const m = this.starts[text.charCodeAt(i)] === 1 ? this.matchAt(text, i) : undefined;
      if (m === undefined) {
        i++;
        continue;
      }
      if (i > start) onText(start, i);
      i += m[1];
      onToken(m[0], i);
      start = i;
    }
    if (start < text.length) onText(start, text.length);
  }
}

interface TrieNode {
  next: Map<string, TrieNode>;
  id: number;
  len: number;
}

export interface ByteLevelBpeSpec {
  /** Model vocabulary (token string → id), byte-level characters. */
  vocab: ReadonlyMap<string, number>;
  merges: readonly (readonly [string, string])[];
  /** Pre-token regex (global); null: each section is one pre-token. */
  split: RegExp | null;
  /** Use a whole pre-token that is in the vocabulary as it is (tokenizer.json `ignore_merges`). */
  ignoreMerges: boolean;
  /** Apply NFC to each section first. */
  nfc: boolean;
  /** BPE for pre-tokens longer than LONG_PIECE bytes (the library's heap-based merge, O(n log n)). */
  longPiece: (byteLevel: string) => number[];
}

const LONG_PIECE = 128;
const CACHE_ENTRIES = 65_536;

export class ByteLevelBpe {
  private readonly byteId = new Int32Array(256);
  private readonly byteChar: string[] = [];
  /** (left id · stride + right id) → rank; mergedId[rank] is the result. */
  private readonly rank = new Map<number, number>();
  private readonly mergedId: number[] = [];
  private readonly stride: number;
  private readonly cache = new Map<string, readonly number[]>();
  private readonly encoder = new TextEncoder();

  /** @throws Error when the vocabulary is not byte-level BPE (a byte or a merge result missing). */
  constructor(private readonly spec: ByteLevelBpeSpec) {
    this.byteChar = byteLevelChars();
    this.byteChar.forEach((c, b) => {
      const id = spec.vocab.get(c);
      if (id === undefined) throw new Error(`byte ${b} (${c}) is not in the vocabulary`);
      this.byteId[b] = id;
    });
    let max = 0;
    for (const id of spec.vocab.values()) max = Math.max(max, id);
    this.stride = max + 1;
    spec.merges.forEach(([a, b], r) => {
      const ia = spec.vocab.get(a);
      const ib = spec.vocab.get(b);
      const im = spec.vocab.get(a + b);
      if (ia === undefined || ib === undefined || im === undefined) throw new Error(`merge ${r} (${a} ${b}) names a token that is not in the vocabulary`);
      const key = ia * this.stride + ib;
      if (!this.rank.has(key)) this.rank.set(key, r);
      this.mergedId[r] = im;
    });
  }

  /** Appends the ids of one section (text between added tokens) to `out`. */
  encodeSection(section: string, out: number[]): void {
    const text = this.spec.nfc ? section.normalize('NFC') : section;
    const re = this.spec.split;
    if (re === null) {
      this.piece(text, out);
      return;
    }
    // The library's regex_split: matches and the gaps between them, in order.
    let prev = 0;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      if (m.index > prev) this.piece(text.slice(prev, m.index), out);
      this.piece(m[0], out);
      prev = m.index + m[0].length;
    }
    if (prev < text.length) this.piece(text.slice(prev), out);
  }

  private piece(p: string, out: number[]): void {
    let ids = this.cache.get(p);
    if (ids === undefined) {
      ids = this.bpe(p);
      if (this.cache.size >= CACHE_ENTRIES) this.cache.clear();
      this.cache.set(p, ids);
    }
    for (const id of ids) out.push(id);
  }

  private bpe(p: string): number[] {
    const bytes = this.encoder.encode(p);
    if (this.spec.ignoreMerges || bytes.length > LONG_PIECE) {
      let s = '';
      for (const b of bytes) s += this.byteChar[b]!;
      const whole = this.spec.ignoreMerges ? this.spec.vocab.get(s) : undefined;
      if (whole !== undefined) return [whole];
      if (bytes.length > LONG_PIECE) return this.spec.longPiece(s);
    }
    const w: number[] = Array.from(bytes, (b) => this.byteId[b]!);
    const stride = this.stride;
    for (;;) {
      let best = Infinity;
      let at = -1;
      for (let i = 0; i + 1 < w.length; i++) {
        const r = this.rank.get(w[i]! * stride + w[i + 1]!);
        if (r !== undefined && r < best) [best, at] = [r, i];
      }
      if (at < 0) return w;
      w[at] = this.mergedId[best]!;
      w.splice(at + 1, 1);
    }
  }
}

/** GPT-2's byte → printable character map used by byte-level BPE vocabularies. */
export function byteLevelChars(): string[] {
  const out: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    out.push(String.fromCodePoint(printable ? b : 256 + extra++));
  }
  return out;
}
