/** Shared by both stores: batch validation and serialization, and the errors they raise. */
import { AUDIT_DEFAULT_LIMIT, AUDIT_MAX_LIMIT, dayStartMs, isErrorStatus, type AuditEntry, type AuditQuery, type StoredAuditEntry, type UsageAggregate, type UsageQuery, type UsageRecord, type UsageTotals } from '../api/index.js';
import { SwitchyardError } from '../core/index.js';
import type { JsonObject, WriteOp } from './types.js';

/** An op with its body already serialized (undefined for deletes). */
export type PreparedOp = { op: WriteOp; json: string | undefined };

/** Validate a batch and serialize its bodies before any lock or connection is taken. */
export function prepareOps(ops: readonly WriteOp[]): PreparedOp[] {
  const untrusted: unknown = ops;
  if (!Array.isArray(untrusted)) throw new SwitchyardError('invalid_argument', 'ops must be an array', { param: 'ops' });
  return ops.map((op, i) => {
    const at = `ops[${i}]`;
    if (op.op !== 'create' && op.op !== 'update' && op.op !== 'delete') throw new SwitchyardError('invalid_argument', `${at}.op must be create, update or delete`, { param: `${at}.op` });
    if (typeof op.kind !== 'string' || op.kind === '') throw new SwitchyardError('invalid_argument', `${at}.kind must be a non-empty string`, { param: `${at}.kind` });
    if (typeof op.name !== 'string' || op.name === '') throw new SwitchyardError('invalid_argument', `${at}.name must be a non-empty string`, { param: `${at}.name` });
    if (op.op !== 'create' && op.expectRv !== undefined) checkInt(op.expectRv, `${at}.expectRv`, 0);
    if (op.op === 'delete') return { op, json: undefined };
    if (typeof op.body !== 'object' || op.body === null || Array.isArray(op.body)) throw new SwitchyardError('invalid_argument', `${at}.body must be a JSON object`, { param: `${at}.body` });
    try {
      return { op, json: JSON.stringify(op.body) };
    } catch (e) {
      throw new SwitchyardError('invalid_argument', `${at}.body is not serializable as JSON: ${e instanceof Error ? e.message : String(e)}`, { param: `${at}.body` });
    }
  });
}

export function checkInt(value: number, param: string, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) throw new SwitchyardError('invalid_argument', `${param} must be an integer >= ${min}, got ${value}`, { param });
}

export function conflict(op: WriteOp & { expectRv?: number }, actual: number): SwitchyardError {
  return new SwitchyardError('conflict', `${op.kind} '${op.name}' is at rv ${actual}, not the expected ${op.expectRv}; re-read and retry`, { detail: { expectRv: op.expectRv, actualRv: actual } });
}

export function gone(sinceRv: number, compactedRv: number): SwitchyardError {
  return new SwitchyardError('gone', `events after rv ${sinceRv} were compacted (oldest kept is after rv ${compactedRv}); re-list and watch from the list's rv`, { detail: { sinceRv, compactedRv } });
}

export function parseBody(json: string): JsonObject {
  return JSON.parse(json) as JsonObject;
}

/** A usage record as both stores write it: status as text, the error flag and the UTC day computed. */
export interface UsageRow {
  ts: number;
  requestId: string;
  tenant: string;
  key: string;
  model: string;
  cluster: string;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  latencyMs: number;
  status: string;
  usd: number;
  error: 0 | 1;
  day: number;
}

/** Check usage records (cheaply: the schema was applied at the edge) and turn them into rows. */
export function prepareUsage(records: readonly UsageRecord[]): UsageRow[] {
  const untrusted: unknown = records;
  if (!Array.isArray(untrusted)) throw new SwitchyardError('invalid_argument', 'records must be an array', { param: 'records' });
  return records.map((r, i) => {
    const at = `records[${i}]`;
    for (const f of ['ts', 'inputTokens', 'outputTokens', 'cachedTokens'] as const) checkInt(r[f], `${at}.${f}`, 0);
    for (const f of ['requestId', 'tenant', 'key', 'model', 'cluster'] as const) {
      if (typeof r[f] !== 'string') throw new SwitchyardError('invalid_argument', `${at}.${f} must be a string`, { param: `${at}.${f}` });
    }
    if (r.requestId === '') throw new SwitchyardError('invalid_argument', `${at}.requestId must not be empty`, { param: `${at}.requestId` });
    const usd = r.usd ?? 0;
    if (!(Number.isFinite(r.latencyMs) && r.latencyMs >= 0)) throw new SwitchyardError('invalid_argument', `${at}.latencyMs must be a number >= 0`, { param: `${at}.latencyMs` });
    if (!(Number.isFinite(usd) && usd >= 0)) throw new SwitchyardError('invalid_argument', `${at}.usd must be a number >= 0`, { param: `${at}.usd` });
    if (typeof r.status !== 'number' && typeof r.status !== 'string') throw new SwitchyardError('invalid_argument', `${at}.status must be a number or a string`, { param: `${at}.status` });
    return {
      ts: r.ts,
      requestId: r.requestId,
      tenant: r.tenant,
      key: r.key,
      model: r.model,
      cluster: r.cluster,
      inputTokens: r.inputTokens,
      outputTokens: r.outputTokens,
      cachedTokens: r.cachedTokens,
      latencyMs: r.latencyMs,
      status: String(r.status),
      usd,
      error: isErrorStatus(r.status) ? 1 : 0,
      day: dayStartMs(r.ts),
    };
  });
}

