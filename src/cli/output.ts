/**
 * Rendering shared by the resource commands: aligned tables, ages (5s, 3m, 2h, 4d), per-kind
 * table rows, and YAML/JSON output. Pure functions: `now` is passed in.
 */
import { stringify } from 'yaml';
import type { AnyResource, ApiKeyResource, ClusterResource, ClusterSelector, DeploymentResource, FunctionResource, Kind, NodeInventory, RateLimits, TenantResource } from '../api/index.js';

export type OutputFormat = 'table' | 'wide' | 'yaml' | 'json';
export const OUTPUT_FORMATS = ['table', 'wide', 'yaml', 'json'] as const;
/** The formats of the commands that show one whole resource (describe, delete): their own text, YAML or JSON. */
export const RESOURCE_FORMATS = ['table', 'yaml', 'json'] as const;
export type ResourceFormat = (typeof RESOURCE_FORMATS)[number];

export interface Table {
  headers: string[];
  rows: string[][];
}

/**
 * Columns padded to their widest cell and separated by `gap` spaces; no trailing spaces.
 * Width counts code points, so 'µ' or '—' take one column.
 */
export function renderTable(table: Table, gap = 3): string {
  const { headers, rows } = table;
  const all = [headers, ...rows];
  const cols = Math.max(...all.map((r) => r.length));
  const width = (s: string): number => [...s].length;
  const widths = Array.from({ length: cols }, (_, c) => Math.max(0, ...all.map((r) => width(r[c] ?? ''))));
  const line = (r: readonly string[]): string =>
    Array.from({ length: cols }, (_, c) => {
      const cell = r[c] ?? '';
      return c === cols - 1 ? cell : cell + ' '.repeat((widths[c] ?? 0) - width(cell) + gap);
    })
      .join('')
      .trimEnd();
  return all.map(line).join('\n') + '\n';
}

/** 4s, 3m, 2h, 4d, 2y: the largest whole unit, like kubectl's AGE column. Negative (clock skew) is 0s. */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms)) return '<unknown>';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 365) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}

/** The age of an ISO timestamp at `nowMs` (epoch ms), or `missing` when absent or unparsable. */
export function ageOf(iso: string | undefined, nowMs: number, missing = '<unknown>'): string {
  if (!iso) return missing;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? missing : formatAge(nowMs - t);
}

/** `8xA100,2xL4` summed over nodes; `-` without GPUs; ` (simulated)` appended for simulated inventories. */
export function gpuSummary(nodes: readonly NodeInventory[], simulated = false): string {
  const byType = new Map<string, number>();
  for (const n of nodes) for (const g of n.gpus) byType.set(g.type, (byType.get(g.type) ?? 0) + g.count);
  const text = [...byType].filter(([, c]) => c > 0).map(([t, c]) => `${c}x${t}`).join(',') || '-';
  return simulated ? `${text} (simulated)` : text;
}

/** `east,{region=us}`: target cluster names and label selectors. */
export function targetsText(targets: readonly ClusterSelector[]): string {
  if (targets.length === 0) return '<none>';
  return targets.map((t) => (typeof t === 'string' ? t : `{${Object.entries(t.matchLabels).map(([k, v]) => `${k}=${v}`).join(',')}}`)).join(',');
}

/** Up to `max` items, then `+N more`. */
export function listText(items: readonly string[], max = 2, none = '<none>'): string {
  if (items.length === 0) return none;
  return items.length <= max ? items.join(',') : `${items.slice(0, max).join(',')} +${items.length - max} more`;
}

export interface RowOptions {
  nowMs: number;
  wide?: boolean;
}

export function functionTable(items: readonly FunctionResource[], o: RowOptions): Table {
  const headers = ['NAME', 'RUNTIME', 'MODEL', 'GPUS', 'REPLICAS', 'TARGETS', 'READY', 'AGE'];
  if (o.wide) headers.push('SERVED-NAME', 'PROFILE', 'DEPLOYMENTS');
  const rows = items.map((f) => {
    const gpu = f.spec.resources.gpu;
    const row = [
      f.metadata.name,
      f.spec.runtime,
      f.spec.model,
      gpu.count > 0 ? `${gpu.count}x${gpu.type}` : '-',
      `${f.spec.scaling.minReplicas}-${f.spec.scaling.maxReplicas}`,
      targetsText(f.spec.targetClusters),
      String(f.status?.readyReplicas ?? 0),
      ageOf(f.metadata.creationTimestamp, o.nowMs),
    ];
    if (o.wide) row.push(f.spec.servedName ?? f.metadata.name, f.spec.routing.profile, listText((f.status?.deployments ?? []).map((d) => d.name), 3));
    return row;
  });
  return { headers, rows };
}

