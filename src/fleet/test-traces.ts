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
  session_id?: string;
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

export interface ChatOptions {
  /** Conversations (default 200). */
  readonly sessions?: number;
  /** Distinct system prompts shared by the sessions (default 16); popularity skewed (u² law). */
  readonly systemPrompts?: number;
  /** Full 512-token blocks per system prompt, [min, max] (default [2, 8]). */
  readonly systemBlocks?: readonly [number, number];
  /** Turns per session, [min, max] (default [2, 10]). */
  readonly turns?: readonly [number, number];
  /** Tokens of each user message, [min, max] (default [50, 600]). */
  readonly userTokens?: readonly [number, number];
  /** Tokens of each answer (output_length), [min, max] (default [50, 400]). */
  readonly outputTokens?: readonly [number, number];
  /** Mean gap between session starts, ms (exponential; default 500). */
  readonly sessionGapMs?: number;
  /** Mean gap between a session's turns, ms (exponential, plus 2 s; default 20 s). */
  readonly thinkMs?: number;
  readonly seed?: number;
}

/**
 * Multi-turn chat with shared system prompts: each session picks a system prompt (skewed
 * popularity), then sends `turns` requests with `session_id`; turn t's prompt is the system
 * prompt + the conversation so far (every earlier user message and answer) + the new message.
 * Block ids: system prompt p's block k is p·64 + k; the conversation's block j of session s is
 * 10⁶ + s·1000 + j, so each turn's prompt extends the previous turn's (a partial last block
 * becomes full in the next turn, as a real token stream would). Rows sorted by timestamp.
 */
export function chatRows(o: ChatOptions = {}): TraceRow[] {
  const rng = new Rng(o.seed ?? 5);
  const between = (r: readonly [number, number]): number => r[0] + rng.int(r[1] - r[0] + 1);
  const prompts = o.systemPrompts ?? 16;
  const sysBlocks = Array.from({ length: prompts }, () => between(o.systemBlocks ?? [2, 8]));
  const rows: TraceRow[] = [];
  let start = 0;
  for (let s = 0; s < (o.sessions ?? 200); s++) {
    start += rng.exp(o.sessionGapMs ?? 500);
    const p = Math.floor(rng.next() ** 2 * prompts);
    const sys = Array.from({ length: sysBlocks[p]! }, (_, k) => p * 64 + k);
    const turns = between(o.turns ?? [2, 10]);
    let at = start;
    let conv = 0;
    for (let t = 0; t < turns; t++) {
      if (t > 0) at += 2000 + rng.exp(o.thinkMs ?? 20_000);
      conv += between(o.userTokens ?? [50, 600]);
      const output = between(o.outputTokens ?? [50, 400]);
      const hash_ids = [...sys, ...Array.from({ length: Math.ceil(conv / 512) }, (_, j) => 1_000_000 + s * 1000 + j)];
      rows.push({ timestamp: Math.round(at), input_length: sys.length * 512 + conv, output_length: output, hash_ids, session_id: `chat-${s}` });
      conv += output;
    }
  }
  return rows.sort((a, b) => a.timestamp - b.timestamp);
}

/** Rows as JSON Lines. */
export function toJsonl(rows: readonly TraceRow[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

/** Rows as parsed TraceRequests (what parseMooncakeTrace returns for toJsonl(rows)). */
export function toRequests(rows: readonly TraceRow[]): TraceRequest[] {
  return rows.map((r, index) => ({
    index,
    line: index + 1,
    timestampMs: r.timestamp,
    inputLength: r.input_length,
    outputLength: r.output_length,
    hashIds: r.hash_ids.map(String),
    ...(r.session_id === undefined ? {} : { sessionId: r.session_id }),
  }));
}

/** The CLI fixture testdata/tiny_trace.jsonl: 40 requests, 4 shared prefixes of 4 blocks. */
export function tinyTraceRows(): TraceRow[] {
  return sharedPrefixRows(40, { groups: 4, prefixBlocks: 4, suffixBlocks: 1, intervalMs: 150, output: 6, seed: 11 });
}
