/**
 * The RSA keys JWT auth verifies against (ADR 0015): a JWKS document (`{"keys": [...]}`) read from
 * a file or an http(s) URL, parsed into its usable RS256 verification keys, and refreshed.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { SwitchyardError } from '../core/index.js';
import type { Logger } from '../observability/index.js';

/** Weakest RSA key accepted from a JWKS. */
const MIN_RSA_BITS = 2048;
/** Largest JWKS document read from a file or URL. */
const MAX_JWKS_BYTES = 1 << 20;

/** RSA verification keys of one JWKS version: replaced as a whole on refresh, never mutated. */
export interface JwkSet {
  readonly byKid: ReadonlyMap<string, KeyObject>;
  /** Every usable key (a token without `kid` uses the only one, if there is exactly one). */
  readonly keys: readonly KeyObject[];
}

/** Where JwtAuth gets its RSA keys: a fixed set, or a JwksSource that refreshes. */
export interface JwksProvider {
  readonly current: JwkSet;
  /** A token named a kid not in `current`: refresh soon (rate-limited); never throws. */
  unknownKid?(): void;
}

/**
 * Parse a JWKS document (`{"keys": [...]}`) into its usable RSA signature keys. Keys of another
 * type, for another use or algorithm, weaker than 2048 bits, with private parts, or repeating a
 * kid are skipped (and listed in `skipped`). @throws invalid_config when none is usable
 */
export function parseJwks(doc: unknown, where: string): { set: JwkSet; skipped: string[]; fingerprint: string } {
  const list = typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? (doc as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(list)) throw new SwitchyardError('invalid_config', `The JWKS at ${where} is not a JSON object with a "keys" array.`, { param: '--jwt-jwks' });
  const byKid = new Map<string, KeyObject>();
  const keys: KeyObject[] = [];
  const skipped: string[] = [];
  const used: string[] = [];
  list.forEach((raw: unknown, i) => {
    const jwk = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const kid = jwk['kid'];
    const label = `key ${i}${typeof kid === 'string' ? ` (kid '${kid}')` : ''}`;
    const why = unusable(jwk, byKid);
    if (why !== undefined) return void skipped.push(`${label}: ${why}`);
    let key: KeyObject;
    try {
      key = createPublicKey({ key: { kty: 'RSA', n: jwk['n'], e: jwk['e'] } as JsonWebKey, format: 'jwk' });
    } catch {
      return void skipped.push(`${label}: not a valid RSA public key`);
    }
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    const e = key.asymmetricKeyDetails?.publicExponent ?? 0n;
    if (bits < MIN_RSA_BITS) return void skipped.push(`${label}: ${bits}-bit modulus, below ${MIN_RSA_BITS}`);
    if (e < 3n || e % 2n === 0n) return void skipped.push(`${label}: public exponent ${e} is not an odd number of at least 3`);
    keys.push(key);
    if (typeof kid === 'string') byKid.set(kid, key);
    used.push(`${typeof kid === 'string' ? kid : ''}:${String(jwk['n'])}:${String(jwk['e'])}`);
  });
  if (keys.length === 0) throw new SwitchyardError('invalid_config', `The JWKS at ${where} has no usable RSA signing key${skipped.length > 0 ? ` (${skipped.join('; ')})` : ''}.`, { param: '--jwt-jwks' });
  return { set: { byKid, keys }, skipped, fingerprint: used.join('\n') };
}

function unusable(jwk: Record<string, unknown>, byKid: ReadonlyMap<string, KeyObject>): string | undefined {
  const { kty, use, alg, kid, key_ops: ops } = jwk;
  if (kty !== 'RSA') return `kty ${JSON.stringify(kty) ?? 'missing'} is not RSA`;
  if (use !== undefined && use !== 'sig') return `use ${JSON.stringify(use)} is not "sig"`;
  if (alg !== undefined && alg !== 'RS256') return `alg ${JSON.stringify(alg)} is not "RS256"`;
  if (ops !== undefined && !(Array.isArray(ops) && ops.includes('verify'))) return 'key_ops does not include "verify"';
  if (kid !== undefined && typeof kid !== 'string') return 'kid is not a string';
  if (typeof kid === 'string' && byKid.has(kid)) return 'repeats a kid';
  if (jwk['d'] !== undefined) return 'holds a private key (d); publish public keys only';
  if (typeof jwk['n'] !== 'string' || typeof jwk['e'] !== 'string') return 'n or e missing';
  return undefined;
}

export interface JwksSourceOptions {
  /** A file path or an http(s) URL serving `{"keys": [...]}`. */
  location: string;
  logger?: Logger;
  /** Re-read every so often. Default 10 min. */
  refreshIntervalMs?: number;
  /** At most one refresh for unknown kids per this interval. Default 30 s. */
  minRefreshIntervalMs?: number;
  /** Per fetch. Default 5 s. */
  timeoutMs?: number;
  /** Epoch ms. */
  now?: () => number;
}

