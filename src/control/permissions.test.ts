import { describe, expect, it } from 'vitest';
import type { Kind } from '../api/index.js';
import { SwitchyardError } from '../core/index.js';
import { authorize, permits, type Need } from './permissions.js';
import type { Principal } from './tokens.js';

const admin: Principal = { kind: 'user', name: 'admin', role: 'admin' };
const operator: Principal = { kind: 'user', name: 'ci', role: 'operator', token: 'ci' };
const viewer: Principal = { kind: 'user', name: 'dash', role: 'viewer', token: 'dash' };
const acmeAdmin: Principal = { kind: 'user', name: 'acme-admin', role: 'tenant-admin', tenant: 'acme', token: 'acme-admin' };
const agent: Principal = { kind: 'agent', cluster: 'east', name: 'agent:east' };

const read = (kind: Kind, tenant?: string): Need => ({ action: 'read', kind, tenant });
const write = (kind: Kind, tenant?: string): Need => ({ action: 'write', kind, tenant });

describe('permits', () => {
  it.each<[string, Principal, Need, boolean]>([
    ['admin writes anything', admin, write('Tenant'), true],
    ['admin manages tokens', admin, { action: 'tokens' }, true],
    ['operator writes functions', operator, write('Function'), true],
    ['operator writes deployments', operator, write('Deployment'), true],
    ['operator writes clusters', operator, write('Cluster'), true],
    ['operator may not write tenants', operator, write('Tenant', 'acme'), false],
    ['operator may not mint keys', operator, write('ApiKey', 'acme'), false],
    ['operator may not manage tokens', operator, { action: 'tokens' }, false],
    ['operator reads keys (hashes only)', operator, read('ApiKey'), true],
    ['operator applies (each manifest checked again)', operator, { action: 'apply' }, true],
    ['viewer reads', viewer, read('Function'), true],
    ['viewer watches', viewer, { action: 'watch' }, true],
    ['viewer may not write', viewer, write('Function'), false],
    ['viewer may not apply', viewer, { action: 'apply' }, false],
    ['viewer may not manage tokens', viewer, { action: 'tokens' }, false],
    ['tenant-admin reads its tenant', acmeAdmin, read('Tenant', 'acme'), true],
    ['tenant-admin may not change its tenant', acmeAdmin, write('Tenant', 'acme'), false],
    ['tenant-admin manages its keys', acmeAdmin, write('ApiKey', 'acme'), true],
    ['tenant-admin lists its keys', acmeAdmin, read('ApiKey', 'acme'), true],
    ["tenant-admin may not touch another tenant's keys", acmeAdmin, write('ApiKey', 'other'), false],
    ['tenant-admin may not read another tenant', acmeAdmin, read('Tenant', 'other'), false],
    ['tenant-admin may not list every key', acmeAdmin, read('ApiKey'), false],
    ['tenant-admin may not read functions', acmeAdmin, read('Function'), false],
    ['tenant-admin may not watch', acmeAdmin, { action: 'watch' }, false],
    ['agent reads', agent, read('Deployment'), true],
    ['agent watches', agent, { action: 'watch' }, true],
    ['agent heartbeats its cluster', agent, { action: 'heartbeat', cluster: 'east' }, true],
    ["agent may not heartbeat another's", agent, { action: 'heartbeat', cluster: 'west' }, false],
    ['agent may not write', agent, write('Function'), false],
  ])('%s', (_what, p, need, want) => {
    expect(permits(p, need)).toBe(want);
  });
});

describe('authorize', () => {
  it('throws forbidden naming the token, its role and what was refused', () => {
    const err = (() => {
      try {
        authorize(viewer, write('Function'));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(SwitchyardError);
    expect(err).toMatchObject({ code: 'forbidden', status: 403, message: "token 'dash' (role viewer) may not write functions" });
    expect(() => authorize(acmeAdmin, write('ApiKey', 'other'))).toThrow("token 'acme-admin' (role tenant-admin of tenant 'acme') may not write apikeys of tenant 'other'");
    expect(() => authorize(acmeAdmin, read('ApiKey'))).toThrow(/keys list --tenant acme/);
    expect(() => authorize(agent, write('Function'))).toThrow("the agent token of cluster 'east' may not do this");
  });
});
