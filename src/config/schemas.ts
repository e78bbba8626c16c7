/** Reusable zod schema helpers for config files. */
import { z } from 'zod';
import { formatDuration, parseDuration } from '../core/index.js';
import { describeValue } from './path.js';
import { URL_EXAMPLE } from './zod-format.js';

/** Bounds for zodDuration, each as a duration string or a number of ms. */
export interface DurationBounds {
  min?: string | number;
  max?: string | number;
}

/**
 * A duration: `'30s'`, `'1h30m'`, `'250ms'`, or a number of milliseconds → number of ms.
 * Bad input reports core's parseDuration text: `'abc' is not a duration; use a number with a
 * unit, e.g. '250ms', '30s', '5m', '1h30m'`.
 *
 * Defaults: `.default(30_000)` (zod returns defaults as-is, unparsed) or `.prefault('30s')`
 * (parsed like user input).
 */
export function zodDuration(bounds: DurationBounds = {}) {
  const min = bounds.min === undefined ? undefined : parseDuration(bounds.min, 'min');
  const max = bounds.max === undefined ? undefined : parseDuration(bounds.max, 'max');
  return z
    .union([z.string(), z.number()], {
      error: (iss) => `expected a duration like '30s' or a number of milliseconds, got ${describeValue(iss.input)}`,
    })
    .transform((value, ctx) => {
      let ms: number;
      try {
        ms = parseDuration(value, 'duration');
      } catch (e) {
        const message = e instanceof Error ? e.message.replace(/^duration: /, '') : String(e);
        ctx.issues.push({ code: 'custom', message, input: value });
        return z.NEVER;
      }
      if ((min !== undefined && ms < min) || (max !== undefined && ms > max)) {
        ctx.issues.push({ code: 'custom', message: `expected a duration ${rangeText(min, max)}, got ${describeValue(value)}`, input: value });
        return z.NEVER;
      }
      return ms;
    });
}

function rangeText(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `between ${formatDuration(min)} and ${formatDuration(max)}`;
  if (min !== undefined) return `of at least ${formatDuration(min)}`;
  return `of at most ${formatDuration(max ?? Infinity)}`;
}

/** True for absolute http(s) URLs with a host: `http://127.0.0.1:8000`, `https://api.example.com/v1`. */
export function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
}

/**
 * An http(s) URL string. Unlike `z.url()` it rejects `localhost:8000` (which WHATWG URL
 * parses with scheme `localhost:`): `expected a URL like 'http://127.0.0.1:8000', got 'localhost:8000'`.
 */
export function zodHttpUrl() {
  const error = (iss: { input?: unknown }): string => `expected a URL like '${URL_EXAMPLE}', got ${describeValue(iss.input)}`;
  return z.string({ error }).refine(isHttpUrl, { error });
}
