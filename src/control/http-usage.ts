/**
 * Admin API routes of usage metering and the audit log:
 *
 *   POST /api/v1/usage    gateways report finished requests ({records: [...]}, ≤ 5,000): 202
 *   GET  /api/v1/usage    aggregates per tenant × model (× day): ?tenant=&since=&until=&groupBy=day|none
 *   GET  /api/v1/pricing  the price table;  PUT /api/v1/pricing  replace it (admin)
 *   GET  /api/v1/audit    audit entries (admin): ?since=&until=&actor=&kind=&action=&limit=
 *
 * Times in queries are epoch ms, ISO 8601 times, or durations back from now ('7d', '12h').
 */
import { UsagePostSchema } from '../api/index.js';
import { parseDuration, SwitchyardError } from '../core/index.js';
import { sendJson } from '../openai/index.js';
import { actionOf, whoOf } from './audit.js';
import { parseBody, parseJson, readText, type Route } from './http-common.js';
import { authorize } from './permissions.js';

export const usageRoutes: Route[] = [
  {
    method: 'POST',
    path: /^\/api\/v1\/usage$/,
    need: () => ({ action: 'usage-write' }),
    handler: async (cp, c) => {
      const { records } = await parseBody(c.req, UsagePostSchema, 'usage records');
      for (const r of records) cp.usage.record(r);
      sendJson(c.res, 202, { accepted: records.length });
    },
  },
  {
    method: 'GET',
    path: /^\/api\/v1\/usage$/,
    need: () => ({ action: 'usage-query' }),
    handler: async (cp, c) => {
      const q = c.url.searchParams;
      const tenant = q.get('tenant') ?? undefined;
      authorize(c.principal, { action: 'usage', tenant });
      const groupBy = q.get('groupBy') ?? 'day';
      if (groupBy !== 'day' && groupBy !== 'none') throw new SwitchyardError('invalid_argument', `groupBy must be 'day' or 'none', got '${groupBy}'`, { param: 'groupBy' });
      const now = cp.clock.epochMs();
      const items = await cp.store.queryUsage({ tenant, since: timeParam(q, 'since', now), until: timeParam(q, 'until', now), groupBy });
      sendJson(c.res, 200, { items });
    },
  },
  {
    method: 'GET',
    path: /^\/api\/v1\/pricing$/,
    need: () => ({ action: 'pricing', write: false }),
    handler: async (cp, c) => sendJson(c.res, 200, await cp.pricing.load()),
  },
  {
    method: 'PUT',
    path: /^\/api\/v1\/pricing$/,
    need: () => ({ action: 'pricing', write: true }),
    handler: async (cp, c) => {
      const { before, after } = await cp.pricing.set(parseJson(await readText(c.req)));
      await cp.audit.record(whoOf(c.actor, c.principal), { action: actionOf('pricing', 'update'), kind: 'PriceTable', name: 'default', before, after });
      sendJson(c.res, 200, after);
    },
  },
  {
    method: 'GET',
    path: /^\/api\/v1\/audit$/,
    need: () => ({ action: 'audit' }),
    handler: async (cp, c) => {
      const q = c.url.searchParams;
      const now = cp.clock.epochMs();
      const limitText = q.get('limit');
      const limit = limitText === null ? undefined : Number(limitText);
      if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) throw new SwitchyardError('invalid_argument', `limit must be an integer >= 1, got '${limitText}'`, { param: 'limit' });
      const items = await cp.audit.query({
        since: timeParam(q, 'since', now),
        until: timeParam(q, 'until', now),
        actor: q.get('actor') ?? undefined,
        kind: q.get('kind') ?? undefined,
        action: q.get('action') ?? undefined,
        limit,
      });
      sendJson(c.res, 200, { items });
    },
  },
];

/**
 * A time in a query: epoch ms (digits), an ISO 8601 date or time, or a duration back from
 * `now` ('7d'). Undefined when absent. @throws invalid_argument naming the parameter.
 */
export function timeParam(q: URLSearchParams, name: string, now: number): number | undefined {
  const text = q.get(name)?.trim();
  if (text === undefined || text === '') return undefined;
  if (/^\d+$/.test(text)) return Number(text);
  if (/^\d{4}-\d\d-\d\d/.test(text)) {
    const t = Date.parse(text);
    if (!Number.isNaN(t)) return Math.max(0, t);
  } else {
    try {
      return Math.max(0, Math.round(now - parseDuration(text, name)));
    } catch {
      // fall through to the message naming every form
    }
  }
  throw new SwitchyardError('invalid_argument', `${name} '${text}' is not a time: use a duration back from now (e.g. '7d', '12h'), an ISO date or time ('2026-01-31', '2026-01-31T12:00:00Z'), or epoch milliseconds`, { param: name });
}
