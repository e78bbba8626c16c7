/**
 * Who may do what on the admin API. Every route states what it needs (a Need); `authorize`
 * checks it against the caller's Principal. Pure; the table of rules is this file.
 *
 *   role          reads                         writes
 *   admin         everything                    everything (tokens, prices too)
 *   operator      everything but tokens, audit  Functions, Deployments, Clusters (and apply of them)
 *   viewer        everything but tokens, audit  nothing
 *   tenant-admin  its Tenant, its tenant's keys its tenant's keys (create, rotate, revoke, delete)
 *                 and usage, the price table
 *   agent         every kind, the watch          its own cluster's heartbeat and prefix summary; usage records (the
 *                                               gateways of its cluster report with its token)
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
  /** Report a cluster's heartbeats and prefix summaries (its agent). */
  | { readonly action: 'heartbeat'; readonly cluster: string }
  /** Read usage aggregates; `tenant` when the query is limited to one tenant. */
  | { readonly action: 'usage'; readonly tenant?: string | undefined }
  /**
   * Ask for usage at all: the route's check, since the tenant is in the query string (which a
   * route's need does not see); the handler then checks `usage` with it.
   */
  | { readonly action: 'usage-query' }
  /** Report usage records (gateways: internal tokens are admin; a cluster's agent token). */
  | { readonly action: 'usage-write' }
  /** Read or replace the price table. */
  | { readonly action: 'pricing'; readonly write: boolean }
  /** Read the audit log. */
  | { readonly action: 'audit' };

const OPERATOR_WRITES: ReadonlySet<Kind> = new Set(['Function', 'Deployment', 'Cluster']);

/** Whether the principal may do it. */
export function permits(p: Principal, need: Need): boolean {
  if (p.kind === 'agent') return need.action === 'read' || need.action === 'watch' || need.action === 'usage-write' || (need.action === 'heartbeat' && need.cluster === p.cluster);
  if (p.role === 'admin') return true;
  if (need.action === 'pricing') return !need.write;
  if (need.action === 'usage-query') return true;
  switch (p.role) {
    case 'operator':
      if (need.action === 'read' || need.action === 'watch' || need.action === 'apply' || need.action === 'usage') return true;
      return need.action === 'write' && OPERATOR_WRITES.has(need.kind);
    case 'viewer':
      return need.action === 'read' || need.action === 'watch' || need.action === 'usage';
    case 'tenant-admin':
      if (need.action === 'usage') return p.tenant !== undefined && need.tenant === p.tenant;
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
  const hint = p.role !== 'tenant-admin' ? '' : need.action === 'read' && need.kind === 'ApiKey' && need.tenant === undefined
    ? ` (list yours with GET /api/v1/tenants/${p.tenant ?? 'T'}/keys, or switchyard keys list --tenant ${p.tenant ?? 'T'})`
    : need.action === 'usage' && need.tenant === undefined ? ` (ask for yours with ?tenant=${p.tenant ?? 'T'}, or switchyard usage --tenant ${p.tenant ?? 'T'})` : '';
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
      return `report heartbeats or prefix summaries for cluster '${need.cluster}'`;
    case 'usage':
      return need.tenant !== undefined ? `read the usage of tenant '${need.tenant}'` : 'read the usage of every tenant';
    case 'usage-query':
      return 'read usage';
    case 'usage-write':
      return 'report usage records';
    case 'pricing':
      return need.write ? 'change the price table' : 'read the price table';
    case 'audit':
      return 'read the audit log';
  }
}
