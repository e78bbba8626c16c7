/**
 * Who may do what on the admin API. Every route states what it needs (a Need); `authorize`
 * checks it against the caller's Principal. Pure; the table of rules is this file.
 *
 *   role          reads                         writes
 *   admin         everything                    everything (tokens too)
 *   operator      everything but tokens         Functions, Deployments, Clusters (and apply of them)
 *   viewer        everything but tokens         nothing
 *   tenant-admin  its Tenant, its tenant's keys its tenant's keys (create, rotate, revoke, delete)
 *   agent         every kind, the watch          its own cluster's heartbeat
 */
import { KINDS, type Kind } from '../api/index.js';
import { SwitchyardError } from '../core/index.js';
import type { Principal } from './tokens.js';

export type Need =
  /** Read or write resources of a kind; `tenant` when the object belongs to one (a Tenant itself, an ApiKey). */
  | { readonly action: 'read' | 'write'; readonly kind: Kind; readonly tenant?: string | undefined }
  /** Follow the watch stream (every kind). */
  | { readonly action: 'watch' }
  /** Apply manifests (each one is checked again as a write of its kind). */
  | { readonly action: 'apply' }
  /** Create, list or delete admin tokens. */
  | { readonly action: 'tokens' }
  | { readonly action: 'heartbeat'; readonly cluster: string };

const OPERATOR_WRITES: ReadonlySet<Kind> = new Set(['Function', 'Deployment', 'Cluster']);

/** Whether the principal may do it. */
export function permits(p: Principal, need: Need): boolean {
  if (p.kind === 'agent') return need.action === 'read' || need.action === 'watch' || (need.action === 'heartbeat' && need.cluster === p.cluster);
  switch (p.role) {
    case 'admin':
      return true;
    case 'operator':
      if (need.action === 'read' || need.action === 'watch' || need.action === 'apply') return true;
      return need.action === 'write' && OPERATOR_WRITES.has(need.kind);
    case 'viewer':
      return need.action === 'read' || need.action === 'watch';
    case 'tenant-admin':
      if (need.action !== 'read' && need.action !== 'write') return false;
      if (p.tenant === undefined || need.tenant !== p.tenant) return false;
      return need.kind === 'ApiKey' || (need.kind === 'Tenant' && need.action === 'read');
  }
}

/** @throws SwitchyardError `forbidden` (403) naming what was refused. */
export function authorize(p: Principal, need: Need): void {
  if (permits(p, need)) return;
  if (p.kind === 'agent') throw new SwitchyardError('forbidden', `the agent token of cluster '${p.cluster}' may not do this`);
  const who = p.role === 'tenant-admin' ? `token '${p.name}' (role tenant-admin of tenant '${p.tenant ?? '?'}')` : `token '${p.name}' (role ${p.role})`;
  const hint = p.role === 'tenant-admin' && need.action === 'read' && need.kind === 'ApiKey' && need.tenant === undefined ? ` (list yours with GET /api/v1/tenants/${p.tenant ?? 'T'}/keys, or switchyard keys list --tenant ${p.tenant ?? 'T'})` : '';
  throw new SwitchyardError('forbidden', `${who} may not ${describeNeed(need)}${hint}`);
}

function describeNeed(need: Need): string {
  switch (need.action) {
    case 'read':
    case 'write': {
      const what = need.tenant !== undefined ? `${KINDS[need.kind].plural} of tenant '${need.tenant}'` : KINDS[need.kind].plural;
      return `${need.action} ${what}`;
    }
    case 'watch':
      return 'watch resources';
    case 'apply':
      return 'apply manifests';
    case 'tokens':
      return 'manage admin tokens';
    case 'heartbeat':
      return `send heartbeats for cluster '${need.cluster}'`;
  }
}
