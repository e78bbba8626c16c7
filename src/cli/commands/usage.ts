/**
 * `switchyard usage`: tokens, requests, errors and cost per tenant × model (× UTC day), from the
 * control plane's usage aggregates, as a table, JSON or CSV.
 */
import type { UsageAggregate } from '../../api/index.js';
import { clientFlags, withClient } from '../client-flags.js';
import { defineCommand } from '../framework.js';
import { renderTable } from '../output.js';

const CSV_COLUMNS = ['day', 'tenant', 'model', 'requests', 'input_tokens', 'output_tokens', 'cached_tokens', 'errors', 'avg_latency_ms', 'usd'] as const;

/** A CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180). */
function csvField(v: string | number): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function usageCsv(items: readonly UsageAggregate[]): string {
  const rows = items.map((a) => [a.day ?? '', a.tenant, a.model, a.requests, a.inputTokens, a.outputTokens, a.cachedTokens, a.errors, Math.round(a.avgLatencyMs), a.usd]);
  return [CSV_COLUMNS, ...rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}

/** `$0.0123`; costs below a cent keep two significant digits (`$0.000042`). */
export function usd(v: number): string {
  if (v === 0) return '$0';
  return v >= 0.01 ? `$${v.toFixed(4)}` : `$${v.toPrecision(2)}`;
}

export function usageTable(items: readonly UsageAggregate[], byDay: boolean): string {
  const headers = [...(byDay ? ['DAY'] : []), 'TENANT', 'MODEL', 'REQUESTS', 'INPUT', 'OUTPUT', 'CACHED', 'ERRORS', 'AVG-LATENCY', 'USD'];
  const rows = items.map((a) => [
    ...(byDay ? [a.day ?? '-'] : []),
    a.tenant || '-',
    a.model || '-',
    String(a.requests),
    String(a.inputTokens),
    String(a.outputTokens),
    String(a.cachedTokens),
    String(a.errors),
    `${Math.round(a.avgLatencyMs)}ms`,
    usd(a.usd),
  ]);
  return renderTable({ headers, rows });
}

export const usageCommand = defineCommand({
  name: 'usage',
  summary: 'Show usage per tenant × model (× day): requests, tokens, errors, cost',
  description: [
    'Reads the daily usage aggregates the gateways report (requests, input/output/cached tokens,',
    'errors, mean latency and USD from the price table). Days are UTC; --since is rounded down',
    'to the start of its day. A tenant-admin token sees only its own tenant (give --tenant).',
    '',
    '-o csv prints one header line and one line per row, for spreadsheets.',
  ].join('\n'),
  flags: {
    ...clientFlags,
    tenant: { type: 'string', description: 'Only this tenant', placeholder: 'name' },
    since: { type: 'string', default: '7d', description: "From: a duration back from now (7d, 12h), an ISO date (2026-01-01) or epoch ms", placeholder: 'time' },
    until: { type: 'string', description: 'Up to (exclusive; same forms as --since); default: now', placeholder: 'time' },
    'group-by': { type: 'enum', values: ['day', 'none'], default: 'day', description: 'day: one row per UTC day; none: totals over the range' },
    output: { type: 'enum', values: ['table', 'json', 'csv'], default: 'table', short: 'o', description: 'Output format: table, json or csv' },
  },
  examples: ['switchyard usage', 'switchyard usage --tenant acme --since 30d', 'switchyard usage --since 2026-01-01 --group-by none -o csv > usage.csv'],
  async run({ flags, io }) {
    return withClient(flags, io, async (client) => {
      const items = await client.usage({ ...(flags.tenant ? { tenant: flags.tenant } : {}), since: flags.since, ...(flags.until ? { until: flags.until } : {}), groupBy: flags.groupBy });
      if (flags.output === 'json') io.stdout(`${JSON.stringify({ items }, null, 2)}\n`);
      else if (flags.output === 'csv') io.stdout(usageCsv(items));
      else if (items.length === 0) io.stderr(`No usage found${flags.tenant ? ` for tenant '${flags.tenant}'` : ''} since ${flags.since}.\n`);
      else io.stdout(usageTable(items, flags.groupBy === 'day'));
    });
  },
});
