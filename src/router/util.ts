/** Small helpers shared by plugins: duration params (router may not import config), hashing. */
import { z } from 'zod';
import { parseDuration } from '../core/index.js';

/** A duration: '10m', '30s', '1h30m', or a number of ms → ms. Re-parsing the output is a no-op. */
export function durationParam() {
  return z
    .union([z.string(), z.number()], { error: "expected a duration like '10m' or a number of milliseconds" })
    .transform((value, ctx) => {
      try {
        return parseDuration(value, 'duration');
      } catch (e) {
        const message = e instanceof Error ? e.message.replace(/^duration: /, '') : String(e);
        ctx.issues.push({ code: 'custom', message, input: value });
        return z.NEVER;
      }
    });
}

/** 32-bit hash of a string: FNV-1a followed by the murmur3 finaliser (good spread for short ids). */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
