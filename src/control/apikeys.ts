/**
 * Minting API keys: create, rotate and revoke ApiKey resources. The secret is generated here,
 * returned to the caller once, and never stored, logged or recorded in history: the resource
 * holds its SHA-256 and a display prefix. Generic writes of ApiKeys (POST/PUT/apply) are
 * refused by the HTTP API, so every key comes from here.
 */
import {
  API_KEY_DISPLAY_CHARS,
  validateManifests,
  type ApiKeyResource,
  type ApiKeySpec,
  type CreateApiKeyOptions,
  type RotateApiKeyOptions,
} from '../api/index.js';
import { SwitchyardError, type Clock } from '../core/index.js';
import type { Actor, AdmissionCheck, ResourceService } from './resources.js';
import { newApiKeySecret, randomLowercase, sha256Hex } from './secrets.js';

/** A key as minted: the secret (show it once) and the stored resource. */
export interface MintedKey {
  readonly key: string;
  readonly apiKey: ApiKeyResource;
}

export const LABEL_TENANT = 'switchyard.dev/tenant';

/** `<tenant>-<8 lower-case letters>`, within 63 characters. */
export function apiKeyName(tenant: string): string {
  return `${tenant.slice(0, 54).replace(/-+$/, '')}-${randomLowercase(8)}`;
}

/** Why a generic write of an ApiKey is refused (400). */
export const API_KEY_WRITE_REFUSED =
  "ApiKeys are minted by the server and cannot be created or replaced directly: use 'switchyard keys create --tenant T' (POST /api/v1/tenants/{tenant}/keys), 'switchyard keys rotate NAME' or 'switchyard keys revoke NAME'";

export class ApiKeyService {
  constructor(
    private readonly service: ResourceService,
    private readonly clock: Clock,
  ) {}

  /** Mint a key for a tenant. @throws not_found when the tenant does not exist. */
  async create(tenant: string, opts: CreateApiKeyOptions, actor: Actor): Promise<MintedKey> {
    await this.service.get('Tenant', tenant);
    const expiresAt = this.expiry(opts);
    for (let attempt = 0; ; attempt++) {
      const name = apiKeyName(tenant);
      const key = newApiKeySecret();
      const spec: ApiKeySpec = {
        tenant,
        ...secretFields(key),
        ...(expiresAt ? { expiresAt } : {}),
        ...(opts.scopes ? { scopes: opts.scopes } : {}),
        ...(opts.description !== undefined ? { description: opts.description } : {}),
        ...(opts.limits ? { limits: opts.limits } : {}),
      };
      try {
        return { key, apiKey: await this.write(name, spec, actor, 'create', 'create key') };
      } catch (e) {
        if (!(e instanceof SwitchyardError && e.code === 'already_exists') || attempt >= 4) throw e;
      }
    }
  }

  /** A new secret for the key; the old one stops working. A revoked key cannot be rotated. */
  async rotate(name: string, opts: RotateApiKeyOptions, actor: Actor): Promise<MintedKey> {
    const cur = await this.service.get('ApiKey', name);
    if (cur.spec.revoked) throw new SwitchyardError('conflict', `ApiKey '${name}' is revoked, and revocation is final; create a new key (switchyard keys create --tenant ${cur.spec.tenant})`);
    const key = newApiKeySecret();
    const expiresAt = this.expiry(opts);
    const spec: ApiKeySpec = { ...cur.spec, ...secretFields(key), ...(expiresAt ? { expiresAt } : {}) };
    return { key, apiKey: await this.write(name, spec, actor, 'replace', 'rotate key', cur.metadata.resourceVersion, cur.metadata.labels) };
  }

  /** Revoke the key (idempotent; final). Retried when a concurrent write raced it. */
  async revoke(name: string, actor: Actor): Promise<ApiKeyResource> {
    for (let attempt = 0; ; attempt++) {
      const cur = await this.service.get('ApiKey', name);
      if (cur.spec.revoked) return cur;
      try {
        return await this.write(name, { ...cur.spec, revoked: true }, actor, 'replace', 'revoke key', cur.metadata.resourceVersion, cur.metadata.labels);
      } catch (e) {
        if (!(e instanceof SwitchyardError && e.code === 'conflict') || attempt >= 4) throw e;
      }
    }
  }

  /** The tenant's keys. @throws not_found when the tenant does not exist. */
  async list(tenant: string): Promise<{ items: ApiKeyResource[]; resourceVersion: string }> {
    await this.service.get('Tenant', tenant);
    const all = await this.service.list('ApiKey');
    return { items: all.items.filter((k) => k.spec.tenant === tenant), resourceVersion: all.resourceVersion };
  }

  /** The expiry as an ISO time (UTC), or undefined for none. @throws invalid_argument for a time already past. */
  private expiry(opts: { expiresIn?: number | undefined; expiresAt?: string | undefined }): string | undefined {
    const now = this.clock.epochMs();
    if (opts.expiresIn !== undefined) return new Date(now + opts.expiresIn).toISOString();
    if (opts.expiresAt === undefined) return undefined;
    const at = Date.parse(opts.expiresAt);
    if (at <= now) throw new SwitchyardError('invalid_argument', `expiresAt ${opts.expiresAt} is in the past`, { param: 'expiresAt' });
    return new Date(at).toISOString();
  }

  private async write(name: string, spec: ApiKeySpec, actor: Actor, mode: 'create' | 'replace', note: string, resourceVersion?: string, labels?: Record<string, string>): Promise<ApiKeyResource> {
    const [m] = validateManifests([{ apiVersion: 'switchyard.dev/v1', kind: 'ApiKey', metadata: { name, labels: { ...labels, [LABEL_TENANT]: spec.tenant }, ...(resourceVersion ? { resourceVersion } : {}) }, spec }], `ApiKey/${name}`);
    await this.service.apply([m!], { actor, mode, note });
    return this.service.get('ApiKey', name);
  }
}

function secretFields(key: string): Pick<ApiKeySpec, 'hash' | 'prefix'> {
  return { hash: sha256Hex(key), prefix: key.slice(0, API_KEY_DISPLAY_CHARS) };
}

/** The admission check that an ApiKey's tenant exists (in the store or in the same apply). */
export const apiKeyTenantCheck: AdmissionCheck = async (writes, service) => {
  for (const w of writes) {
    if (w.kind !== 'ApiKey') continue;
    const tenant = (w.spec as { tenant: string }).tenant;
    if (writes.some((o) => o.kind === 'Tenant' && o.name === tenant)) continue;
    if (!(await service.find('Tenant', tenant))) throw new SwitchyardError('not_found', `Tenant '${tenant}' not found (ApiKey '${w.name}' belongs to it)`, { param: 'spec.tenant' });
  }
};
