import { describe, expect, it } from 'vitest';
import type { ApiKeyResource, ApiKeySpec, TenantResource } from '../api/index.js';
import { ApiKeyIndex } from './apikey-index.js';
import { newApiKeySecret, sha256Hex } from './secrets.js';

const NOW = Date.UTC(2026, 0, 1);
const meta = (name: string) => ({ name, labels: {}, annotations: {}, uid: `u-${name}`, resourceVersion: '1', generation: 1, creationTimestamp: '2026-01-01T00:00:00Z', updateTimestamp: '2026-01-01T00:00:00Z' });
const tenant = (name: string): TenantResource => ({ apiVersion: 'switchyard.dev/v1', kind: 'Tenant', metadata: meta(name), spec: { priority: 1 } });
function key(name: string, secret: string, extra: Partial<ApiKeySpec> = {}): ApiKeyResource {
  return { apiVersion: 'switchyard.dev/v1', kind: 'ApiKey', metadata: meta(name), spec: { tenant: 'acme', hash: sha256Hex(secret), prefix: secret.slice(0, 12), ...extra } };
}

describe('ApiKeyIndex', () => {
  const s1 = newApiKeySecret();
  const index = new ApiKeyIndex();
  index.upsert(tenant('acme'));
  index.upsert(key('acme-aaaaaaaa', s1));

  it('accepts a valid key and returns it with its tenant', () => {
    const r = index.authenticate(s1, NOW);
    expect(r).toMatchObject({ key: { metadata: { name: 'acme-aaaaaaaa' } }, tenant: { metadata: { name: 'acme' } } });
  });

  it('refuses unknown, malformed and look-alike secrets as invalid', () => {
    for (const s of [newApiKeySecret(), '', 'sk-sy-short', `${s1}x`, s1.slice(0, -1), s1.toUpperCase(), `Bearer ${s1}`, 'x'.repeat(100_000)]) {
      expect(index.authenticate(s, NOW), JSON.stringify(s.slice(0, 20))).toEqual({ error: 'invalid' });
    }
  });

  it('refuses a revoked key as revoked, even when it has also expired', () => {
    const s = newApiKeySecret();
    const ix = new ApiKeyIndex();
    ix.upsert(tenant('acme'));
    ix.upsert(key('k', s));
    expect('key' in ix.authenticate(s, NOW)).toBe(true);
    ix.upsert(key('k', s, { revoked: true, expiresAt: '2020-01-01T00:00:00Z' }));
    expect(ix.authenticate(s, NOW)).toEqual({ error: 'revoked' });
  });

  it('refuses a key from its expiry on', () => {
    const s = newApiKeySecret();
    const ix = new ApiKeyIndex();
    ix.upsert(tenant('acme'));
    ix.upsert(key('k', s, { expiresAt: new Date(NOW + 1000).toISOString() }));
    expect('key' in ix.authenticate(s, NOW + 999)).toBe(true);
    expect(ix.authenticate(s, NOW + 1000)).toEqual({ error: 'expired' });
  });

  it('after a rotation the old secret is invalid and the new one works', () => {
    const old = newApiKeySecret();
    const fresh = newApiKeySecret();
    const ix = new ApiKeyIndex();
    ix.upsert(tenant('acme'));
    ix.upsert(key('k', old));
    ix.upsert(key('k', fresh));
    expect(ix.size).toBe(1);
    expect(ix.authenticate(old, NOW)).toEqual({ error: 'invalid' });
    expect('key' in ix.authenticate(fresh, NOW)).toBe(true);
  });

  it('follows watch events: deletions of keys and tenants take effect, other kinds are ignored', () => {
    const s = newApiKeySecret();
    const ix = new ApiKeyIndex();
    expect(ix.apply({ type: 'ADDED', object: key('k', s) })).toBe(true);
    expect(ix.authenticate(s, NOW)).toEqual({ error: 'invalid' }); // tenant not known yet
    expect(ix.apply({ type: 'ADDED', object: tenant('acme') })).toBe(true);
    expect('key' in ix.authenticate(s, NOW)).toBe(true);
    expect(ix.apply({ type: 'DELETED', object: tenant('acme') })).toBe(true);
    expect(ix.authenticate(s, NOW)).toEqual({ error: 'invalid' });
    ix.apply({ type: 'ADDED', object: tenant('acme') });
    ix.apply({ type: 'DELETED', object: key('k', s) });
    expect(ix.authenticate(s, NOW)).toEqual({ error: 'invalid' });
    expect(ix.size).toBe(0);
    const cluster = { apiVersion: 'switchyard.dev/v1', kind: 'Cluster', metadata: meta('c'), spec: { provider: 'local', labels: {}, latency: {}, maxMissedHeartbeats: 3 } } as const;
    expect(ix.apply({ type: 'ADDED', object: cluster })).toBe(false);
  });

  it('fails closed on an unparsable expiry', () => {
    const s = newApiKeySecret();
    const ix = new ApiKeyIndex();
    ix.upsert(tenant('acme'));
    ix.upsert(key('k', s, { expiresAt: 'not a time' }));
    expect(ix.authenticate(s, NOW)).toEqual({ error: 'expired' });
  });
});
