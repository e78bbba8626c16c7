/**
 * Deterministic output: the simulated model "writes" real tokens of its tokenizer (cl100k, or a
 * model's with `--tokenizer`) chosen by a seeded PRNG from a vocabulary of common English words
 * that are single tokens, with sentence breaks.
 * The same (seed, prompt) always yields the same token sequence and the same natural length,
 * which makes simulator runs reproducible.
 */
import { hashString32, mixSeeds, Rng } from '../../../core/index.js';
import type { Tokenizer } from '../../../tokenizers/index.js';

const WORDS =
  'the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her she there one all we their has been if more when will would who so no out up into do than only other new some could time these two may then first any like now my such make over our even most after also made many before must through back years where much your way well down should because each just those people how too little state good very world still own see men work long here between both life being under never day same another know while last might us great old year off come since against go came right used take three states himself few house use during without again place around however home small found thought went say part once high upon school every does got united left number course war until always away something fact water though less public put think almost hand enough far took head yet government system better set told nothing night end why called eyes find going look asked later point knew city next program business give group toward young days let room side social present given several order national possible rather second face per among form important often things looked early white case become large big need four within felt children along saw best church ever least power development light thing seemed family interest want members mind country area others done turned although open problem sense certain kind began thus help means';

interface Vocab {
  ids: number[];
  periodId: number;
  commaId: number;
  newlineId: number;
}

const vocabCache = new WeakMap<Tokenizer, Vocab>();

function vocabFor(tok: Tokenizer): Vocab {
  let v = vocabCache.get(tok);
  if (v) return v;
  const ids: number[] = [];
  const pieces = new Set<number>();
  for (const w of new Set(WORDS.split(/\s+/))) {
    const enc = tok.encode(' ' + w);
    if (enc.length === 1) ids.push(enc[0]!);
    for (const id of enc) pieces.add(id);
  }
  // A small vocabulary (a test model's tokenizer) may lack whole words: write word pieces then.
  if (ids.length < 32) ids.push(...[...pieces].filter((id) => !ids.includes(id)));
  const one = (s: string): number => {
    const e = tok.encode(s);
    if (e.length === 0) throw new Error(`tokenizer ${tok.name}: '${JSON.stringify(s)}' has no tokens`);
    return e[0]!;
  };
  v = { ids, periodId: one('.'), commaId: one(','), newlineId: one('\n\n') };
  vocabCache.set(tok, v);
  return v;
}

export interface GeneratedSequence {
  /** Token at output position i (positions are generated in order, then memoized). */
  tokenAt(i: number): number;
  /** Output length at which the simulated model ends its answer (EOS), absent ignore_eos. */
  naturalLength: number;
}

/** Create the output sequence for a prompt. `seed` defaults to 0 (deterministic). */
export function generateSequence(tok: Tokenizer, promptIds: readonly number[], seed = 0): GeneratedSequence {
  const v = vocabFor(tok);
  let h = 0x811c9dc5;
  for (const id of promptIds) h = Math.imul(h ^ id, 0x01000193) >>> 0;
  const rng = new Rng(mixSeeds(seed >>> 0, h, promptIds.length));
  // Answers average ~120 tokens with a long tail, between 8 and 1024 tokens.
  const naturalLength = Math.min(1024, 8 + Math.floor(rng.exp(112)));
  const out: number[] = [];
  let sinceBreak = 0;
  const tokenAt = (i: number): number => {
    while (out.length <= i) {
      const r = rng.next();
      if (sinceBreak > 6 && r < 0.12) {
        out.push(v.periodId);
        sinceBreak = 0;
      } else if (sinceBreak > 3 && r < 0.17) {
        out.push(v.commaId);
        sinceBreak++;
      } else if (sinceBreak === 0 && out.length > 0 && r > 0.96) {
        out.push(v.newlineId);
      } else {
        out.push(v.ids[rng.int(v.ids.length)]!);
        sinceBreak++;
      }
    }
    return out[i]!;
  };
  return { tokenAt, naturalLength };
}

/** Hash a string seed (e.g. a `user` field) into a 32-bit seed. */
export function seedFromString(s: string): number {
  return hashString32(s);
}
