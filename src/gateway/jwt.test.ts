import { createHmac, generateKeyPairSync, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { API_VERSION, type ApiKeyResource, type TenantResource } from '../api/index.js';
import { ApiKeyIndex, newApiKeySecret, sha256Hex } from '../control/index.js';
import { SwitchyardError } from '../core/index.js';
import { JwksSource, parseJwks, type JwkSet } from './jwks.js';
import { JwtAuth, loadJwt, type JwtAuthOptions } from './jwt.js';
import { ApiKeyAuth, callerOf, usageKeyOf, type Caller } from './tenancy.js';

const NOW = 1_800_000_000_000;
const SEC = NOW / 1000;
const SECRET = Buffer.from('a-shared-secret-of-more-than-32-bytes!!');

const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const k1 = rsa();
const k2 = rsa();
const jwkOf = (k: KeyObject, extra: Record<string, unknown> = {}) => ({ ...k.export({ format: 'jwk' }), ...extra });
const set = (...keys: Record<string, unknown>[]): JwkSet => parseJwks({ keys }, 'test').set;

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
function rs256(payload: unknown, o: { key?: KeyObject; header?: Record<string, unknown> } = {}): string {
  const data = `${b64({ alg: 'RS256', typ: 'JWT', kid: 'k1', ...o.header })}.${b64(payload)}`;
  return `${data}.${sign('RSA-SHA256', Buffer.from(data), o.key ?? k1.privateKey).toString('base64url')}`;
}
function hs256(payload: unknown, o: { secret?: Uint8Array | string; header?: Record<string, unknown> } = {}): string {
  const data = `${b64({ alg: 'HS256', typ: 'JWT', ...o.header })}.${b64(payload)}`;
  return `${data}.${createHmac('sha256', o.secret ?? SECRET).update(data).digest('base64url')}`;
}
const claims = (extra: Record<string, unknown> = {}) => ({ sub: 'alice', tenant: 'acme', iat: SEC - 10, exp: SEC + 300, ...extra });

const meta = (name: string) => ({ name, uid: `uid-${name}`, generation: 1, resourceVersion: '1', labels: {}, annotations: {}, creationTimestamp: '2026-01-01T00:00:00Z', updateTimestamp: '2026-01-01T00:00:00Z' });
const tenant = (name: string, spec: Partial<TenantResource['spec']> = {}): TenantResource => ({ apiVersion: API_VERSION, kind: 'Tenant', metadata: meta(name), spec: { priority: 1, ...spec } });

let index: ApiKeyIndex;
let apiKey: string;
let now: number;
let jwks: { current: JwkSet; unknownKid: () => void };
let unknownKids: number;

function auth(o: Partial<JwtAuthOptions> = {}): JwtAuth {
  return new JwtAuth({ inner: new ApiKeyAuth({ index, now: () => now }), tenants: index, jwks, secret: SECRET, now: () => now, ...o });
}

/** The 401 a token gets: its message, which never echoes the token. */
function refused(a: JwtAuth, token: string): string {
  let err: unknown;
  try {
    a.authenticate(`Bearer ${token}`);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SwitchyardError);
  expect(err).toMatchObject({ code: 'invalid_api_key', status: 401 });
  const message = (err as Error).message;
  if (token.length > 8) expect(message).not.toContain(token);
  for (const part of token.split('.')) if (part.length > 20) expect(message).not.toContain(part);
  return message;
}

beforeEach(() => {
  now = NOW;
  index = new ApiKeyIndex();
  index.upsert(tenant('acme', { allowedModels: ['m1', 'm2'], allowedClusters: ['eu'], limits: { rpm: 60 }, keyLimits: { rpm: 10 }, priority: 3 }));
  index.upsert(tenant('globex'));
  apiKey = newApiKeySecret();
  index.upsert({ apiVersion: API_VERSION, kind: 'ApiKey', metadata: meta('acme-key1'), spec: { tenant: 'acme', hash: sha256Hex(apiKey), prefix: apiKey.slice(0, 12) } });
  unknownKids = 0;
  jwks = { current: set(jwkOf(k1.publicKey, { kid: 'k1', alg: 'RS256', use: 'sig' })), unknownKid: () => void unknownKids++ };
});

describe('JwtAuth: valid tokens', () => {
  it('RS256 acts as the tenant it names, with keyId jwt:<sub>, built like a key of that tenant', () => {
    const caller = auth().authenticate(`Bearer ${rs256(claims())}`);
    const asKey = callerOf({ metadata: { name: 'jwt:alice' }, spec: {} } as unknown as ApiKeyResource, index.tenant('acme')!);
    expect(caller).toEqual({ ...asKey, jwt: true });
    expect(caller).toMatchObject({ tenant: 'acme', keyId: 'jwt:alice', priority: 3, limits: { key: { rpm: 10 }, tenant: { rpm: 60 } } });
    expect([...caller.allowedClusters!]).toEqual(['eu']);
  });

  it('HS256 with the shared secret; keyId is jwt: without a sub', () => {
    const caller = auth().authenticate(`Bearer ${hs256(claims({ sub: undefined, tenant: 'globex' }))}`);
    expect(caller).toMatchObject({ tenant: 'globex', keyId: 'jwt:' });
  });

  it('a token without kid uses the only RSA key; with two keys it needs a kid', () => {
    expect(auth().authenticate(`Bearer ${rs256(claims(), { header: { kid: undefined } })}`).tenant).toBe('acme');
    jwks.current = set(jwkOf(k1.publicKey, { kid: 'k1' }), jwkOf(k2.publicKey, { kid: 'k2' }));
    expect(refused(auth(), rs256(claims(), { header: { kid: undefined } }))).toMatch(/no kid and the JWKS holds 2 RSA keys/);
    expect(auth().authenticate(`Bearer ${rs256(claims(), { key: k2.privateKey, header: { kid: 'k2' } })}`).tenant).toBe('acme');
  });

  it('iss and aud are checked when configured; aud may be a string or an array', () => {
    const a = auth({ issuer: 'https://idp.example', audience: 'switchyard' });
    expect(a.authenticate(`Bearer ${rs256(claims({ iss: 'https://idp.example', aud: 'switchyard' }))}`).tenant).toBe('acme');
    expect(a.authenticate(`Bearer ${rs256(claims({ iss: 'https://idp.example', aud: ['other', 'switchyard'] }))}`).tenant).toBe('acme');
    expect(refused(a, rs256(claims({ iss: 'https://evil.example', aud: 'switchyard' })))).toMatch(/issuer \(iss\) is not 'https:\/\/idp.example'/);
    expect(refused(a, rs256(claims({ aud: 'switchyard' })))).toMatch(/issuer/);
    expect(refused(a, rs256(claims({ iss: 'https://idp.example', aud: ['other'] })))).toMatch(/audience \(aud\) does not include 'switchyard'/);
    expect(refused(a, rs256(claims({ iss: 'https://idp.example' })))).toMatch(/audience/);
  });

  it('the tenant claim may be a dotted path, or a claim whose name has dots', () => {
    expect(auth({ tenantClaim: 'org.tenant' }).authenticate(`Bearer ${rs256(claims({ tenant: undefined, org: { tenant: 'globex' } }))}`).tenant).toBe('globex');
    const ns = 'https://switchyard.dev/tenant';
    expect(auth({ tenantClaim: ns }).authenticate(`Bearer ${rs256(claims({ tenant: undefined, [ns]: 'globex' }))}`).tenant).toBe('globex');
    expect(refused(auth({ tenantClaim: 'org.tenant' }), rs256(claims({ org: ['globex'] })))).toMatch(/no 'org.tenant' claim/);
    // Only own properties: 'constructor' is not a claim every object has.
    expect(refused(auth({ tenantClaim: 'org.constructor' }), rs256(claims({ org: {} })))).toMatch(/no 'org.constructor' claim/);
  });

  it('a models claim narrows the tenant\'s allowed models like a key\'s scopes', () => {
    expect([...auth().authenticate(`Bearer ${rs256(claims({ models: ['m2', 'm3'] }))}`).allowedModels!]).toEqual(['m2']);
    expect([...auth().authenticate(`Bearer ${rs256(claims({ tenant: 'globex', models: ['m3'] }))}`).allowedModels!]).toEqual(['m3']);
    expect(auth().authenticate(`Bearer ${rs256(claims({ tenant: 'globex' }))}`).allowedModels).toBeUndefined();
    expect(refused(auth(), rs256(claims({ models: 'm1' })))).toMatch(/models claim is not a list/);
    expect(refused(auth(), rs256(claims({ models: [1] })))).toMatch(/models claim/);
  });

  it('clock skew: 60 s by default, configurable', () => {
    expect(auth().authenticate(`Bearer ${rs256(claims({ exp: SEC - 30 }))}`).tenant).toBe('acme');
    expect(auth().authenticate(`Bearer ${rs256(claims({ nbf: SEC + 30, iat: SEC + 30 }))}`).tenant).toBe('acme');
    expect(refused(auth({ clockSkewMs: 0 }), rs256(claims({ exp: SEC - 30 })))).toMatch(/expired/);
  });
});

describe('JwtAuth: refused tokens are a 401 saying why', () => {
  it('expired, not yet valid, issued in the future, no exp, exp not a number', () => {
    expect(refused(auth(), rs256(claims({ exp: SEC - 61 })))).toMatch(/the token has expired \(exp\)/);
    expect(refused(auth(), rs256(claims({ nbf: SEC + 120 })))).toMatch(/not valid yet \(nbf is in the future\)/);
    expect(refused(auth(), rs256(claims({ iat: SEC + 120 })))).toMatch(/issued in the future/);
    expect(refused(auth(), rs256(claims({ exp: undefined })))).toMatch(/no exp claim; tokens must expire/);
    expect(refused(auth(), rs256(claims({ exp: '2030-01-01' })))).toMatch(/exp claim is not a number/);
  });

  it('bad signature and tampered payload', () => {
    expect(refused(auth(), rs256(claims(), { key: k2.privateKey }))).toMatch(/signature does not verify/);
    const [h, , s] = rs256(claims()).split('.');
    expect(refused(auth(), `${h}.${b64(claims({ tenant: 'globex' }))}.${s}`)).toMatch(/signature does not verify/);
    const [hh, , hs] = hs256(claims()).split('.');
    expect(refused(auth(), `${hh}.${b64(claims({ exp: SEC + 1e6 }))}.${hs}`)).toMatch(/signature does not verify/);
    expect(refused(auth(), hs256(claims(), { secret: 'another-secret-that-is-long-enough-32b' }))).toMatch(/signature does not verify/);
    expect(refused(auth(), rs256(claims()).replace(/\.[^.]*$/, '.'))).toMatch(/signature does not verify/);
  });

  it('alg none and unknown algorithms', () => {
    const unsigned = (alg: string) => `${b64({ alg, typ: 'JWT' })}.${b64(claims())}.`;
    expect(refused(auth(), unsigned('none'))).toMatch(/unsigned tokens \(alg "none"\) are not accepted/);
    expect(refused(auth(), unsigned('NONE'))).toMatch(/alg "none"/);
    expect(refused(auth(), rs256(claims(), { header: { alg: 'RS512' } }))).toMatch(/algorithm RS512 is not accepted; this gateway accepts HS256, RS256/);
    expect(refused(auth(), rs256(claims(), { header: { alg: 'ES256' } }))).toMatch(/ES256 is not accepted/);
    expect(refused(auth(), rs256(claims(), { header: { alg: 7 } }))).toMatch(/header has no alg/);
    expect(refused(auth(), rs256(claims(), { header: { crit: ['b64'] } }))).toMatch(/crit/);
  });

  it('algorithm confusion: an HS256 token keyed with the RSA public key never verifies', () => {
    const pem = k1.publicKey.export({ type: 'spki', format: 'pem' });
    const der = k1.publicKey.export({ type: 'spki', format: 'der' });
    const jwkJson = JSON.stringify(jwkOf(k1.publicKey));
    // RS256 only: HS256 is not even an accepted algorithm.
    const rsOnly = auth({ secret: undefined });
    for (const key of [pem, der, jwkJson]) expect(refused(rsOnly, hs256(claims(), { secret: key, header: { kid: 'k1' } }))).toMatch(/HS256 is not accepted; this gateway accepts RS256/);
    // Both configured: HS256 verifies against the shared secret only, never against JWKS material.
    for (const key of [pem, der, jwkJson]) expect(refused(auth(), hs256(claims(), { secret: key, header: { kid: 'k1' } }))).toMatch(/signature does not verify/);
    // And an RS256 token is never checked with the HMAC secret.
    expect(refused(auth({ jwks: undefined }), rs256(claims()))).toMatch(/RS256 is not accepted; this gateway accepts HS256/);
  });

  it('a JWK whose own alg or use disagrees is not used; an unknown kid asks for a refresh', () => {
    jwks.current = set(jwkOf(k1.publicKey, { kid: 'k1', alg: 'RS512' }), jwkOf(k2.publicKey, { kid: 'k2' }));
    expect(refused(auth(), rs256(claims()))).toMatch(/unknown signing key: the token's kid is not in the gateway's JWKS/);
    jwks.current = set(jwkOf(k1.publicKey, { kid: 'k1', use: 'enc' }), jwkOf(k2.publicKey, { kid: 'k2' }));
    expect(refused(auth(), rs256(claims()))).toMatch(/unknown signing key/);
    expect(refused(auth(), rs256(claims(), { header: { kid: 'k9' } }))).toMatch(/refreshes its JWKS/);
    expect(unknownKids).toBe(3);
    expect(refused(auth(), rs256(claims(), { header: { kid: 5 } }))).toMatch(/kid is not a string/);
  });

  it('unknown tenant, missing or malformed tenant claim, malformed sub', () => {
    expect(refused(auth(), rs256(claims({ tenant: 'initech' })))).toMatch(/unknown tenant 'initech' \(claim 'tenant'\)/);
    expect(refused(auth(), rs256(claims({ tenant: undefined })))).toMatch(/no 'tenant' claim naming its tenant/);
    expect(refused(auth(), rs256(claims({ tenant: ['acme'] })))).toMatch(/'tenant' claim is not a tenant name/);
    expect(refused(auth(), rs256(claims({ tenant: 'Robert"); DROP' })))).toMatch(/not a tenant name/);
    expect(refused(auth(), rs256(claims({ sub: 42 })))).toMatch(/sub claim/);
  });

  it('garbage is a 401, never another kind of error: non-base64, non-JSON, JSON arrays, huge tokens', () => {
    const a = auth();
    expect(refused(a, 'a.b.c')).toMatch(/header is not base64url-encoded JSON/);
    expect(refused(a, `${b64('[1,2]')}.${b64(claims())}.c2ln`)).toMatch(/header is not a JSON object/);
    expect(refused(a, `${b64('null')}.${b64(claims())}.c2ln`)).toMatch(/header is not a JSON object/);
    expect(refused(a, `${b64('"RS256"')}.${b64(claims())}.c2ln`)).toMatch(/header is not a JSON object/);
    expect(refused(a, rs256([claims()]))).toMatch(/payload is not a JSON object/);
    expect(refused(a, rs256('{"tenant": "acme", '))).toMatch(/payload is not base64url-encoded JSON/);
    expect(refused(a, `${b64({ alg: 'RS256', kid: 'k1' })}.${'A'.repeat(9000)}.sig`)).toMatch(/longer than 8192 characters/);
    expect(refused(a, `${b64({ alg: 'RS256', kid: 'k1' })}.${b64(claims())}.${'/'.repeat(300)}`)).toMatch(/Incorrect API key/);
    expect(refused(a, 'é.b.c')).toMatch(/Incorrect API key/);
    expect(refused(a, '..')).toMatch(/Incorrect API key/);
    expect(refused(a, `${b64({ alg: 'RS256', kid: 'k1' })}.${b64(claims())}.${'A'.repeat(511)}`)).toMatch(/signature does not verify/);
  });
});

describe('JwtAuth: everything else goes to the inner auth', () => {
  it('API keys, named tokens and a missing header are the inner auth\'s business', () => {
    const a = auth();
    expect(a.authenticate(`Bearer ${apiKey}`)).toMatchObject({ tenant: 'acme', keyId: 'acme-key1' });
    expect(refused(a, 'sk-sy-' + 'x'.repeat(43))).toMatch(/Incorrect API key/);
    expect(refused(a, 'sy-token-ci.' + 'x'.repeat(43))).toMatch(/Incorrect API key/);
    expect(() => a.authenticate(undefined)).toThrow(/didn't provide an API key/);
    expect(() => a.authenticate('Basic dXNlcjpwYXNz')).toThrow(/didn't provide an API key/);
  });
});

describe('JwtAuth: the cache of verified tokens', () => {
  it('returns the same Caller for a repeat token, but checks expiry on every call', () => {
    const a = auth();
    const token = rs256(claims({ exp: SEC + 100 }));
    const first = a.authenticate(`Bearer ${token}`);
    expect(a.authenticate(`Bearer ${token}`)).toBe(first);
    now = NOW + 100_000 + 60_000;
    expect(refused(a, token)).toMatch(/expired/);
    now = NOW;
    // Not served from a stale entry either: verified again, and valid again at that time.
    expect(a.authenticate(`Bearer ${token}`)).toEqual(first);
  });

  it('a changed tenant rebuilds the Caller; a deleted tenant refuses the token', () => {
    const a = auth();
    const token = rs256(claims());
    const first = a.authenticate(`Bearer ${token}`);
    index.upsert(tenant('acme', { priority: 7 }));
    const second = a.authenticate(`Bearer ${token}`);
    expect(second).not.toBe(first);
    expect(second.priority).toBe(7);
    index.remove('Tenant', 'acme');
    expect(refused(a, token)).toMatch(/unknown tenant 'acme'/);
  });

  it('a key removed from the JWKS stops cached tokens signed with it', () => {
    const a = auth();
    const token = rs256(claims());
    a.authenticate(`Bearer ${token}`);
    jwks.current = set(jwkOf(k2.publicKey, { kid: 'k2' }));
    expect(refused(a, token)).toMatch(/unknown signing key/);
  });

  it('is bounded (LRU)', () => {
    const a = auth({ cacheSize: 2 });
    const tokens = [1, 2, 3].map((i) => hs256(claims({ sub: `u${i}` })));
    const callers: Caller[] = tokens.map((t) => a.authenticate(`Bearer ${t}`));
    expect(a.authenticate(`Bearer ${tokens[2]!}`)).toBe(callers[2]);
    expect(a.authenticate(`Bearer ${tokens[1]!}`)).toBe(callers[1]);
    expect(a.authenticate(`Bearer ${tokens[0]!}`)).not.toBe(callers[0]); // evicted, verified again
  });
});

describe('JwtAuth configuration', () => {
  it('refuses impossible settings', () => {
    expect(() => auth({ secret: undefined, jwks: undefined })).toThrow(/needs a key/);
    expect(() => auth({ secret: Buffer.from('short') })).toThrow(/5 bytes; it must be at least 32/);
    expect(() => auth({ jwks: undefined, algorithms: ['RS256'] })).toThrow(/no JWKS is configured/);
    expect(() => auth({ tenantClaim: 'org..tenant' })).toThrow(/not a claim name/);
  });

  it('parseJwks keeps usable RSA signing keys and says why it skipped the others', () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const { set: s, skipped } = parseJwks(
      {
        keys: [
          jwkOf(k1.publicKey, { kid: 'a', alg: 'RS256', use: 'sig' }),
          jwkOf(k2.publicKey, { kid: 'a' }),
          jwkOf(ec.publicKey, { kid: 'ec' }),
          jwkOf(k2.publicKey, { kid: 'enc', use: 'enc' }),
          jwkOf(k2.publicKey, { kid: 'ps', alg: 'PS256' }),
          jwkOf(k2.privateKey, { kid: 'private' }),
          jwkOf(weak.publicKey, { kid: 'weak' }),
          { ...jwkOf(k2.publicKey), kid: 'broken', e: '' },
          jwkOf(k2.publicKey, { kid: 'ops', key_ops: ['encrypt'] }),
          'not a key',
          jwkOf(k2.publicKey),
        ],
      },
      'test',
    );
    expect([...s.byKid.keys()]).toEqual(['a']);
    expect(s.keys).toHaveLength(2);
    expect(skipped.join('\n')).toMatchInlineSnapshot(`
      "key 1 (kid 'a'): repeats a kid
      key 2 (kid 'ec'): kty "EC" is not RSA
      key 3 (kid 'enc'): use "enc" is not "sig"
      key 4 (kid 'ps'): alg "PS256" is not "RS256"
      key 5 (kid 'private'): holds a private key (d); publish public keys only
      key 6 (kid 'weak'): 1024-bit modulus, below 2048
      key 7 (kid 'broken'): public exponent 0 is not an odd number of at least 3
      key 8 (kid 'ops'): key_ops does not include "verify"
      key 9: kty missing is not RSA"
    `);
    expect(() => parseJwks({ keys: [jwkOf(ec.publicKey)] }, 'x.json')).toThrow(/The JWKS at x.json has no usable RSA signing key \(key 0: kty "EC" is not RSA\)/);
    expect(() => parseJwks([], 'x.json')).toThrow(/not a JSON object with a "keys" array/);
  });

  it('usage records of a JWT caller name no key (UsageRecord.key names an ApiKey); a key caller\'s name its key', () => {
    const jwtCaller = auth().authenticate(`Bearer ${rs256(claims())}`);
    expect(jwtCaller).toMatchObject({ tenant: 'acme', keyId: 'jwt:alice', jwt: true });
    expect(usageKeyOf(jwtCaller)).toBe('');
    expect(usageKeyOf(auth().authenticate(`Bearer ${apiKey}`))).toBe('acme-key1');
  });
});

describe('loadJwt and JwksSource (files)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sy-jwt-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, content: string | Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const jwksFile = (...keys: JsonWebKey[]) => JSON.stringify({ keys });

  it('is off without a key; other --jwt flags alone are a usage error', async () => {
    expect(await loadJwt({})).toBeUndefined();
    await expect(loadJwt({ issuer: 'x' })).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringMatching(/--jwt-issuer needs --jwt-jwks or --jwt-secret-file/) as unknown });
    await expect(loadJwt({ tenantClaim: 'org' })).rejects.toMatchObject({ code: 'invalid_argument', param: '--jwt-tenant-claim' });
    await expect(loadJwt({ secretFile: write('s0', `${'x'.repeat(40)}\n`), audience: ' ' })).rejects.toMatchObject({ code: 'invalid_argument', param: '--jwt-audience' });
  });

  it('reads the HS256 secret as raw bytes without its trailing newline, and refuses short ones', async () => {
    const secret = 'x'.repeat(40);
    const loaded = (await loadJwt({ secretFile: write('s1', `${secret}\r\n`), audience: 'sy' }))!;
    const a = new JwtAuth({ ...loaded.options, inner: new ApiKeyAuth({ index }), tenants: index, now: () => now });
    expect(a.authenticate(`Bearer ${hs256(claims({ aud: 'sy' }), { secret })}`).tenant).toBe('acme');
    expect(refused(a, hs256(claims({ aud: 'sy' }), { secret: `${secret}\n` }))).toMatch(/signature/);
    loaded.close();
    await expect(loadJwt({ secretFile: write('s2', `${'x'.repeat(31)}\n`) })).rejects.toMatchObject({ code: 'invalid_config', message: expect.stringMatching(/is 31 bytes; it must be at least 32/) as unknown });
    await expect(loadJwt({ secretFile: join(dir, 'missing') })).rejects.toMatchObject({ code: 'invalid_config', message: expect.stringMatching(/Cannot read the HS256 secret file .*ENOENT/) as unknown });
  });

  it('a JWKS file: refreshed on an unknown kid at most once per interval; a broken refresh keeps the last good set', async () => {
    let clock = NOW;
    const path = write('jwks.json', jwksFile(jwkOf(k1.publicKey, { kid: 'k1' })));
    const warn = vi.fn();
    const src = await JwksSource.open({ location: path, now: () => clock, logger: { warn, info: () => undefined } as never });
    try {
      const first = src.current;
      expect([...first.byKid.keys()]).toEqual(['k1']);
      expect(await src.refresh()).toBe(false);
      expect(src.current).toBe(first); // unchanged: the same set, caches stay warm
      write('jwks.json', jwksFile(jwkOf(k1.publicKey, { kid: 'k1' }), jwkOf(k2.publicKey, { kid: 'k2' })));
      expect(src.fetches).toBe(2);
      src.unknownKid(); // the first unknown kid refreshes at once
      expect(src.fetches).toBe(3);
      expect(await src.refresh()).toBe(true); // joins the refresh unknownKid started
      expect(src.fetches).toBe(3);
      expect([...src.current.byKid.keys()]).toEqual(['k1', 'k2']);
      clock += 29_999;
      src.unknownKid(); // too soon after the last one
      expect(src.fetches).toBe(3);
      clock += 1;
      src.unknownKid();
      expect(src.fetches).toBe(4);
      expect(await src.refresh()).toBe(false);
      write('jwks.json', '{"keys": [');
      expect(await src.refresh()).toBe(false);
      expect([...src.current.byKid.keys()]).toEqual(['k1', 'k2']);
      expect(warn).toHaveBeenCalledWith(expect.objectContaining({ jwks: path }), 'JWKS refresh failed; keeping the last good key set');
    } finally {
      src.close();
    }
    await expect(JwksSource.open({ location: join(dir, 'nope.json') })).rejects.toMatchObject({ code: 'invalid_config', message: expect.stringMatching(/Cannot read the JWKS file/) as unknown });
    await expect(JwksSource.open({ location: write('bad.json', 'nope') })).rejects.toMatchObject({ code: 'invalid_config', message: expect.stringMatching(/is not valid JSON/) as unknown });
    await expect(JwksSource.open({ location: 'ftp://idp.example/jwks' })).rejects.toMatchObject({ code: 'invalid_config' });
  });
});
