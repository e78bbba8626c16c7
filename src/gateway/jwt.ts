/**
 * Optional JWT auth for apps on the data plane (ADR 0015). A bearer token shaped like a compact
 * JWS (three base64url segments; API keys never contain a dot) is verified here, with node:crypto
 * only; anything else goes to the inner CallerAuth (the API keys). A valid token names a Tenant in
 * a claim and acts as that tenant, built by the same `tenantCaller` as a key.
 *
 *   const jwks = await JwksSource.open({ location: 'https://idp.example/.well-known/jwks.json', logger });
 *   const auth = new JwtAuth({ inner: new ApiKeyAuth({ index }), tenants: index, jwks, audience: 'switchyard' });
 *
 * Rules: the algorithm allow-list is what has a key (HS256 ⇐ a shared secret, RS256 ⇐ a JWKS), and
 * each algorithm verifies only against its own key material, so an HS256 token "signed" with an
 * RSA public key's bytes finds no secret to match (no algorithm confusion). `exp` is required;
 * `nbf`/`iat` are honoured with a clock-skew tolerance; `iss`/`aud` are checked when configured.
 * Every failure is a 401 `invalid_api_key` whose message says what was wrong and never echoes
 * the token. Verification stays synchronous: an unknown `kid` is a 401 that also starts a
 * (rate-limited) JWKS refresh, so the next request after it succeeds.
 */
