/**
 * `switchyard keys ...` and `switchyard tokens ...` (and get/describe of Tenants and ApiKeys)
 * against a real, in-process SwitchyardServer (see resources.fixture.ts).
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_VERSION } from '../../api/index.js';
import { validateCommand } from '../framework.js';
import { runCliCaptured } from '../framework-testing.js';
import { describeCommand } from './describe.js';
import { getCommand } from './get.js';
import { keysCommands } from './keys.js';
import { AGE, env, fx, useResourceServer } from './resources.fixture.js';
import { tokensCommands } from './tokens.js';

useResourceServer();

const commands = [...keysCommands, ...tokensCommands, getCommand, describeCommand];
const run = (...argv: string[]) => runCliCaptured(argv, commands, { env: env() });
const runAs = (token: string, ...argv: string[]) => runCliCaptured(argv, commands, { env: { ...env(), SWITCHYARD_TOKEN: token } });
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const SHOWN_ONCE = /Warning: This is the only time the key is shown: store it now/;

describe.each([...keysCommands, ...tokensCommands].map((c) => [c.name, c] as const))('%s --help', (name, cmd) => {
  it('has a valid spec and shows its examples', async () => {
    expect(() => validateCommand(cmd)).not.toThrow();
    const r = await runCliCaptured([...name.split(' '), '--help'], commands);
    expect(r.code).toBe(0);
    for (const example of cmd.examples) expect(r.stdout).toContain(example);
  });
});

describe('keys and tokens', () => {
  beforeAll(async () => {
    await fx.admin.apply([
      { apiVersion: API_VERSION, kind: 'Tenant', metadata: { name: 'acme' }, spec: { displayName: 'ACME', gpuQuota: 8 } },
      { apiVersion: API_VERSION, kind: 'Tenant', metadata: { name: 'beta' }, spec: {} },
    ]);
  });

  it('keys create prints the key alone on stdout, once, with a warning on stderr; the server keeps only its hash', async () => {
    const r = await run('keys', 'create', '--tenant', 'acme', '--description', 'ci bot');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^sk-sy-[A-Za-z0-9_-]{43}\n$/);
    const key = r.stdout.trim();
    expect(r.stderr).toMatch(new RegExp(`^key acme-[a-z]{8} created for tenant 'acme' \\(prefix ${key.slice(0, 12)}\\)\\.\\n`));
    expect(r.stderr).toMatch(SHOWN_ONCE);
    expect(r.stderr).not.toContain(key);
    const stored = (await fx.admin.listKeys('acme')).items.find((k) => k.spec.hash === sha256(key));
    expect(stored?.spec).toMatchObject({ tenant: 'acme', prefix: key.slice(0, 12), description: 'ci bot' });
    expect(JSON.stringify(stored)).not.toContain(key.slice(12));
  });

  it('keys create with an expiry, model scopes and limits; -o json gives {key, apiKey}', async () => {
    const r = await run('keys', 'create', '--tenant', 'acme', '--expires-in', '30d', '--models', 'llama-8b,qwen', '--rpm', '60', '--max-concurrent', '2', '-o', 'json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.key).toMatch(/^sk-sy-/);
    expect(out.apiKey.spec).toMatchObject({ tenant: 'acme', hash: sha256(out.key), scopes: { models: ['llama-8b', 'qwen'] }, limits: { rpm: 60, maxConcurrent: 2 } });
    expect(Date.parse(out.apiKey.spec.expiresAt) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    expect(r.stderr).toMatch(SHOWN_ONCE);
  });

  it('keys create for an unknown tenant, or without --tenant, fails clearly', async () => {
    expect(await run('keys', 'create', '--tenant', 'nobody')).toMatchObject({ code: 1, stdout: '', stderr: "error: Tenant 'nobody' not found\n" });
    const usage = await run('keys', 'create');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--tenant');
  });

  it('keys list: a table of prefixes and states (never secrets), per tenant or all; json', async () => {
    const t = await run('keys', 'list', '--tenant', 'acme');
    expect(t.code).toBe(0);
    const lines = t.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+TENANT\s+PREFIX\s+STATE\s+EXPIRES\s+LAST-USED\s+AGE$/);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(new RegExp(`^acme-[a-z]{8}\\s+acme\\s+sk-sy-\\S{6}…\\s+active\\s+\\S+.*\\s+<never>\\s+${AGE}$`));
    const j = JSON.parse((await run('keys', 'list', '-o', 'json')).stdout);
    expect(j).toMatchObject({ kind: 'ApiKeyList', items: [{ kind: 'ApiKey' }, { kind: 'ApiKey' }] });
    expect(await run('keys', 'list', '--tenant', 'beta')).toMatchObject({ code: 0, stdout: '', stderr: "No keys found for tenant 'beta'.\n" });
  });

  it('keys rotate prints a new key once and the old hash is gone; keys revoke marks it revoked', async () => {
    const created = (await run('keys', 'create', '--tenant', 'beta')).stdout.trim();
    const name = (await fx.admin.listKeys('beta')).items[0]!.metadata.name;
    const r = await run('keys', 'rotate', name);
    expect(r.code).toBe(0);
    const rotated = r.stdout.trim();
    expect(rotated).toMatch(/^sk-sy-[A-Za-z0-9_-]{43}$/);
    expect(rotated).not.toBe(created);
    expect(r.stderr).toMatch(new RegExp(`^key ${name} rotated for tenant 'beta'`));
    expect((await fx.admin.get('ApiKey', name)).spec.hash).toBe(sha256(rotated));

    expect(await run('keys', 'revoke', name)).toMatchObject({ code: 0, stdout: `key ${name} (tenant 'beta', prefix ${rotated.slice(0, 12)}) revoked\n` });
    expect((await run('keys', 'list', '--tenant', 'beta')).stdout).toMatch(new RegExp(`\\n${name}\\s+beta\\s+\\S+\\s+revoked\\s`));
    expect(await run('keys', 'rotate', name)).toMatchObject({ code: 1, stderr: expect.stringMatching(/^error: ApiKey '.*' is revoked, and revocation is final/) });
  });

  it('get and describe show tenants and keys', async () => {
    const g = await run('get', 'tenants');
    expect(g.code).toBe(0);
    expect(g.stdout.split('\n')[0]).toMatch(/^NAME\s+DISPLAY-NAME\s+PRIORITY\s+GPUS\s+MODELS\s+CLUSTERS\s+KEYS\s+AGE$/);
    expect(g.stdout).toMatch(new RegExp(`\\nacme\\s+ACME\\s+1\\s+0/8\\s+<all>\\s+<all>\\s+\\d+\\s+${AGE}\\n`));
    const d = await run('describe', 'tenant', 'acme');
    expect(d.code).toBe(0);
    expect(d.stdout).toContain('Kind:             Tenant\n');
    expect(d.stdout).toMatch(/Status:\n {2}Keys:\s+\d+\n {2}GPUs in use:\s+0 of 8\n/);
    expect((await run('get', 'keys')).stdout).toMatch(/^NAME\s+TENANT\s+PREFIX/);
  });

  it('tokens create prints the token once; list shows names and roles; delete revokes it at once', async () => {
    const c = await run('tokens', 'create', 'deployer', '--role', 'operator');
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/^sy-token-deployer\.[A-Za-z0-9_-]{43}\n$/);
    expect(c.stderr).toMatch(/^token deployer created \(role operator\)\.\nWarning: this is the only time the token is shown/);
    const token = c.stdout.trim();
    expect((await runAs(token, 'get', 'functions')).code).toBe(0);

    const l = await run('tokens', 'list');
    expect(l.stdout.split('\n')[0]).toMatch(/^NAME\s+ROLE\s+TENANT\s+PREFIX\s+CREATED-BY\s+AGE$/);
    expect(l.stdout).toMatch(new RegExp(`\\ndeployer\\s+operator\\s+-\\s+sy-token-deployer\\.\\S{4}…\\s+alice\\s+${AGE}\\n`));
    expect(l.stdout).not.toContain(token.slice(-40));

    expect(await run('tokens', 'delete', 'deployer')).toMatchObject({ code: 0, stdout: 'token deployer (role operator) deleted\n' });
    expect(await runAs(token, 'get', 'functions')).toMatchObject({ code: 1, stderr: 'error: invalid token\n' });
  });

  it('tokens create checks --tenant against --role before calling the server', async () => {
    const r = await run('tokens', 'create', 'x', '--role', 'tenant-admin');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--role tenant-admin needs --tenant NAME');
    expect((await run('tokens', 'create', 'x', '--role', 'viewer', '--tenant', 'acme')).code).toBe(2);
  });

  it("with a tenant-admin token: its own tenant's keys work, anything else is refused (403 message)", async () => {
    const token = (await run('tokens', 'create', 'acme-admin', '--role', 'tenant-admin', '--tenant', 'acme')).stdout.trim();
    const mine = await runAs(token, 'keys', 'create', '--tenant', 'acme');
    expect(mine.code).toBe(0);
    expect(mine.stdout).toMatch(/^sk-sy-/);
    expect((await runAs(token, 'keys', 'list', '--tenant', 'acme')).code).toBe(0);
    expect(await runAs(token, 'keys', 'create', '--tenant', 'beta')).toMatchObject({ code: 1, stderr: "error: token 'acme-admin' (role tenant-admin of tenant 'acme') may not write apikeys of tenant 'beta'\n" });
    const all = await runAs(token, 'keys', 'list');
    expect(all.code).toBe(1);
    expect(all.stderr).toContain('switchyard keys list --tenant acme');
    expect((await runAs(token, 'tokens', 'list')).stderr).toMatch(/may not manage admin tokens/);
  });
});
