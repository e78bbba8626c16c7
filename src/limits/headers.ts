/**
 * Rendering a decision for the wire: OpenAI-style rate-limit headers and the 429 error. Pure.
 */
import { SwitchyardError } from '../core/index.js';
import type { Decision, RejectedDecision } from './types.js';

/**
 * A duration the way OpenAI's headers write it (Go's Duration.String): `0s`, `17ms`, `1s`,
 * `1.5s`, `6m0s`, `1h2m3s`. Sub-second values are whole milliseconds.
 */
export function formatResetDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total === 0) return '0s';
  if (total < 1000) return `${total}ms`;
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const s = (total % 60_000) / 1000;
  const sec = `${Number.isInteger(s) ? s : s.toFixed(3).replace(/0+$/, '')}s`;
  if (h > 0) return `${h}h${m}m${sec}`;
  if (m > 0) return `${m}m${sec}`;
  return sec;
}

/**
 * Headers for a decision: `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` for each
 * kind that has a limit, and on rejection `retry-after` (whole seconds, at least 1) and
 * `retry-after-ms` (which the OpenAI SDKs honour). A request that can never fit gets no retry headers.
 */
export function rateLimitHeaders(d: Decision): Record<string, string> {
  const h: Record<string, string> = {};
  for (const [kind, s] of [['requests', d.status.requests], ['tokens', d.status.tokens]] as const) {
    if (!s) continue;
    h[`x-ratelimit-limit-${kind}`] = String(s.limit);
    h[`x-ratelimit-remaining-${kind}`] = String(s.remaining);
    h[`x-ratelimit-reset-${kind}`] = formatResetDuration(s.resetMs);
  }
  if (!d.allowed && !d.exceedsLimit) {
    h['retry-after'] = String(Math.max(1, Math.ceil(d.retryAfterMs / 1000)));
    h['retry-after-ms'] = String(Math.max(1, Math.ceil(d.retryAfterMs)));
  }
  return h;
}

const LIMIT_WORDS = { rpm: 'requests per window', tpm: 'tokens per window', maxConcurrent: 'concurrent requests' } as const;

/** The SwitchyardError (rate_limit_exceeded, 429) for a rejection; `retryable` is false when the request can never fit. */
export function rateLimitError(d: RejectedDecision): SwitchyardError {
  const message = d.exceedsLimit
    ? `Request too large: it needs more tokens than the ${d.scope} limit of ${d.limitValue} ${LIMIT_WORDS[d.limit]} allows.`
    : `Rate limit reached for this ${d.scope}: limit ${d.limitValue} ${LIMIT_WORDS[d.limit]}. Retry in ${formatResetDuration(d.retryAfterMs)}.`;
  return new SwitchyardError('rate_limit_exceeded', message, {
    retryable: !d.exceedsLimit,
    detail: { scope: d.scope, limit: d.limit, limitValue: d.limitValue, retryAfterMs: d.retryAfterMs },
  });
}
