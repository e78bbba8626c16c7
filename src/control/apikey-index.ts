/**
 * ApiKeyIndex: what a gateway needs to authenticate API keys, fed from ApiKey and Tenant
 * resources (a list, then the watch stream). Pure (no I/O): the secret is hashed with SHA-256,
 * the hash looked up in a Map, and the stored hash compared in constant time.
 *
 *   const index = new ApiKeyIndex();
 *   for await (const ev of client.watch({ kinds: ['ApiKey', 'Tenant'] })) index.apply(ev);
 *   const r = index.authenticate(bearer, Date.now());
 *   if ('error' in r) → 401 (invalid | revoked | expired)
 */
import { API_KEY_PATTERN, type AnyResource, type ApiKeyResource, type TenantResource } from '../api/index.js';
import { sameHash, sha256Hex } from './secrets.js';

export type ApiKeyAuthError = 'invalid' | 'revoked' | 'expired';
export type ApiKeyAuthResult = { readonly key: ApiKeyResource; readonly tenant: TenantResource } | { readonly error: ApiKeyAuthError };

interface Entry {
  readonly key: ApiKeyResource;
  /** expiresAt in epoch ms (Infinity when it never expires). */
  readonly expiresMs: number;
}

export class ApiKeyIndex {
  private readonly byHash = new Map<string, Entry>();
  private readonly hashByName = new Map<string, string>();
  private readonly tenants = new Map<string, TenantResource>();

  /** Keys indexed. */
  get size(): number {
    return this.byHash.size;
  }

  /** The Tenant resource of that name as last seen (replaced on change, never mutated). */
  tenant(name: string): TenantResource | undefined {
    return this.tenants.get(name);
  }

  /** Add or replace an ApiKey or a Tenant (other kinds are ignored). */
  upsert(r: AnyResource): void {
    if (r.kind === 'Tenant') {
      this.tenants.set(r.metadata.name, r);
      return;
    }
    if (r.kind !== 'ApiKey') return;
    this.remove('ApiKey', r.metadata.name);
    const expires = r.spec.expiresAt === undefined ? Infinity : Date.parse(r.spec.expiresAt);
    // An unparsable expiry (never written by the server) counts as expired: fail closed.
    this.byHash.set(r.spec.hash, { key: r, expiresMs: Number.isNaN(expires) ? -Infinity : expires });
    this.hashByName.set(r.metadata.name, r.spec.hash);
  }

  remove(kind: 'ApiKey' | 'Tenant', name: string): void {
    if (kind === 'Tenant') {
      this.tenants.delete(name);
      return;
    }
    const hash = this.hashByName.get(name);
    if (hash === undefined) return;
    this.hashByName.delete(name);
    if (this.byHash.get(hash)?.key.metadata.name === name) this.byHash.delete(hash);
  }

  /** Apply a watch event; returns whether it concerned this index. */
  apply(ev: { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'; readonly object: AnyResource }): boolean {
    const kind = ev.object.kind;
    if (kind !== 'ApiKey' && kind !== 'Tenant') return false;
    if (ev.type === 'DELETED') this.remove(kind, ev.object.metadata.name);
    else this.upsert(ev.object);
    return true;
  }

  /** Drop everything (before a re-list). */
  clear(): void {
    this.byHash.clear();
    this.hashByName.clear();
    this.tenants.clear();
  }

  /**
   * Who a secret belongs to. `invalid` covers a malformed or unknown secret and a key whose
   * tenant is gone; a revoked key is `revoked` even when it has also expired.
   */
  authenticate(secret: string, nowMs: number): ApiKeyAuthResult {
    if (!API_KEY_PATTERN.test(secret)) return { error: 'invalid' };
    const hash = sha256Hex(secret);
    const entry = this.byHash.get(hash);
    if (!entry || !sameHash(entry.key.spec.hash, hash)) return { error: 'invalid' };
    if (entry.key.spec.revoked) return { error: 'revoked' };
    if (nowMs >= entry.expiresMs) return { error: 'expired' };
    const tenant = this.tenants.get(entry.key.spec.tenant);
    if (!tenant) return { error: 'invalid' };
    return { key: entry.key, tenant };
  }
}
