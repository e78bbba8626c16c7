/**
 * Secrets shared by tokens and API keys: generation, SHA-256 hashing, and constant-time
 * comparison of hashes. Only hashes are ever stored.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { API_KEY_PREFIX } from '../api/index.js';

/** SHA-256 of a secret, lower-case hex. */
export function sha256Hex(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Constant-time equality of two hashes (or any two strings); false when the lengths differ. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** 32 random bytes, base64url (43 characters, 256 bits). */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** A new API key: `sk-sy-` + 43 base64url characters. */
export function newApiKeySecret(): string {
  return API_KEY_PREFIX + randomSecret();
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz';

/** `n` random lower-case letters (names, not secrets). */
export function randomLowercase(n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += LOWER[randomInt(LOWER.length)];
  return out;
}
