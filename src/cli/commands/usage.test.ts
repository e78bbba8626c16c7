/**
 * `switchyard usage` (table, JSON, CSV) and `switchyard audit` (table, JSON) against a real,
 * in-process SwitchyardServer (see resources.fixture.ts), plus their pure renderers.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { API_VERSION, type UsageAggregate, type UsageRecord } from '../../api/index.js';
import { validateCommand } from '../framework.js';
import { runCliCaptured } from '../framework-testing.js';
import { auditCommand, changeSummary } from './audit.js';
import { env, fx, useResourceServer } from './resources.fixture.js';
import { usageCommand, usageCsv, usd } from './usage.js';

useResourceServer();

const commands = [usageCommand, auditCommand];
const run = (...argv: string[]) => runCliCaptured(argv, commands, { env: env() });
const runAs = (token: string, ...argv: string[]) => runCliCaptured(argv, commands, { env: { ...env(), SWITCHYARD_TOKEN: token } });
const NOW = Date.now();
const TODAY = new Date(NOW).toISOString().slice(0, 10);
const YESTERDAY = new Date(NOW - 86_400_000).toISOString().slice(0, 10);

let seq = 0;
const rec = (over: Partial<UsageRecord> = {}): UsageRecord => ({
  ts: NOW, requestId: `cli-${seq++}`, tenant: 'acme', key: 'acme-k', model: 'llama', cluster: 'lab',
  inputTokens: 1000, outputTokens: 200, cachedTokens: 0, latencyMs: 120, status: 200, usd: 0.007, ...over,
});

describe.each(commands.map((c) => [c.name, c] as const))('%s --help', (name, cmd) => {
  it('has a valid spec and shows its examples', async () => {
    expect(() => validateCommand(cmd)).not.toThrow();
    const r = await runCliCaptured([...name.split(' '), '--help'], commands);
    expect(r.code).toBe(0);
    for (const example of cmd.examples) expect(r.stdout).toContain(example);
  });
});

describe('renderers', () => {
  it('CSV quotes fields with commas, quotes and line breaks', () => {
    const a: UsageAggregate = { day: '2026-01-01', tenant: '', model: 'org/m,"v2"', requests: 1, inputTokens: 2, outputTokens: 3, cachedTokens: 0, usd: 0.5, errors: 0, avgLatencyMs: 10.4 };
    expect(usageCsv([a])).toBe('day,tenant,model,requests,input_tokens,output_tokens,cached_tokens,errors,avg_latency_ms,usd\n2026-01-01,,"org/m,""v2""",1,2,3,0,0,10,0.5\n');
  });

  it('money keeps small costs readable', () => {
    expect([usd(0), usd(0.007), usd(0.000042), usd(12.5)]).toEqual(['$0', '$0.0070', '$0.000042', '$12.5000']);
  });

  it('summarises a change by its changed paths', () => {
    expect(changeSummary(null, { a: 1 })).toBe('created');
    expect(changeSummary({ a: 1 }, null)).toBe('deleted');
    expect(changeSummary(null, null)).toBe('-');
    expect(changeSummary({ spec: { a: 1, b: [1] } }, { spec: { a: 1, b: [2], c: 'x' } })).toBe('changed spec.b, spec.c');
    expect(changeSummary({ a: 1, b: 1, c: 1, d: 1 }, { a: 2, b: 2, c: 2, d: 2 })).toBe('changed a, b, c +1 more');
  });
});

describe('usage and audit commands', () => {
  let tenantAdmin: string;
  let key: string;

  beforeAll(async () => {
    await fx.admin.apply([
      { apiVersion: API_VERSION, kind: 'Tenant', metadata: { name: 'acme' }, spec: {} },
      { apiVersion: API_VERSION, kind: 'Tenant', metadata: { name: 'beta' }, spec: {} },
    ]);
    await fx.admin.postUsage([rec(), rec({ status: 500, latencyMs: 280 }), rec({ ts: NOW - 86_400_000 }), rec({ model: 'qwen', usd: 0.25 }), rec({ tenant: 'beta' })]);
    await fx.server.controlPlane.usage.flush();
    tenantAdmin = (await fx.admin.createToken({ name: 'acme-admin', role: 'tenant-admin', tenant: 'acme' })).token;
    const minted = await fx.admin.createKey('acme');
    key = minted.key;
    await fx.admin.revokeKey(minted.apiKey.metadata.name);
  });

  it('usage prints a table per day, tenant and model', async () => {
    const r = await run('usage', '--tenant', 'acme');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^DAY\s+TENANT\s+MODEL\s+REQUESTS\s+INPUT\s+OUTPUT\s+CACHED\s+ERRORS\s+AVG-LATENCY\s+USD$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 4))).toEqual([[YESTERDAY, 'acme', 'llama', '1'], [TODAY, 'acme', 'llama', '2'], [TODAY, 'acme', 'qwen', '1']]);
    expect(lines[2]).toMatch(/\s2000\s+400\s+0\s+1\s+200ms\s+\$0\.0140$/);
    const none = await run('usage', '--group-by', 'none');
    expect(none.stdout.split('\n')[0]).toMatch(/^TENANT\s+MODEL\s+REQUESTS/);
    expect(none.stdout).toMatch(/\nbeta\s+llama\s+1\s/);
    expect(await run('usage', '--tenant', 'nobody')).toMatchObject({ code: 0, stdout: '', stderr: "No usage found for tenant 'nobody' since 7d.\n" });
  });

  it('usage -o json and -o csv', async () => {
    const j = JSON.parse((await run('usage', '--since', '30d', '--group-by', 'none', '-o', 'json')).stdout);
    expect(j.items.map((a: UsageAggregate) => [a.tenant, a.model, a.requests])).toEqual([['acme', 'llama', 3], ['acme', 'qwen', 1], ['beta', 'llama', 1]]);
    const csv = (await run('usage', '--since', TODAY, '-o', 'csv')).stdout.trim().split('\n');
    expect(csv).toEqual([
      'day,tenant,model,requests,input_tokens,output_tokens,cached_tokens,errors,avg_latency_ms,usd',
      `${TODAY},acme,llama,2,2000,400,0,1,200,0.014`,
      `${TODAY},acme,qwen,1,1000,200,0,0,120,0.25`,
      `${TODAY},beta,llama,1,1000,200,0,0,120,0.007`,
    ]);
  });

  it("usage with a tenant-admin token: its own tenant only", async () => {
    expect((await runAs(tenantAdmin, 'usage', '--tenant', 'acme')).code).toBe(0);
    const all = await runAs(tenantAdmin, 'usage');
    expect(all.code).toBe(1);
    expect(all.stderr).toMatch(/^error: token 'acme-admin' \(role tenant-admin of tenant 'acme'\) may not read the usage of every tenant \(ask for yours with \?tenant=acme, or switchyard usage --tenant acme\)/);
    expect((await runAs(tenantAdmin, 'usage', '--tenant', 'beta')).code).toBe(1);
    expect((await run('usage', '--since', 'last week')).stderr).toMatch(/^error: since 'last week' is not a time/);
  });

  it('audit prints who did what (never a secret); json has before and after', async () => {
    const t = await run('audit');
    expect(t.code).toBe(0);
    const lines = t.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+ACTOR\s+ACTION\s+OBJECT\s+CHANGE\s+NOTE$/);
    expect(t.stdout).toMatch(/setup\s+apikey\.create\s+ApiKey\/acme-[a-z]{8}\s+created/);
    expect(t.stdout).toMatch(/setup\s+apikey\.revoke\s+ApiKey\/acme-[a-z]{8}\s+changed spec\.revoked/);
    expect(t.stdout).toMatch(/setup\s+token\.create\s+Token\/acme-admin\s+created/);
    const j = JSON.parse((await run('audit', '--kind', 'ApiKey', '-o', 'json')).stdout);
    expect(j.items.map((e: { action: string }) => e.action)).toEqual(['apikey.create', 'apikey.revoke']);
    expect(j.items[1]).toMatchObject({ actor: 'setup', role: 'admin', before: { spec: { tenant: 'acme' } }, after: { spec: { revoked: true } } });
    for (const out of [t.stdout, JSON.stringify(j)]) {
      expect(out).not.toContain(key);
      expect(out).not.toContain(tenantAdmin);
    }
    expect((await runAs(tenantAdmin, 'audit')).stderr).toMatch(/may not read the audit log/);
  });
});
