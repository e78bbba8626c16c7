/**
 * `switchyard audit`: the audit log of admin actions (who, what, when, before and after), as a
 * table with a short summary of each change, or as JSON with the full objects. Needs an admin
 * token.
 */
import type { AuditObject, StoredAuditEntry } from '../../api/index.js';
import { clientFlags, withClient } from '../client-flags.js';
import { defineCommand } from '../framework.js';
import { renderTable, shortDate } from '../output.js';

const MAX_PATHS = 3;

/** Dotted paths whose values differ between two JSON values (at most `depth` levels deep). */
export function changedPaths(before: unknown, after: unknown, depth = 4, prefix = ''): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObject(before) && isObject(after) && depth > 0) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => changedPaths(before[k], after[k], depth - 1, prefix ? `${prefix}.${k}` : k));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [prefix || '<value>'];
}

/** `created`, `deleted`, `changed spec.revoked`, `changed spec.hash, spec.prefix +1 more`, or `-`. */
export function changeSummary(before: AuditObject | null, after: AuditObject | null): string {
  if (before === null && after === null) return '-';
  if (before === null) return 'created';
  if (after === null) return 'deleted';
  const paths = changedPaths(before, after);
  if (paths.length === 0) return 'no change';
  const shown = paths.slice(0, MAX_PATHS).join(', ');
  return `changed ${shown}${paths.length > MAX_PATHS ? ` +${paths.length - MAX_PATHS} more` : ''}`;
}

export function auditTable(items: readonly StoredAuditEntry[]): string {
  const rows = items.map((e) => [shortDate(new Date(e.ts).toISOString()), e.actor, e.action, `${e.kind}/${e.name}`, changeSummary(e.before, e.after), e.note ?? '']);
  return renderTable({ headers: ['TIME', 'ACTOR', 'ACTION', 'OBJECT', 'CHANGE', 'NOTE'], rows });
}

export const auditCommand = defineCommand({
  name: 'audit',
  summary: 'Show the audit log of admin actions: who, what, when, before and after',
  description: [
    'Every action through the admin API is recorded: resource writes, deletes and rollbacks, API',
    'keys minted, rotated and revoked, admin tokens created and deleted, cluster tokens issued and',
    'price changes. The table summarises each change; -o json has the objects before and after.',
    'Secrets are never recorded (keys appear as their hash and prefix).',
  ].join('\n'),
  flags: {
    ...clientFlags,
    since: { type: 'string', default: '1d', description: 'From: a duration back from now (1d, 2h), an ISO date or time, or epoch ms', placeholder: 'time' },
    until: { type: 'string', description: 'Up to (exclusive; same forms as --since)', placeholder: 'time' },
    actor: { type: 'string', description: 'Only entries whose actor contains this text (a user or token name)', placeholder: 'text' },
    kind: { type: 'string', description: 'Only this kind of object: Function, ApiKey, Token, PriceTable, ...', placeholder: 'kind' },
    action: { type: 'string', description: 'Only this action, e.g. apikey.revoke', placeholder: 'action' },
    limit: { type: 'int', min: 1, max: 10_000, default: 1000, description: 'The newest this many entries' },
    output: { type: 'enum', values: ['table', 'json'], default: 'table', short: 'o', description: 'Output format: table or json' },
  },
  examples: ['switchyard audit', 'switchyard audit --since 7d --kind ApiKey', 'switchyard audit --actor alice -o json'],
  async run({ flags, io }) {
    return withClient(flags, io, async (client) => {
      const items = await client.audit({
        since: flags.since,
        ...(flags.until ? { until: flags.until } : {}),
        ...(flags.actor ? { actor: flags.actor } : {}),
        ...(flags.kind ? { kind: flags.kind } : {}),
        ...(flags.action ? { action: flags.action } : {}),
        limit: flags.limit,
      });
      if (flags.output === 'json') io.stdout(`${JSON.stringify({ items }, null, 2)}\n`);
      else if (items.length === 0) io.stderr(`No audit entries since ${flags.since}.\n`);
      else io.stdout(auditTable(items));
    });
  },
});
