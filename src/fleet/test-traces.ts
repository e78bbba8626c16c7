/**
 * Small synthetic Mooncake traces for tests (and the fixture in testdata/), generated
 * deterministically: no randomness beyond a seeded Rng, nothing downloaded.
 */
import { Rng } from '../core/index.js';
import type { TraceRequest } from './trace.js';

export interface TraceRow {
  timestamp: number;
  input_length: number;
  output_length: number;
  hash_ids: number[];
}

/** Requests with disjoint blocks (nothing shared): `blocks` full 512-token blocks each. */
export function uniformRows(n: number, o: { intervalMs?: number; blocks?: number; output?: number } = {}): TraceRow[] {
  const blocks = o.blocks ?? 4;
  return Array.from({ length: n }, (_, i) => ({
    timestamp: i * (o.intervalMs ?? 100),
    input_length: blocks * 512,
    output_length: o.output ?? 8,
    hash_ids: Array.from({ length: blocks }, (_, k) => i * blocks + k),
  }));
}

/**
 * `groups` long shared prefixes (`prefixBlocks` blocks each, e.g. a system prompt or a document)
 * followed by `suffixBlocks` blocks unique to the request; request i uses prefix `rng.int(groups)`.
 * The last block is partial (input_length = (prefix + suffix) · 512 − 100).
 */
export function sharedPrefixRows(n: number, o: { groups?: number; prefixBlocks?: number; suffixBlocks?: number; intervalMs?: number; output?: number; seed?: number } = {}): TraceRow[] {
  const groups = o.groups ?? 8;
  const pb = o.prefixBlocks ?? 8;
  const sb = o.suffixBlocks ?? 2;
  const rng = new Rng(o.seed ?? 7);
  let next = groups * pb;
  return Array.from({ length: n }, (_, i) => {
    const g = rng.int(groups);
    const prefix = Array.from({ length: pb }, (_, k) => g * pb + k);
    const suffix = Array.from({ length: sb }, () => next++);
    return { timestamp: i * (o.intervalMs ?? 200), input_length: (pb + sb) * 512 - 100, output_length: o.output ?? 4, hash_ids: [...prefix, ...suffix] };
  });
}

/** Rows as JSON Lines. */
export function toJsonl(rows: readonly TraceRow[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

/** Rows as parsed TraceRequests (what parseMooncakeTrace returns for toJsonl(rows)). */
export function toRequests(rows: readonly TraceRow[]): TraceRequest[] {
  return rows.map((r, index) => ({ index, line: index + 1, timestampMs: r.timestamp, inputLength: r.input_length, outputLength: r.output_length, hashIds: r.hash_ids.map(String) }));
}

/** The CLI fixture testdata/tiny_trace.jsonl: 40 requests, 4 shared prefixes of 4 blocks. */
export function tinyTraceRows(): TraceRow[] {
  return sharedPrefixRows(40, { groups: 4, prefixBlocks: 4, suffixBlocks: 1, intervalMs: 150, output: 6, seed: 11 });
}
