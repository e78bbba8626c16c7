/**
 * Who is calling the data plane, and what they may do: the API key (or admin token) in
 * `Authorization: Bearer …` resolved to a Caller — tenant, key, the models and clusters it may
 * use, its rate limits and priority. The gateway checks the Caller before it reads the body
 * (401), when it looks up the model (404, worded exactly like an unknown model, listing only the
 * models the caller may use), when it builds the candidate endpoints (data residency: only
 * clusters the tenant may use, also on retries), and at the rate limiter (429).
 *
 * Keys come from an ApiKeyIndex kept current by the control plane's watch stream, so revoking a
 * key takes effect on every gateway as soon as the event arrives. Apps may instead present a JWT
 * that names a tenant (jwt.ts, ADR 0015); both become a Caller through `tenantCaller`.
 */
import { SwitchyardError } from '../core/index.js';
import type { ApiKeyResource, TenantResource } from '../api/index.js';
import type { ApiKeyIndex } from '../control/index.js';
import type { Limits } from '../limits/index.js';

export interface Caller {
  /** Tenant name ('' for an admin token or when auth is off). */
  readonly tenant: string;
  /** ApiKey resource name ('' when not a key). */
  readonly keyId: string;
  /** Served model names it may use; undefined = all. */
  readonly allowedModels?: ReadonlySet<string>;
  /** Cluster names it may be routed to; undefined = all. */
  readonly allowedClusters?: ReadonlySet<string>;
  /** Rate limits per key and per tenant; undefined = none. */
  readonly limits?: { readonly key?: Limits; readonly tenant?: Limits };
  /** Fair-sharing weight (tenant priority). */
  readonly priority: number;
  /** Authenticated by a JWT: keyId (`jwt:<sub>`) names no ApiKey resource. */
  readonly jwt?: true;
  /** The tenant's monthly budget and its usage as the control plane last reported it. */
  readonly budget?: CallerBudget;
}

export interface CallerBudget {
  readonly tokensPerMonth?: number;
  readonly usdPerMonth?: number;
  /** Tenant.status.usage: month 'YYYY-MM' and the totals metered so far. */
  readonly usage?: { readonly month: string; readonly inputTokens: number; readonly outputTokens: number; readonly usd: number };
}

/**
 * 429 budget_exceeded once the tenant's metered usage this month (UTC) reached its budget. Usage
 * comes from the control plane's meter through the watch stream, so it trails the traffic by
 * about a flush interval: a tenant can overshoot by what it sends in that time.
 */
export function checkBudget(caller: Caller, nowMs: number): void {
  const b = caller.budget;
  if (b === undefined) return;
  const month = new Date(nowMs).toISOString().slice(0, 7);
  const u = b.usage?.month === month ? b.usage : undefined;
  const tokens = u === undefined ? 0 : u.inputTokens + u.outputTokens;
  const fmt = (n: number) => n.toLocaleString('en-US');
  if (b.tokensPerMonth !== undefined && tokens >= b.tokensPerMonth) {
    throw new SwitchyardError('budget_exceeded', `Tenant '${caller.tenant}' has used its monthly token budget (${fmt(tokens)} of ${fmt(b.tokensPerMonth)} tokens in ${month}); it renews on the 1st (UTC), or an admin can raise spec.budget.tokensPerMonth.`, { detail: { tenant: caller.tenant, month } });
  }
  if (b.usdPerMonth !== undefined && (u?.usd ?? 0) >= b.usdPerMonth) {
    throw new SwitchyardError('budget_exceeded', `Tenant '${caller.tenant}' has used its monthly budget ($${(u?.usd ?? 0).toFixed(2)} of $${b.usdPerMonth.toFixed(2)} in ${month}); it renews on the 1st (UTC), or an admin can raise spec.budget.usdPerMonth.`, { detail: { tenant: caller.tenant, month } });
  }
}

/** Auth off (a gateway from a config file without keys): everyone may do everything. */
export const ANONYMOUS: Caller = Object.freeze({ tenant: '', keyId: '', priority: 1 });

export interface CallerAuth {
  /** @throws SwitchyardError invalid_api_key (401) */
  authenticate(authorization: string | undefined): Caller;
}

export interface ApiKeyAuthOptions {
  index: ApiKeyIndex;
  /** Epoch ms (expiry checks). */
  now?: () => number;
  /**
   * Tokens other than API keys that may use the data plane without limits (e.g. the control
   * plane's admin tokens in `switchyard up`): returns a name when accepted.
   */
  acceptToken?: (token: string) => string | undefined;
}

