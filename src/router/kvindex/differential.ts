/**
 * Differential testing support (test-only, not exported from ./index.ts): seeded random event
 * streams, a step-by-step comparison of two KvPrefixIndex implementations, and a delta-debugging
 * shrinker that cuts a failing stream down to a minimal one.
 *
 * Streams look like real engines' (documents sharing prefixes, BlockStored runs whose parent is
 * the engine hash of the block before) mixed with noise (random parents, foreign block sizes,
 * short token lists, engine-hash collisions between different contents, removes of unknown
 * hashes, clears, backends that disappear and come back) over a 3-token alphabet with block size
 * 2, so prefixes, aliases and shared blocks are common.
 */
import { Rng } from '../../core/index.js';
import { applyStep, type Step } from './steps.js';
import { kvPrefixHashes } from './hash.js';
import type { KvIndexOptions, KvIndexStats, KvPrefixIndex } from './types.js';

export const DIFF_BLOCK_SIZE = 2;

export interface DiffCase {
  seed: number;
  opts: KvIndexOptions;
  ops: Step[];
  /** Prompts looked up after every op: [tokens, lora]. */
  probes: [number[], number | null][];
}

interface Doc {
  tokens: number[];
  lora: number | null;
}

export function randomCase(seed: number, nOps = 40): DiffCase {
  const rng = new Rng(seed);
  const bs = DIFF_BLOCK_SIZE;
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)]!;
  const nBackends = pick([2, 3, 5, 40]);
  const backend = (): string => `b${Math.min(rng.int(nBackends), rng.int(nBackends))}`;
  const randomTokens = (blocks: number): number[] => Array.from({ length: blocks * bs }, () => 1 + rng.int(3));
  const docs: Doc[] = [];
  for (let d = 0; d < 5; d++) {
    const base = d > 0 && rng.int(2) === 0 ? pick(docs).tokens.slice(0, bs * (1 + rng.int(3))) : [];
    docs.push({ tokens: [...base, ...randomTokens(2 + rng.int(4))], lora: rng.int(6) === 0 ? 1 : null });
  }
  // The "engine": one hash per (lora, prefix) content, sometimes from a tiny space (collisions).
  const engineHashes = new Map<string, bigint>();
  const used: bigint[] = [];
  const smallHash = (): bigint => BigInt(rng.int(24));
  const engineHash = (doc: Doc, blocks: number): bigint => {
    const k = `${doc.lora}|${doc.tokens.slice(0, blocks * bs).join(',')}`;
    let h = engineHashes.get(k);
    if (h === undefined) {
      h = rng.int(5) === 0 ? smallHash() : (BigInt(rng.nextU32()) << 32n) | BigInt(rng.nextU32());
      engineHashes.set(k, h);
    }
    used.push(h);
    return h;
  };
  const ops: Step[] = [];
  const storeRun = (doc: Doc): Step => {
    const len = doc.tokens.length / bs;
    const s = rng.int(len);
    const c = 1 + rng.int(len - s);
    const parent = s === 0 ? null : rng.int(8) === 0 ? smallHash() : engineHash(doc, s);
    const hashes = Array.from({ length: c }, (_, k) => engineHash(doc, s + k + 1));
    let tokens = doc.tokens.slice(s * bs, (s + c) * bs);
    if (rng.int(20) === 0) tokens = tokens.slice(0, tokens.length - 1 - rng.int(bs));
    const step: Step = { store: backend(), hashes, parent, tokens, blockSize: rng.int(25) === 0 ? 3 : bs };
    if (doc.lora !== null) step.lora = doc.lora;
    return step;
  };
  for (let i = 0; i < nOps; i++) {
    const r = rng.int(100);
    if (r < 4 && nBackends > 8) {
      // A shared prefix (system prompt) lands on many backends, each to its own depth.
      const doc = pick(docs);
      const depth = 1 + rng.int(doc.tokens.length / bs);
      for (let b = rng.int(3); b < nBackends; b += 1 + rng.int(3)) {
        const k = 1 + rng.int(depth);
        ops.push({ store: `b${b}`, hashes: Array.from({ length: k }, (_, j) => engineHash(doc, j + 1)), parent: null, tokens: doc.tokens.slice(0, k * bs), blockSize: bs });
      }
    } else if (r < 45) {
      ops.push(storeRun(pick(docs)));
    } else if (r < 55) {
      const n = 1 + rng.int(3);
      ops.push({ store: backend(), hashes: Array.from({ length: n }, smallHash), parent: rng.int(2) === 0 ? null : smallHash(), tokens: randomTokens(n), blockSize: bs });
    } else if (r < 85) {
      const hashes = Array.from({ length: 1 + rng.int(3) }, () => (used.length > 0 && rng.int(4) > 0 ? pick(used) : smallHash()));
      ops.push({ remove: backend(), hashes });
    } else if (r < 92) ops.push({ clear: backend() });
    else ops.push({ drop: backend() });
  }
  const probes: [number[], number | null][] = [];
  for (const d of docs) probes.push([d.tokens, d.lora], [d.tokens, d.lora === null ? 1 : null]);
  for (let k = 0; k < 4; k++) probes.push([randomTokens(1 + rng.int(4)), null]);
  const cap = pick([Infinity, Infinity, 2, 5]);
  return { seed, opts: { blockSize: bs, maxBlocksPerBackend: cap }, ops, probes };
}