export function deploymentTable(items: readonly DeploymentResource[], o: RowOptions): Table {
  const headers = ['NAME', 'FUNCTION', 'CLUSTER', 'PHASE', 'READY', 'ENDPOINTS', 'AGE'];
  if (o.wide) headers.push('TENANT', 'RESTARTS', 'SERVED-NAME', 'REPLICAS');
  const rows = items.map((d) => {
    const s = d.status;
    const replicas = s?.replicas ?? [];
    const ready = replicas.filter((r) => r.state === 'ready' && r.endpoint).map((r) => r.endpoint!);
    const row = [
      d.metadata.name,
      d.spec.function,
      d.spec.cluster,
      s?.phase ?? 'Pending',
      `${s?.readyReplicas ?? 0}/${s?.desiredReplicas ?? d.spec.replicas ?? 0}`,
      listText(ready),
      ageOf(d.metadata.creationTimestamp, o.nowMs),
    ];
    if (o.wide) {
      row.push(d.spec.tenant ?? '-', String(replicas.reduce((n, r) => n + r.restarts, 0)), s?.servedName ?? '-', listText(replicas.map((r) => r.state), 6));
    }
    return row;
  });
  return { headers, rows };
}

export function clusterTable(items: readonly ClusterResource[], o: RowOptions): Table {
  const headers = ['NAME', 'PROVIDER', 'REGION', 'HEALTH', 'GPUS', 'LAST-HEARTBEAT', 'AGE'];
  if (o.wide) headers.push('NODES', 'ENDPOINTS', 'AGENT', 'MESSAGE');
  const rows = items.map((c) => {
    const s = c.status;
    const row = [
      c.metadata.name,
      c.spec.provider,
      c.spec.region ?? '-',
      s?.health ?? 'Unknown',
      gpuSummary(s?.nodes ?? [], s?.simulated === true),
      ageOf(s?.lastHeartbeat, o.nowMs, '<never>'),
      ageOf(c.metadata.creationTimestamp, o.nowMs),
    ];
    if (o.wide) {
      const eps = s?.endpoints ?? [];
      row.push(String(s?.nodes.length ?? 0), `${eps.filter((e) => e.healthy).length}/${eps.length} healthy`, s?.agentVersion ?? '-', s?.message ?? '');
    }
    return row;
  });
  return { headers, rows };
}

/** `rpm=60,tpm=10000,concurrent=4`, or `-` without limits. */
export function limitsText(l: RateLimits | undefined): string {
  if (!l) return '-';
  const parts = [l.rpm !== undefined ? `rpm=${l.rpm}` : '', l.tpm !== undefined ? `tpm=${l.tpm}` : '', l.maxConcurrent !== undefined ? `concurrent=${l.maxConcurrent}` : ''].filter(Boolean);
  return parts.join(',') || '-';
}

export function tenantTable(items: readonly TenantResource[], o: RowOptions): Table {
  const headers = ['NAME', 'DISPLAY-NAME', 'PRIORITY', 'GPUS', 'MODELS', 'CLUSTERS', 'KEYS', 'AGE'];
  if (o.wide) headers.push('LIMITS', 'KEY-LIMITS', 'BUDGET', 'USAGE');
  const rows = items.map((t) => {
    const s = t.spec;
    const used = t.status?.gpusInUse ?? 0;
    const row = [
      t.metadata.name,
      s.displayName ?? '-',
      String(s.priority),
      s.gpuQuota === undefined ? `${used}/unlimited` : `${used}/${s.gpuQuota}`,
      s.allowedModels ? listText(s.allowedModels) : '<all>',
      s.allowedClusters ? listText(s.allowedClusters) : '<all>',
      String(t.status?.keys ?? 0),
      ageOf(t.metadata.creationTimestamp, o.nowMs),
    ];
    if (o.wide) {
      const b = s.budget;
      const budget = [b?.tokensPerMonth !== undefined ? `${b.tokensPerMonth} tokens/month` : '', b?.usdPerMonth !== undefined ? `$${b.usdPerMonth}/month` : ''].filter(Boolean).join(',') || '-';
      const u = t.status?.usage;
      row.push(limitsText(s.limits), limitsText(s.keyLimits), budget, u ? `${u.month}: ${u.requests} requests, ${u.inputTokens + u.outputTokens} tokens, $${u.usd.toFixed(2)}` : '-');
    }
    return row;
  });
  return { headers, rows };
}

