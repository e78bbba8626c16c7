/** Conversion of one flag's text (from argv, env or a string default) to its typed value. */
import { closestMatch } from '../config/index.js';
import { formatDuration, parseDuration } from '../core/index.js';
import type { FlagSpec } from './framework-types.js';
import { UsageError } from './framework-types.js';

export type FlagRuntimeValue = string | number | boolean | string[];

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);
const INT = /^[+-]?\d+$/;

/**
 * Parse `raw` for the flag. `origin` names it in errors: `--port`, or `--port (from $PORT)`.
 * @throws UsageError `invalid value 'abc' for --port: expected an integer between 0 and 65535`
 */
export function convertFlagValue(spec: FlagSpec, raw: string, origin: string): FlagRuntimeValue {
  const fail = (hint?: string): never => {
    throw new UsageError(`invalid value '${raw}' for ${origin}: expected ${expectation(spec)}${hint ? ` — ${hint}` : ''}`, origin);
  };
  switch (spec.type) {
    case 'string':
      return raw;
    case 'list':
      return splitList(raw);
    case 'bool': {
      const v = raw.trim().toLowerCase();
      if (TRUE.has(v)) return true;
      if (FALSE.has(v)) return false;
      return fail();
    }
    case 'enum': {
      const values = spec.values ?? [];
      if (values.includes(raw)) return raw;
      const match = closestMatch(raw, values);
      return fail(match === undefined ? undefined : `did you mean '${match}'?`);
    }
    case 'int':
    case 'number': {
      const s = raw.trim();
      const n = spec.type === 'int' ? (INT.test(s) ? Number(s) : NaN) : s === '' ? NaN : Number(s);
      if (!Number.isFinite(n) || !inRange(spec, n)) return fail();
      return n;
    }
    case 'duration': {
      let ms: number;
      try {
        ms = parseDuration(raw, origin);
      } catch {
        return fail();
      }
      if (!inRange(spec, ms)) return fail();
      return ms;
    }
  }
}

/** `'a, b,,c'` → `['a', 'b', 'c']`. */
export function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function inRange(spec: FlagSpec, n: number): boolean {
  return (spec.min === undefined || n >= spec.min) && (spec.max === undefined || n <= spec.max);
}

/** What a valid value looks like, for errors and help: `an integer between 0 and 65535`. */
export function expectation(spec: FlagSpec): string {
  switch (spec.type) {
    case 'string':
      return 'a string';
    case 'list':
      return 'a comma-separated list';
    case 'bool':
      return 'true or false';
    case 'enum':
      return `one of: ${(spec.values ?? []).join(', ')}`;
    case 'int':
      return `an integer${rangeText(spec, String)}`;
    case 'number':
      return `a number${rangeText(spec, String)}`;
    case 'duration':
      return `a duration like '250ms', '30s' or '5m'${rangeText(spec, formatDuration)}`;
  }
}

function rangeText(spec: FlagSpec, show: (n: number) => string): string {
  if (spec.min !== undefined && spec.max !== undefined) return ` between ${show(spec.min)} and ${show(spec.max)}`;
  if (spec.min !== undefined) return ` >= ${show(spec.min)}`;
  if (spec.max !== undefined) return ` <= ${show(spec.max)}`;
  return '';
}

/** The value a flag takes when absent and its env var is unset; undefined when it has none. */
export function defaultValue(spec: FlagSpec, origin: string): FlagRuntimeValue | undefined {
  const d = spec.default;
  if (d === undefined) {
    if (spec.type === 'bool') return false;
    if (spec.type === 'list') return [];
    return undefined;
  }
  if (typeof d === 'string') return convertFlagValue(spec, d, origin);
  if (Array.isArray(d)) return [...(d as readonly string[])];
  return d as number | boolean;
}

/** A default as shown in help: durations as given (`'30s'`) or formatted from ms. */
export function showDefault(spec: FlagSpec): string | undefined {
  const d = spec.default;
  if (d === undefined || d === false || (Array.isArray(d) && d.length === 0)) return undefined;
  if (Array.isArray(d)) return (d as readonly string[]).join(',');
  if (spec.type === 'duration' && typeof d === 'number') return formatDuration(d);
  return String(d);
}