/** The day range of a usage query: [since's day start, until), defaults: everything. */
export function usageRange(q: UsageQuery): { since: number; until: number } {
  if (q.groupBy !== 'day' && q.groupBy !== 'none') throw new SwitchyardError('invalid_argument', `groupBy must be 'day' or 'none', got ${String(q.groupBy)}`, { param: 'groupBy' });
  const since = q.since ?? 0;
  const until = q.until ?? Number.MAX_SAFE_INTEGER;
  checkInt(since, 'since', 0);
  checkInt(until, 'until', 0);
  return { since: dayStartMs(since), until };
}

/** One aggregate row as both stores read it (Postgres returns sums as strings). */
export interface AggregateRow {
  day?: number | string | null;
  tenant: string;
  model: string;
  requests: number | string;
  input_tokens: number | string;
  output_tokens: number | string;
  cached_tokens: number | string;
  usd: number | string;
  errors: number | string;
  latency_ms: number | string;
}

export function aggregateOf(r: AggregateRow): UsageAggregate {
  const requests = Number(r.requests);
  return {
    ...(r.day !== undefined && r.day !== null ? { day: new Date(Number(r.day)).toISOString().slice(0, 10) } : {}),
    tenant: r.tenant,
    model: r.model,
    requests,
    inputTokens: Number(r.input_tokens),
    outputTokens: Number(r.output_tokens),
    cachedTokens: Number(r.cached_tokens),
    usd: Number(r.usd),
    errors: Number(r.errors),
    avgLatencyMs: requests > 0 ? Number(r.latency_ms) / requests : 0,
  };
}

/** Totals from one summed row (all nulls when the tenant has no usage yet). */
export function totalsOf(r: { requests: unknown; input_tokens: unknown; output_tokens: unknown; cached_tokens: unknown; usd: unknown } | undefined): UsageTotals {
  return {
    requests: Number(r?.requests ?? 0),
    inputTokens: Number(r?.input_tokens ?? 0),
    outputTokens: Number(r?.output_tokens ?? 0),
    cachedTokens: Number(r?.cached_tokens ?? 0),
    usd: Number(r?.usd ?? 0),
  };
}

/** An audit entry serialized for storage. */
export interface AuditRow {
  ts: number;
  actor: string;
  role: string | null;
  action: string;
  kind: string;
  name: string;
  before: string | null;
  after: string | null;
  note: string | null;
}

export function prepareAudit(entries: readonly AuditEntry[]): AuditRow[] {
  const untrusted: unknown = entries;
  if (!Array.isArray(untrusted)) throw new SwitchyardError('invalid_argument', 'entries must be an array', { param: 'entries' });
  return entries.map((e, i) => {
    const at = `entries[${i}]`;
    checkInt(e.ts, `${at}.ts`, 0);
    for (const f of ['actor', 'action', 'kind', 'name'] as const) {
      if (typeof e[f] !== 'string') throw new SwitchyardError('invalid_argument', `${at}.${f} must be a string`, { param: `${at}.${f}` });
    }
    return {
      ts: e.ts,
      actor: e.actor,
      role: e.role ?? null,
      action: e.action,
      kind: e.kind,
      name: e.name,
      before: e.before === null ? null : JSON.stringify(e.before),
      after: e.after === null ? null : JSON.stringify(e.after),
      note: e.note ?? null,
    };
  });
}

/** The limit of an audit query (default 1000, at most 10,000). */
export function auditLimit(q: AuditQuery): number {
  const limit = q.limit ?? AUDIT_DEFAULT_LIMIT;
  checkInt(limit, 'limit', 1);
  return Math.min(limit, AUDIT_MAX_LIMIT);
}

/**
 * The WHERE clause of an audit query and its parameters. `param()` names the next placeholder
 * ('?' or '$n'); `contains(p)` is the dialect's "actor contains p".
 */
export function auditFilter(q: AuditQuery, param: () => string, contains: (p: string) => string): { where: string; params: (string | number)[] } {
  const conds: string[] = [];
  const params: (string | number)[] = [];
  const add = (value: string | number, cond: (p: string) => string): void => {
    params.push(value);
    conds.push(cond(param()));
  };
  if (q.since !== undefined) checkInt(q.since, 'since', 0);
  if (q.until !== undefined) checkInt(q.until, 'until', 0);
  if (q.since !== undefined) add(q.since, (p) => `ts >= ${p}`);
  if (q.until !== undefined) add(q.until, (p) => `ts < ${p}`);
  if (q.actor !== undefined) add(q.actor, contains);
  if (q.kind !== undefined) add(q.kind, (p) => `kind = ${p}`);
  if (q.action !== undefined) add(q.action, (p) => `action = ${p}`);
  return { where: conds.length ? `WHERE ${conds.join(' AND ')}` : '', params };
}

export function auditEntryOf(r: { id: number | string; ts: number | string } & Omit<AuditRow, 'ts'>): StoredAuditEntry {
  return {
    id: Number(r.id),
    ts: Number(r.ts),
    actor: r.actor,
    ...(r.role !== null ? { role: r.role } : {}),
    action: r.action,
    kind: r.kind,
    name: r.name,
    before: r.before === null ? null : parseBody(r.before),
    after: r.after === null ? null : parseBody(r.after),
    ...(r.note !== null ? { note: r.note } : {}),
  };
}
