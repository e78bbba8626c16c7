/**
 * "Did you mean …?" suggestions: edit distance and closest-candidate lookup.
 *
 * Used for unknown config fields here and, through this module's index, for unknown CLI
 * commands and flags. Pure functions with no dependencies (a candidate for src/core).
 */

/**
 * Optimal-string-alignment distance: insertions, deletions, substitutions and transpositions of
 * adjacent characters each cost 1, so `tiemout` → `timeout` is 1 (a single swap).
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  const n = b.length;
  // Three rolling rows: i-2, i-1, i.
  let prev2 = new Array<number>(n + 1).fill(0);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  let cur = new Array<number>(n + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= n; j++) {
      const cb = b.charCodeAt(j - 1);
      const cost = ca === cb ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && ca === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === cb) d = Math.min(d, prev2[j - 2]! + 1);
      cur[j] = d;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[n]!;
}

/** Inputs longer than this get no suggestion. */
const MAX_SUGGEST_INPUT = 128;

/**
 * The candidate closest to `input`, or undefined when none is close enough to be a plausible
 * typo. Comparison is case-insensitive. A candidate that starts with `input` (3+ characters)
 * also counts as close (`ver` → `version`).
 */
export function closestMatch(input: string, candidates: Iterable<string>): string | undefined {
  // No typo is this long, and the distance is O(n·m): don't let a huge input cost seconds.
  if (input.length > MAX_SUGGEST_INPUT) return undefined;
  const needle = input.toLowerCase();
  let best: string | undefined;
  let bestScore = Infinity;
  for (const candidate of candidates) {
    const hay = candidate.toLowerCase();
    if (hay === needle) return candidate;
    const d = editDistance(needle, hay);
    const limit = Math.max(1, Math.floor(Math.max(needle.length, hay.length) * 0.4));
    const prefix = needle.length >= 3 && hay.startsWith(needle);
    if (d > limit && !prefix) continue;
    const score = prefix ? Math.min(d, 1.5) : d;
    if (score < bestScore) {
      bestScore = score;
      best = candidate;
    }
  }
  return best;
}