import { createHmac, timingSafeEqual, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { NAME_PATTERN, type TenantResource } from '../api/index.js';
import { SwitchyardError } from '../core/index.js';
import type { Logger } from '../observability/index.js';
import { JwksSource, type JwksProvider, type JwksSourceOptions } from './jwks.js';
import { tenantCaller, type Caller, type CallerAuth } from './tenancy.js';

export type JwtAlgorithm = 'HS256' | 'RS256';

/** Longest bearer JWT accepted (characters of the compact form). */
export const MAX_JWT_LENGTH = 8192;
/** Shortest HS256 secret accepted: the size of the hash (RFC 7518 §3.2). */
export const MIN_HS256_SECRET_BYTES = 32;

const BEARER = /^Bearer\s+(\S+)\s*$/i;
const JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

const fail = (what: string): SwitchyardError => new SwitchyardError('invalid_api_key', `Invalid JWT: ${what}.`);

/** The tenants JWTs may name (ApiKeyIndex). */
export interface TenantLookup {
  tenant(name: string): TenantResource | undefined;
}

/** What to accept: keys, issuer, audience, the tenant claim. */
export interface JwtOptions {
  /** HS256 shared secret (≥ 32 bytes). */
  secret?: Uint8Array;
  /** RS256 keys. */
  jwks?: JwksProvider;
  /** Allowed algorithms; default: every algorithm with a key. */
  algorithms?: readonly JwtAlgorithm[];
  /** Required `iss` when set. */
  issuer?: string;
  /** Required in `aud` (a string or an array) when set. */
  audience?: string;
  /** Claim naming the tenant; a dotted path (`org.tenant`) walks nested objects. Default 'tenant'. */
  tenantClaim?: string;
  /** Tolerance for exp/nbf/iat. Default 60 s. */
  clockSkewMs?: number;
  /** Verified tokens remembered (LRU). Default 10,000. */
  cacheSize?: number;
}

export interface JwtAuthOptions extends JwtOptions {
  /** Who handles bearer tokens that are not JWTs (the API keys). */
  inner: CallerAuth;
  tenants: TenantLookup;
  /** Epoch ms. */
  now?: () => number;
}

interface Verified {
  readonly caller: Caller;
  readonly tenant: TenantResource;
  /** The key material it verified against (the secret, or a JwkSet version). */
  readonly keys: object;
  readonly expMs: number;
  readonly nbfMs: number;
}

type Claims = Record<string, unknown>;

export class JwtAuth implements CallerAuth {
  private readonly now: () => number;
  private readonly algorithms: ReadonlySet<JwtAlgorithm>;
  private readonly secret: Buffer | undefined;
  private readonly skewMs: number;
  private readonly tenantClaim: string;
  private readonly cacheSize: number;
  /** token → what it verified to; Map order is the LRU order (oldest first). */
  private readonly cache = new Map<string, Verified>();

  constructor(private readonly o: JwtAuthOptions) {
    this.now = o.now ?? Date.now;
    const algs = o.algorithms ?? [...(o.secret ? (['HS256'] as const) : []), ...(o.jwks ? (['RS256'] as const) : [])];
    if (algs.length === 0) throw new SwitchyardError('invalid_config', 'JWT auth needs a key: a shared secret (--jwt-secret-file) for HS256 or a JWKS (--jwt-jwks) for RS256.');
    if (algs.includes('HS256') && !o.secret) throw new SwitchyardError('invalid_config', 'HS256 is allowed but no shared secret is configured (--jwt-secret-file).');
    if (algs.includes('RS256') && !o.jwks) throw new SwitchyardError('invalid_config', 'RS256 is allowed but no JWKS is configured (--jwt-jwks).');
    if (o.secret && o.secret.length < MIN_HS256_SECRET_BYTES) throw new SwitchyardError('invalid_config', `The HS256 secret is ${o.secret.length} bytes; it must be at least ${MIN_HS256_SECRET_BYTES} (e.g. \`openssl rand -base64 48\`).`, { param: '--jwt-secret-file' });
    this.algorithms = new Set(algs);
    this.secret = o.secret ? Buffer.from(o.secret) : undefined;
    this.skewMs = o.clockSkewMs ?? 60_000;
    this.tenantClaim = o.tenantClaim ?? 'tenant';
    if (this.tenantClaim === '' || this.tenantClaim.split('.').includes('')) throw new SwitchyardError('invalid_config', `The tenant claim '${this.tenantClaim}' is not a claim name or a dotted path like 'org.tenant'.`, { param: '--jwt-tenant-claim' });
    this.cacheSize = Math.max(1, o.cacheSize ?? 10_000);
  }

  authenticate(authorization: string | undefined): Caller {
    const token = BEARER.exec(authorization ?? '')?.[1];
    if (token === undefined || !token.includes('.')) return this.o.inner.authenticate(authorization);
    if (token.length > MAX_JWT_LENGTH) throw fail(`the token is longer than ${MAX_JWT_LENGTH} characters`);
    if (!JWS.test(token)) return this.o.inner.authenticate(authorization);
    const now = this.now();
    const hit = this.cache.get(token);
    if (hit !== undefined) {
      // Expiry is checked on every call; the tenant and the key set must be the versions it was verified with.
      const fresh = this.o.tenants.tenant(hit.tenant.metadata.name) === hit.tenant && (hit.keys === this.secret || hit.keys === this.o.jwks?.current);
      this.cache.delete(token);
      if (fresh) {
        this.checkTimes(hit.expMs, hit.nbfMs, now);
        this.cache.set(token, hit);
        return hit.caller;
      }
    }
    let v: Verified;
    try {
      v = this.check(token, now);
    } catch (e) {
      if (e instanceof SwitchyardError) throw e;
      throw fail('the token could not be parsed');
    }
    this.cache.set(token, v);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    return v.caller;
  }

  private checkTimes(expMs: number, nbfMs: number, now: number): void {
    if (now >= expMs + this.skewMs) throw fail('the token has expired (exp); get a new one from your identity provider');
    if (now + this.skewMs < nbfMs) throw fail('the token is not valid yet (nbf is in the future)');
  }

  private check(token: string, now: number): Verified {
    const [h, p, s] = token.split('.') as [string, string, string];
    const header = decodeJson(h, 'header');
    const alg = header['alg'];
    if (typeof alg !== 'string') throw fail('the header has no alg');
    if (alg.toLowerCase() === 'none') throw fail('unsigned tokens (alg "none") are not accepted');
    const accepted = [...this.algorithms].join(', ');
    if (!this.algorithms.has(alg as JwtAlgorithm)) throw fail(`algorithm ${/^[A-Za-z0-9+_-]{1,16}$/.test(alg) ? alg : '(unprintable)'} is not accepted; this gateway accepts ${accepted}`);
    if (header['crit'] !== undefined) throw fail('the header lists critical extensions (crit) this gateway does not support');
    const signed = Buffer.from(`${h}.${p}`, 'ascii');
    const signature = Buffer.from(s, 'base64url');
    const keys = alg === 'HS256' ? this.verifyHs256(signed, signature) : this.verifyRs256(header, signed, signature);

    const claims = decodeJson(p, 'payload');
    const exp = numericDate(claims, 'exp');
    if (exp === undefined) throw fail('the token has no exp claim; tokens must expire');
    const nbf = numericDate(claims, 'nbf');
    const iat = numericDate(claims, 'iat');
    const expMs = exp * 1000;
    const nbfMs = nbf === undefined ? -Infinity : nbf * 1000;
    this.checkTimes(expMs, nbfMs, now);
    if (iat !== undefined && now + this.skewMs < iat * 1000) throw fail("the token was issued in the future (iat); check the issuer's clock");
    if (this.o.issuer !== undefined && claims['iss'] !== this.o.issuer) throw fail(`the issuer (iss) is not '${this.o.issuer}'`);
    if (this.o.audience !== undefined) {
      const aud = claims['aud'];
      const auds = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
      if (!auds.includes(this.o.audience)) throw fail(`the audience (aud) does not include '${this.o.audience}'`);
    }

    const claim = this.tenantClaim;
    const name = claimAt(claims, claim);
    if (name === undefined) throw fail(`the token has no '${claim}' claim naming its tenant`);
    if (typeof name !== 'string' || !NAME_PATTERN.test(name) || name.length > 63) throw fail(`the '${claim}' claim is not a tenant name`);
    const tenant = this.o.tenants.tenant(name);
    if (tenant === undefined) throw fail(`unknown tenant '${name}' (claim '${claim}')`);
    const sub = claims['sub'];
    if (sub !== undefined && (typeof sub !== 'string' || sub.length === 0 || sub.length > 256)) throw fail('the sub claim is not a string of 1 to 256 characters');
    // `jwt:` keeps JWT subjects apart from ApiKey names (which cannot contain ':') in per-key limits.
    const caller = tenantCaller(tenant, { keyId: `jwt:${sub ?? ''}`, models: modelsClaim(claims), jwt: true });
    return { caller, tenant, keys, expMs, nbfMs };
  }

  /** @returns the key material it verified against */
  private verifyHs256(signed: Buffer, signature: Buffer): object {
    const secret = this.secret!;
    const mac = createHmac('sha256', secret).update(signed).digest();
    if (signature.length !== mac.length || !timingSafeEqual(signature, mac)) throw fail('the signature does not verify');
    return secret;
  }

  private verifyRs256(header: Claims, signed: Buffer, signature: Buffer): object {
    const jwks = this.o.jwks!;
    const set = jwks.current;
    const kid = header['kid'];
    let key: KeyObject | undefined;
    if (kid !== undefined) {
      if (typeof kid !== 'string') throw fail('the header kid is not a string');
      key = set.byKid.get(kid);
      if (key === undefined) {
        jwks.unknownKid?.();
        throw fail("unknown signing key: the token's kid is not in the gateway's JWKS. The gateway refreshes its JWKS when it sees an unknown kid (at most every 30 s) and every 10 minutes, so a key just published is accepted shortly; retry then");
      }
    } else if (set.keys.length === 1) {
      key = set.keys[0];
    } else {
      throw fail(`the header has no kid and the JWKS holds ${set.keys.length} RSA keys; the issuer must set kid`);
    }
    let ok = false;
    try {
      ok = cryptoVerify('RSA-SHA256', signed, key!, signature);
    } catch {
      ok = false;
    }
    if (!ok) throw fail('the signature does not verify');
    return set;
  }
}

function decodeJson(segment: string, what: 'header' | 'payload'): Claims {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw fail(`the ${what} is not base64url-encoded JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw fail(`the ${what} is not a JSON object`);
  return v as Claims;
}

/** A NumericDate claim (seconds since the epoch), or undefined when absent. */
function numericDate(claims: Claims, name: 'exp' | 'nbf' | 'iat'): number | undefined {
  if (!Object.hasOwn(claims, name)) return undefined;
  const v = claims[name];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw fail(`the ${name} claim is not a number of seconds since the epoch`);
  return v;
}

/** A claim by name, or by a dotted path through nested objects (own properties only). */
function claimAt(claims: Claims, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  let cur: unknown = claims;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Claims)[part];
  }
  return cur;
}

/** The optional `models` claim: served model names narrowing the tenant's allowedModels. */
function modelsClaim(claims: Claims): string[] | undefined {
  if (!Object.hasOwn(claims, 'models')) return undefined;
  const m = claims['models'];
  if (!Array.isArray(m) || m.length > 1000 || !m.every((x): x is string => typeof x === 'string' && x.length > 0 && x.length <= 256)) throw fail('the models claim is not a list of model names');
  return m;
}

/** The `--jwt-*` settings of `switchyard gateway` and `switchyard up`. */
export interface JwtConfig {
  jwks?: string | undefined;
  secretFile?: string | undefined;
  issuer?: string | undefined;
  audience?: string | undefined;
  tenantClaim?: string | undefined;
}

/** JwtOptions read from a JwtConfig, and how to stop refreshing its JWKS. */
export interface LoadedJwt {
  readonly options: JwtOptions;
  close(): void;
}

/**
 * Read the keys a JwtConfig names; undefined when JWT auth is off (no --jwt-jwks and no
 * --jwt-secret-file). @throws invalid_argument for flag combinations that make no sense,
 * invalid_config for an unusable secret or JWKS, unavailable for an unreachable JWKS URL
 */
export async function loadJwt(c: JwtConfig, o: { logger?: Logger; jwks?: Omit<JwksSourceOptions, 'location' | 'logger'> } = {}): Promise<LoadedJwt | undefined> {
  if (c.jwks === undefined && c.secretFile === undefined) {
    const stray = (['issuer', 'audience', 'tenantClaim'] as const).find((k) => c[k] !== undefined);
    if (stray) {
      const flag = `--jwt-${stray === 'tenantClaim' ? 'tenant-claim' : stray}`;
      throw new SwitchyardError('invalid_argument', `${flag} needs --jwt-jwks or --jwt-secret-file (JWT auth is off without a key)`, { param: flag });
    }
    return undefined;
  }
  for (const [flag, v] of [['--jwt-issuer', c.issuer], ['--jwt-audience', c.audience], ['--jwt-tenant-claim', c.tenantClaim], ['--jwt-jwks', c.jwks], ['--jwt-secret-file', c.secretFile]] as const) {
    if (v !== undefined && v.trim() === '') throw new SwitchyardError('invalid_argument', `${flag} is empty`, { param: flag });
  }
  let secret: Buffer | undefined;
  if (c.secretFile !== undefined) {
    try {
      secret = await readFile(c.secretFile);
    } catch (e) {
      throw new SwitchyardError('invalid_config', `Cannot read the HS256 secret file ${c.secretFile}: ${(e as NodeJS.ErrnoException).code ?? String(e)}.`, { param: '--jwt-secret-file', cause: e });
    }
    const end = secret.at(-1) === 0x0a ? (secret.at(-2) === 0x0d ? 2 : 1) : 0;
    secret = secret.subarray(0, secret.length - end);
    if (secret.length < MIN_HS256_SECRET_BYTES) throw new SwitchyardError('invalid_config', `The HS256 secret in ${c.secretFile} is ${secret.length} bytes; it must be at least ${MIN_HS256_SECRET_BYTES} (e.g. \`openssl rand -base64 48 > ${c.secretFile}\`).`, { param: '--jwt-secret-file' });
  }
  const jwks = c.jwks === undefined ? undefined : await JwksSource.open({ ...o.jwks, location: c.jwks, ...(o.logger ? { logger: o.logger } : {}) });
  const options: JwtOptions = {
    ...(secret ? { secret } : {}),
    ...(jwks ? { jwks } : {}),
    ...(c.issuer !== undefined ? { issuer: c.issuer } : {}),
    ...(c.audience !== undefined ? { audience: c.audience } : {}),
    ...(c.tenantClaim !== undefined ? { tenantClaim: c.tenantClaim } : {}),
  };
  return { options, close: () => jwks?.close() };
}