/**
 * A JWKS read from a file or URL at start (a failure then is fatal), re-read every 10 minutes and
 * when a token names an unknown kid (at most once per 30 s, so made-up kids cannot flood the
 * issuer). A failed or empty refresh keeps the
 * last good set and logs a warning; an unchanged document keeps the same JwkSet object, so
 * JwtAuth's cache of verified tokens survives it.
 */
export class JwksSource implements JwksProvider {
  private set: JwkSet;
  private fingerprint: string;
  /** When an unknown kid last started a refresh. */
  private lastKidRefresh = -Infinity;
  private reads = 1;
  private inflight: Promise<boolean> | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;

  private constructor(
    private readonly o: JwksSourceOptions,
    first: ReturnType<typeof parseJwks>,
  ) {
    this.now = o.now ?? Date.now;
    this.set = first.set;
    this.fingerprint = first.fingerprint;
    this.timer = setInterval(() => void this.refresh(), o.refreshIntervalMs ?? 600_000);
    this.timer.unref();
  }

  /** Read the JWKS once. @throws invalid_config (unusable document) or unavailable (unreachable URL) */
  static async open(o: JwksSourceOptions): Promise<JwksSource> {
    const first = parseJwks(await readJwks(o.location, o.timeoutMs ?? 5_000), o.location);
    if (first.skipped.length > 0) o.logger?.warn({ jwks: o.location, skipped: first.skipped }, 'JWKS: some keys are not usable for RS256');
    o.logger?.info({ jwks: o.location, kids: [...first.set.byKid.keys()], keys: first.set.keys.length }, 'JWKS loaded');
    return new JwksSource(o, first);
  }

  get current(): JwkSet {
    return this.set;
  }

  /** Times the JWKS was read (the first read included). */
  get fetches(): number {
    return this.reads;
  }

  unknownKid(): void {
    const now = this.now();
    if (this.inflight !== undefined || now - this.lastKidRefresh < (this.o.minRefreshIntervalMs ?? 30_000)) return;
    this.lastKidRefresh = now;
    void this.refresh();
  }

  /** Read the JWKS again; resolves true when the key set changed. Never rejects. */
  refresh(): Promise<boolean> {
    this.inflight ??= this.reload().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  close(): void {
    clearInterval(this.timer);
  }

  private async reload(): Promise<boolean> {
    this.reads++;
    try {
      const next = parseJwks(await readJwks(this.o.location, this.o.timeoutMs ?? 5_000), this.o.location);
      if (next.fingerprint === this.fingerprint) return false;
      this.set = next.set;
      this.fingerprint = next.fingerprint;
      this.o.logger?.info({ jwks: this.o.location, kids: [...next.set.byKid.keys()], keys: next.set.keys.length, skipped: next.skipped }, 'JWKS changed');
      return true;
    } catch (e) {
      this.o.logger?.warn({ err: e, jwks: this.o.location }, 'JWKS refresh failed; keeping the last good key set');
      return false;
    }
  }
}

async function readJwks(location: string, timeoutMs: number): Promise<unknown> {
  let text: string;
  if (/^https?:\/\//i.test(location)) {
    let res: Response;
    try {
      res = await fetch(location, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
    } catch (e) {
      throw new SwitchyardError('unavailable', `Could not fetch the JWKS from ${location}: ${e instanceof Error ? e.message : String(e)}.`, { cause: e });
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new SwitchyardError('unavailable', `Fetching the JWKS from ${location} returned HTTP ${res.status}.`);
    }
    if (Number(res.headers.get('content-length') ?? 0) > MAX_JWKS_BYTES) {
      await res.body?.cancel();
      throw new SwitchyardError('invalid_config', `The JWKS at ${location} is larger than ${MAX_JWKS_BYTES} bytes.`);
    }
    text = await res.text();
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw new SwitchyardError('invalid_config', `--jwt-jwks '${location}' is neither a file nor an http(s) URL.`, { param: '--jwt-jwks' });
  } else {
    try {
      text = await readFile(location, 'utf8');
    } catch (e) {
      throw new SwitchyardError('invalid_config', `Cannot read the JWKS file ${location}: ${(e as NodeJS.ErrnoException).code ?? String(e)}.`, { param: '--jwt-jwks', cause: e });
    }
  }
  if (text.length > MAX_JWKS_BYTES) throw new SwitchyardError('invalid_config', `The JWKS at ${location} is larger than ${MAX_JWKS_BYTES} bytes.`, { param: '--jwt-jwks' });
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new SwitchyardError('invalid_config', `The JWKS at ${location} is not valid JSON.`, { param: '--jwt-jwks' });
  }
}