const ADMIN: Caller = Object.freeze({ tenant: '', keyId: '', priority: 1 });

const MESSAGES = {
  missing: 'You didn\'t provide an API key. Send it in the Authorization header: "Authorization: Bearer sk-sy-…" (keys are created with `switchyard keys create --tenant T`).',
  invalid: 'Incorrect API key provided. Check the key, or create one with `switchyard keys create --tenant T`.',
  revoked: 'This API key has been revoked. Create a new one with `switchyard keys create --tenant T`.',
  expired: 'This API key has expired. Create a new one with `switchyard keys create --tenant T`.',
} as const;

export class ApiKeyAuth implements CallerAuth {
  private readonly now: () => number;
  /** Caller per (key resource, tenant resource) version: resources are replaced, never mutated. */
  private readonly callers = new WeakMap<ApiKeyResource, { tenant: TenantResource; caller: Caller }>();

  constructor(private readonly o: ApiKeyAuthOptions) {
    this.now = o.now ?? Date.now;
  }

  authenticate(authorization: string | undefined): Caller {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m?.[1]) throw new SwitchyardError('invalid_api_key', MESSAGES.missing);
    const token = m[1];
    const r = this.o.index.authenticate(token, this.now());
    if ('error' in r) {
      if (r.error === 'invalid' && this.o.acceptToken?.(token) !== undefined) return ADMIN;
      throw new SwitchyardError('invalid_api_key', MESSAGES[r.error]);
    }
    const known = this.callers.get(r.key);
    if (known && known.tenant === r.tenant) return known.caller;
    const caller = callerOf(r.key, r.tenant);
    this.callers.set(r.key, { tenant: r.tenant, caller });
    return caller;
  }
}

/** The Caller a key of a tenant acts as (pure). */
export function callerOf(key: ApiKeyResource, tenant: TenantResource): Caller {
  return tenantCaller(tenant, { keyId: key.metadata.name, models: key.spec.scopes?.models, keyLimits: key.spec.limits });
}

/** What one credential of a tenant (an API key, a JWT) adds to the tenant's own rules. */
export interface CallerGrant {
  /** Caller.keyId: the ApiKey name, or `jwt:<sub>` for a JWT. */
  readonly keyId: string;
  /** Narrows the tenant's allowedModels (a key's scopes, a JWT's `models` claim). */
  readonly models?: readonly string[] | undefined;
  /** Limits of this credential; default the tenant's keyLimits. */
  readonly keyLimits?: Limits | undefined;
  /** The credential is a JWT (Caller.jwt). */
  readonly jwt?: boolean;
}

/** The ApiKey a usage record names: the key's name, '' for a JWT (or an admin token / no auth). */
export function usageKeyOf(caller: Caller): string {
  return caller.jwt ? '' : caller.keyId;
}

/** The Caller a credential of a tenant acts as (pure): the one place a Tenant's spec becomes a Caller. */
export function tenantCaller(tenant: TenantResource, grant: CallerGrant): Caller {
  const t = tenant.spec;
  const scoped = grant.models;
  let models: Set<string> | undefined;
  if (t.allowedModels && scoped) models = new Set(scoped.filter((m) => t.allowedModels!.includes(m)));
  else if (t.allowedModels || scoped) models = new Set(t.allowedModels ?? scoped);
  const keyLimits = grant.keyLimits ?? t.keyLimits;
  const limits = keyLimits || t.limits ? { ...(keyLimits ? { key: keyLimits } : {}), ...(t.limits ? { tenant: t.limits } : {}) } : undefined;
  return Object.freeze({
    tenant: tenant.metadata.name,
    keyId: grant.keyId,
    ...(models ? { allowedModels: models } : {}),
    ...(t.allowedClusters ? { allowedClusters: new Set(t.allowedClusters) } : {}),
    ...(limits ? { limits } : {}),
    priority: t.priority,
    ...(grant.jwt ? { jwt: true as const } : {}),
    ...(t.budget && (t.budget.tokensPerMonth !== undefined || t.budget.usdPerMonth !== undefined) ? { budget: { ...t.budget, ...(tenant.status?.usage ? { usage: tenant.status.usage } : {}) } } : {}),
  });
}
