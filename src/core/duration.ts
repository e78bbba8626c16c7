/**
 * Durations such as '250ms', '30s', '5m', '1h30m', '2d'.
 * A bare number is read as milliseconds.
 */
import { SwitchyardError } from './errors.js';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;

/** Parse a duration to milliseconds. Throws invalid_argument with a fix-it message. */
export function parseDuration(input: string | number, param = 'duration'): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw bad(String(input), param);
    return input;
  }
  const s = input.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  if (s.length === 0) throw bad(input, param);
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  let m: RegExpExecArray | null;
  while ((m = PART.exec(s)) !== null) {
    total += Number(m[1]) * (UNIT_MS[m[2]!] ?? NaN);
    consumed = PART.lastIndex;
  }
  if (consumed !== s.length || !Number.isFinite(total)) throw bad(input, param);
  return total;
}

/** Format milliseconds compactly: 90000 → '1m30s', 250 → '250ms'. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 1000) return `${Math.round(ms * 1000) / 1000}ms`;
  let rest = Math.round(ms);
  const out: string[] = [];
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (rest >= size) {
      const n = Math.floor(rest / size);
      out.push(`${n}${unit}`);
      rest -= n * size;
    }
  }
  if (rest > 0) out.push(`${rest}ms`);
  return out.join('');
}

function bad(input: string, param: string): SwitchyardError {
  return new SwitchyardError(
    'invalid_argument',
    `${param}: '${input}' is not a duration; use a number with a unit, e.g. '250ms', '30s', '5m', '1h30m'`,
    { param },
  );
}