/** active, revoked or expired (at `nowMs`). */
export function keyState(k: ApiKeyResource, nowMs: number): 'active' | 'revoked' | 'expired' {
  if (k.spec.revoked) return 'revoked';
  if (k.spec.expiresAt !== undefined && Date.parse(k.spec.expiresAt) <= nowMs) return 'expired';
  return 'active';
}

export function apiKeyTable(items: readonly ApiKeyResource[], o: RowOptions): Table {
  const headers = ['NAME', 'TENANT', 'PREFIX', 'STATE', 'EXPIRES', 'LAST-USED', 'AGE'];
  if (o.wide) headers.push('MODELS', 'LIMITS', 'DESCRIPTION');
  const rows = items.map((k) => {
    const row = [
      k.metadata.name,
      k.spec.tenant,
      `${k.spec.prefix}…`,
      keyState(k, o.nowMs),
      k.spec.expiresAt ? shortDate(k.spec.expiresAt) : '<never>',
      k.status?.lastUsedAt ? `${ageOf(k.status.lastUsedAt, o.nowMs)} ago` : '<never>',
      ageOf(k.metadata.creationTimestamp, o.nowMs),
    ];
    if (o.wide) row.push(k.spec.scopes?.models ? listText(k.spec.scopes.models, 3) : '<all>', limitsText(k.spec.limits), k.spec.description ?? '');
    return row;
  });
  return { headers, rows };
}

/** The table for resources of one kind. */
export function resourceTable(kind: Kind, items: readonly AnyResource[], o: RowOptions): Table {
  switch (kind) {
    case 'Function':
      return functionTable(items.filter((r) => r.kind === 'Function'), o);
    case 'Deployment':
      return deploymentTable(items.filter((r) => r.kind === 'Deployment'), o);
    case 'Cluster':
      return clusterTable(items.filter((r) => r.kind === 'Cluster'), o);
    case 'Tenant':
      return tenantTable(items.filter((r) => r.kind === 'Tenant'), o);
    case 'ApiKey':
      return apiKeyTable(items.filter((r) => r.kind === 'ApiKey'), o);
  }
}

/** YAML: one document per resource, `---` between them (so `get -o yaml | apply -f -` works). */
export function toYaml(items: readonly unknown[]): string {
  return items.map((r) => stringify(r, { lineWidth: 0 })).join('---\n');
}

/** JSON: the resource itself, or a List of them. */
export function toJson(items: readonly AnyResource[], single: boolean, kind: Kind): string {
  return JSON.stringify(single ? items[0] : { apiVersion: 'switchyard.dev/v1', kind: `${kind}List`, items }, null, 2) + '\n';
}

/** Render resources in the chosen format. */
export function renderResources(kind: Kind, items: readonly AnyResource[], format: OutputFormat, o: { nowMs: number; single: boolean }): string {
  switch (format) {
    case 'yaml':
      return toYaml(items);
    case 'json':
      return toJson(items, o.single, kind);
    case 'table':
    case 'wide':
      return renderTable(resourceTable(kind, items, { nowMs: o.nowMs, wide: format === 'wide' }));
  }
}

/**
 * One resource in a ResourceFormat: `text()` (the command's own output) for `table`, else the
 * resource as `get KIND NAME -o yaml|json` prints it.
 */
export function renderResource(r: AnyResource, format: ResourceFormat, text: () => string): string {
  return format === 'table' ? text() : renderResources(r.kind, [r], format, { nowMs: 0, single: true });
}

/** `2026-01-01 10:00:00Z` from an ISO timestamp (the date as given when it does not parse). */
export function shortDate(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}
