import { describe, expect, it } from 'vitest';
import { MAX_SESSION_KEY_CHARS, sessionKeyOf } from './session-key.js';
import { makeRequest } from './testing.js';

describe('sessionKeyOf', () => {
  it.each<[string, Parameters<typeof makeRequest>[0], string | undefined, string | undefined]>([
    ['x-session-id header', { headers: { 'x-session-id': 's1' }, user: 'u' }, undefined, 's1'],
    ['user field when no session header', { user: 'alice' }, undefined, 'alice'],
    ['configured header last', { headers: { 'x-conv': 'c9' } }, 'X-Conv', 'c9'],
    ['user beats the configured header', { headers: { 'x-conv': 'c9' }, user: 'alice' }, 'x-conv', 'alice'],
    ['empty values are absent', { headers: { 'x-session-id': '', 'x-conv': '' }, user: '' }, 'x-conv', undefined],
    ['nothing', {}, 'x-conv', undefined],
  ])('%s', (_name, req, header, expected) => {
    expect(sessionKeyOf(makeRequest(req), header)).toBe(expected);
  });
});

describe('long session keys', () => {
  it('are bounded to a prefix plus a hash, stable and distinct', () => {
    const long = 'u'.repeat(1_000_000);
    const k1 = sessionKeyOf(makeRequest({ user: long }))!;
    expect(k1.length).toBeLessThanOrEqual(MAX_SESSION_KEY_CHARS);
    expect(k1.startsWith('u'.repeat(64))).toBe(true);
    expect(sessionKeyOf(makeRequest({ user: long }))).toBe(k1);
    // Same prefix, one character different at the end: a different key.
    expect(sessionKeyOf(makeRequest({ user: `${long.slice(0, -1)}v` }))).not.toBe(k1);
    expect(sessionKeyOf(makeRequest({ headers: { 'x-session-id': 's'.repeat(MAX_SESSION_KEY_CHARS) } }))).toBe('s'.repeat(MAX_SESSION_KEY_CHARS));
  });
});
