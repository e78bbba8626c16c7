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
  if (h !== undefined && h !== '') return h;
  if (request.user !== undefined && request.user !== '') return request.user;
  if (headerName !== undefined) {
    const v = request.headers[headerName.toLowerCase()];
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
}
