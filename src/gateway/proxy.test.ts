import { validateHeaderValue } from 'node:http';
import { describe, expect, it } from 'vitest';
import { headerSafe } from './proxy.js';

describe('headerSafe (routing reasons as header values)', () => {
  it('spells out the symbols plugins use and replaces other non-ASCII', () => {
    expect(headerSafe('cluster_score→default; cache_aware (match 0.20 ≤ 0.3), softmax τ=0.5')).toBe('cluster_score->default; cache_aware (match 0.20 <= 0.3), softmax tau=0.5');
    expect(headerSafe('naïve\nline')).toBe('na?ve?line');
    expect(headerSafe('x'.repeat(600))).toHaveLength(512);
    expect(headerSafe('plain ascii; 12/14 cached')).toBe('plain ascii; 12/14 cached');
  });

  it('what it returns is accepted by node:http as a header value (a raw reason may not be: that was a 500)', () => {
    expect(() => validateHeaderValue('x-switchyard-route', 'a→b')).toThrow();
    expect(() => validateHeaderValue('x-switchyard-route', headerSafe('a→b ≤ τ ünï\r\n'))).not.toThrow();
  });
});
