import { describe, expect, it } from 'vitest';
import { sessionKeyOf } from './session-key.js';
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