const sorted = (m: Map<string, number>): string => [...m].map(([id, k]) => `${id}=${k}`).sort().join(' ');
const counts = (s: KvIndexStats): string => `backends ${s.backends} blocks ${s.blocks} entries ${s.entries} | ${s.perBackend.map((b) => `${b.id}:${b.blocks}/${b.evictions}/${b.unknownParents}/${b.skippedBlocks}`).join(' ')}`;

/**
 * First disagreement between the two after the same op (null: they agree throughout). After
 * every op: return values, stats counts (per backend: blocks/evictions/unknownParents/skipped)
 * and a third of the probes (rotating); after the last op: every probe.
 */
export function firstMismatch(c: Pick<DiffCase, 'opts' | 'ops' | 'probes'>, makeA: (o: KvIndexOptions) => KvPrefixIndex, makeB: (o: KvIndexOptions) => KvPrefixIndex): string | null {
  const a = makeA(c.opts);
  const b = makeB(c.opts);
  const hashes = c.probes.map(([t, lora]) => kvPrefixHashes(t, DIFF_BLOCK_SIZE, { loraId: lora }));
  for (let i = 0; i < c.ops.length; i++) {
    const ra = applyStep(a, c.ops[i]!);
    const rb = applyStep(b, c.ops[i]!);
    if (ra !== rb) return `after op ${i}: returned ${ra}, reference ${rb}`;
    const sa = counts(a.stats());
    const sb = counts(b.stats());
    if (sa !== sb) return `after op ${i}: stats\n  got       ${sa}\n  reference ${sb}`;
    const last = i === c.ops.length - 1;
    for (let p = 0; p < hashes.length; p++) {
      if (!last && (p + i) % 3 !== 0) continue;
      const la = sorted(a.lookup(hashes[p]!));
      const lb = sorted(b.lookup(hashes[p]!));
      if (la !== lb) return `after op ${i}: lookup ${JSON.stringify(c.probes[p])}\n  got       {${la}}\n  reference {${lb}}`;
    }
  }
  return null;
}

/**
 * Delta debugging (ddmin) over the op list, then per-op simplification (fewer blocks per store,
 * fewer hashes per remove, null parents), while `fails` keeps failing. Deterministic.
 */
export function shrinkOps(ops: Step[], fails: (ops: Step[]) => boolean): Step[] {
  let cur = ops;
  let n = 2;
  while (cur.length >= 2) {
    const chunk = Math.ceil(cur.length / n);
    let reduced = false;
    for (let i = 0; i < cur.length; i += chunk) {
      const cand = [...cur.slice(0, i), ...cur.slice(i + chunk)];
      if (fails(cand)) {
        cur = cand;
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (n >= cur.length) break;
      n = Math.min(n * 2, cur.length);
    }
  }
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = 0; i < cur.length; i++) {
      for (const simpler of simplifications(cur[i]!)) {
        const cand = cur.map((s, k) => (k === i ? simpler : s));
        if (fails(cand)) {
          cur = cand;
          changed = true;
          break;
        }
      }
    }
  }
  return cur;
}

function simplifications(s: Step): Step[] {
  const out: Step[] = [];
  if ('store' in s) {
    const bs = s.blockSize ?? DIFF_BLOCK_SIZE;
    for (let k = 0; k < s.hashes.length && s.hashes.length > 1; k++) {
      out.push({ ...s, hashes: s.hashes.slice(0, k), tokens: s.tokens.slice(0, k * bs) }, { ...s, hashes: s.hashes.slice(k + 1), tokens: s.tokens.slice((k + 1) * bs), parent: s.hashes[k]! });
    }
    if (s.parent !== null) out.push({ ...s, parent: null });
  } else if ('remove' in s && s.hashes.length > 1) {
    for (let k = 0; k < s.hashes.length; k++) out.push({ ...s, hashes: s.hashes.filter((_, j) => j !== k) });
  }
  return out;
}

/** One op per line as a JS literal (bigints as `123n`): paste into a test's `steps`. */
export function formatOps(ops: Step[]): string {
  return ops.map((s) => `  ${JSON.stringify(s, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)).replace(/"(\d+n)"/g, '$1')},`).join('\n');
}
