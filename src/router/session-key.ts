/** Session-key extraction, shared by session_affinity and consistent_hash so they agree. */
import type { RouteRequest } from './types.js';

/** The header clients use to name a session. */
export const SESSION_HEADER = 'x-session-id';

/**
 * The request's session key: the `x-session-id` header, else the OpenAI `user` field, else the
 * header named by `headerName` (case-insensitive). Empty values count as absent.
 */
export function sessionKeyOf(request: RouteRequest, headerName?: string): string | undefined {
  const h = request.headers[SESSION_HEADER];
  if (h !== undefined && h !== '') return bounded(h);
  if (request.user !== undefined && request.user !== '') return bounded(request.user);
  if (headerName !== undefined) {
    const v = request.headers[headerName.toLowerCase()];
    if (v !== undefined && v !== '') return bounded(v);
  }
  return undefined;
}

/** Keys longer than this are stored as a prefix plus a 64-bit hash of the whole key. */
export const MAX_SESSION_KEY_CHARS = 128;

/**
 * A key of bounded length: pins are kept per key, so a client sending megabyte-long `user`
 * values must not make the pin table hold megabytes per entry.
 */
function bounded(key: string): string {
  if (key.length <= MAX_SESSION_KEY_CHARS) return key;
  // Two FNV-1a passes with different offsets: 64 bits, so distinct long keys do not collide in practice.
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  // The prefix is copied (split/join): a slice would be a V8 sliced string that keeps the whole
  // original key alive for as long as the pin lives.
  const prefix = key.slice(0, 64).split('').join('');
  return `${prefix}…#${(a >>> 0).toString(16).padStart(8, '0')}${(b >>> 0).toString(16).padStart(8, '0')}`;
}
