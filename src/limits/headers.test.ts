/** rateLimitHeaders / formatResetDuration / rateLimitError: table-driven. */
import { describe, expect, it } from 'vitest';
import { formatResetDuration, rateLimitError, rateLimitHeaders } from './headers.js';
import type { Decision, Reservation } from './types.js';

const reservation: Reservation = { id: 'r', tenantId: 't', keyId: 'k', reservedTokens: 10, bucket: 0 };

describe('formatResetDuration', () => {
  it.each([
    [0, '0s'],
    [-5, '0s'],
    [0.2, '1ms'],
    [17, '17ms'],
    [999, '999ms'],
    [1000, '1s'],
    [1500, '1.5s'],
    [1234, '1.234s'],
    [59_999, '59.999s'],
    [60_000, '1m0s'],
    [360_000, '6m0s'],
    [3_723_000, '1h2m3s'],
  ])('%d ms → %s', (ms, want) => expect(formatResetDuration(ms)).toBe(want));
});

describe('rateLimitHeaders', () => {
  const cases: { name: string; decision: Decision; want: Record<string, string> }[] = [
    { name: 'allowed without limits: no headers', decision: { allowed: true, reservation, status: {} }, want: {} },
    {
      name: 'allowed with both limits',
      decision: { allowed: true, reservation, status: { requests: { limit: 60, remaining: 59, resetMs: 1000 }, tokens: { limit: 1000, remaining: 990, resetMs: 6 } } },
      want: {
        'x-ratelimit-limit-requests': '60', 'x-ratelimit-remaining-requests': '59', 'x-ratelimit-reset-requests': '1s',
        'x-ratelimit-limit-tokens': '1000', 'x-ratelimit-remaining-tokens': '990', 'x-ratelimit-reset-tokens': '6ms',
      },
    },
    {
      name: 'rejected on requests: retry-after rounds up to whole seconds',
      decision: { allowed: false, scope: 'key', limit: 'rpm', limitValue: 2, retryAfterMs: 1200.5, exceedsLimit: false, status: { requests: { limit: 2, remaining: 0, resetMs: 120_000 } } },
      want: { 'x-ratelimit-limit-requests': '2', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '2m0s', 'retry-after': '2', 'retry-after-ms': '1201' },
    },
    {
      name: 'rejected on concurrency: retry-after at least 1 s',
      decision: { allowed: false, scope: 'tenant', limit: 'maxConcurrent', limitValue: 1, retryAfterMs: 3, exceedsLimit: false, status: {} },
      want: { 'retry-after': '1', 'retry-after-ms': '3' },
    },
    {
      name: 'too large: no retry headers',
      decision: { allowed: false, scope: 'key', limit: 'tpm', limitValue: 100, retryAfterMs: 60_000, exceedsLimit: true, status: {} },
      want: {},
    },
  ];
  it.each(cases)('$name', ({ decision, want }) => expect(rateLimitHeaders(decision)).toEqual(want));
});

describe('rateLimitError', () => {
  it('is a retryable 429 naming the scope and limit, or a non-retryable one when the request can never fit', () => {
    const e = rateLimitError({ allowed: false, scope: 'tenant', limit: 'tpm', limitValue: 500, retryAfterMs: 2000, exceedsLimit: false, status: {} });
    expect(e).toMatchObject({ code: 'rate_limit_exceeded', status: 429, retryable: true, detail: { scope: 'tenant', limit: 'tpm', limitValue: 500 } });
    expect(e.message).toContain('tenant');
    expect(rateLimitError({ allowed: false, scope: 'key', limit: 'tpm', limitValue: 5, retryAfterMs: 1, exceedsLimit: true, status: {} })).toMatchObject({ status: 429, retryable: false });
  });
});
