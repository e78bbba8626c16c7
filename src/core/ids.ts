/** Identifiers: random, URL-safe, and prefixed by kind so they are recognisable in logs. */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** A random base62 string with `bits` bits of entropy (rounded up to whole characters). */
export function randomId(bits = 128): string {
  const chars = Math.ceil(bits / Math.log2(ALPHABET.length));
  // Rejection sampling keeps the distribution uniform (256 is not a multiple of 62).
  const out: string[] = [];
  while (out.length < chars) {
    const buf = randomBytes(chars * 2);
    for (const b of buf) {
      if (b < 248) out.push(ALPHABET[b % 62]!);
      if (out.length === chars) break;
    }
  }
  return out.join('');
}

/** `prefix-<random>`, e.g. newId('req') → 'req-3kTq9...'. */
export function newId(prefix: string, bits = 96): string {
  return `${prefix}-${randomId(bits)}`;
}

/** A request id as the OpenAI API shapes them: 'chatcmpl-…', 'cmpl-…'. */
export function openAIId(prefix: 'chatcmpl' | 'cmpl' | 'embd' | 'resp'): string {
  return `${prefix}-${randomId(128)}`;
}

/** Lower-case DNS-1123 label check used for resource names. */
export function isDnsLabel(s: string): boolean {
  return /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(s);
}
