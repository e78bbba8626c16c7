import { afterEach, describe, expect, it } from 'vitest';
import { SwitchyardError } from '../core/index.js';
import { SqliteStore } from '../store/index.js';
import { Tokens } from './tokens.js';

const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

async function open(): Promise<{ store: SqliteStore; tokens: Tokens }> {
  const store = await SqliteStore.open(':memory:');
  stores.push(store);
  const tokens = new Tokens(store);
  await tokens.bootstrap('sy-admin-root');
  return { store, tokens };
}

const bearer = (t: string) => `Bearer ${t}`;
const codeOf = async (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e instanceof SwitchyardError ? e.code : 'other'));

describe('Tokens', () => {
  it('named tokens carry their role (and tenant); only hashes are stored', async () => {
    const { store, tokens } = await open();
    expect(await tokens.authenticate(bearer('sy-admin-root'))).toEqual({ kind: 'user', name: 'admin', role: 'admin' });
    const { token, info } = await tokens.create({ name: 'acme-admin', role: 'tenant-admin', tenant: 'acme' }, 'alice');
    expect(token).toMatch(/^sy-token-acme-admin\.[A-Za-z0-9_-]{43}$/);
    expect(info).toMatchObject({ name: 'acme-admin', role: 'tenant-admin', tenant: 'acme', createdBy: 'alice', prefix: token.slice(0, 'sy-token-acme-admin.'.length + 4) });
    expect(await tokens.authenticate(bearer(token))).toEqual({ kind: 'user', name: 'acme-admin', role: 'tenant-admin', tenant: 'acme', token: 'acme-admin' });
    expect(await store.getMeta('admin-tokens-v1')).not.toContain(token.slice(20));
    expect(JSON.stringify(await tokens.list())).not.toMatch(/hash/);
  });

  it('refuses wrong secrets, unknown names, duplicates and deleted tokens', async () => {
    const { tokens } = await open();
    const { token } = await tokens.create({ name: 'ci', role: 'operator' }, 'alice');
    const forged = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    expect(await codeOf(tokens.authenticate(bearer(forged)))).toBe('unauthorized');
    expect(await codeOf(tokens.authenticate(bearer(token.replace('sy-token-ci.', 'sy-token-other.'))))).toBe('unauthorized');
    expect(await codeOf(tokens.create({ name: 'ci', role: 'viewer' }, 'bob'))).toBe('already_exists');
    // Names that are also Object.prototype members are ordinary names.
    expect(await codeOf(tokens.authenticate(bearer(`sy-token-constructor.${'a'.repeat(43)}`)))).toBe('unauthorized');
    expect(await codeOf(tokens.create({ name: 'constructor', role: 'viewer' }, 'bob'))).toBe('ok');
    expect((await tokens.list()).map((t) => t.name)).toEqual(['ci', 'constructor']);
    await tokens.delete('ci');
    expect(await codeOf(tokens.authenticate(bearer(token)))).toBe('unauthorized');
    expect(await codeOf(tokens.delete('ci'))).toBe('not_found');
  });
});
