/**
 * Admin API routes of cluster prefix summaries (ADR 0016):
 *
 *   PUT /api/v1/clusters/{name}/prefix-summary   the cluster's agent reports ({summary: base64, intervalMs?, backends?}):
 *                                                the same token as heartbeats; 400 malformed, 413 too large, 404 no such cluster
 *   GET /api/v1/clusters/{name}/prefix-summary   one cluster's latest (404 when none)
 *   GET /api/v1/prefix-summaries                 every cluster's latest, with an ETag; If-None-Match → 304
 */
import { PREFIX_SUMMARY_MAX_BASE64, PREFIX_SUMMARY_MAX_BYTES, PrefixSummaryPutSchema } from '../api/index.js';
import { ConfigError, formatZodIssues, zodParseOptions } from '../config/index.js';
import { SwitchyardError } from '../core/index.js';
import { readBody, sendJson } from '../openai/index.js';
import { PrefixSummary } from '../router/index.js';
import { NAME_SEG, parseJson, type Ctx, type Route } from './http-common.js';
import type { ControlPlane } from './control-plane.js';

/** A PUT body: the base64 summary plus room for the backend list. */
const MAX_PUT_BODY_BYTES = PREFIX_SUMMARY_MAX_BASE64 + 320 * 1024;

async function putSummary(cp: ControlPlane, c: Ctx): Promise<void> {
  const cluster = c.params[0]!;
  const raw = parseJson((await readBody(c.req, MAX_PUT_BODY_BYTES)).toString('utf8')) as { summary?: unknown } | null;
  // Too large is a 413 whatever else is wrong with it.
  if (typeof raw?.summary === 'string' && raw.summary.length > PREFIX_SUMMARY_MAX_BASE64) {
    throw new SwitchyardError('payload_too_large', `prefix summary: ${raw.summary.length} base64 characters, more than the ${PREFIX_SUMMARY_MAX_BASE64} of ${PREFIX_SUMMARY_MAX_BYTES} bytes`, { param: 'summary' });
  }
  const r = PrefixSummaryPutSchema.safeParse(raw, zodParseOptions);
  if (!r.success) throw new ConfigError('prefix summary', formatZodIssues(r.error));
  const summary = PrefixSummary.decode(Buffer.from(r.data.summary, 'base64'), { maxBytes: PREFIX_SUMMARY_MAX_BYTES });
  if (!(await cp.service.find('Cluster', cluster))) {
    throw new SwitchyardError('not_found', `Cluster '${cluster}' not found; create it first (switchyard apply -f cluster.yaml)`, { param: 'name' });
  }
  const { version, changed } = cp.prefixSummaries.put(cluster, { summary, base64: r.data.summary, intervalMs: r.data.intervalMs, backends: r.data.backends });
  sendJson(c.res, 200, { cluster, version, changed, bytes: summary.byteLength });
}

export const prefixSummaryRoutes: Route[] = [
  {
    method: 'PUT',
    path: new RegExp(`^/api/v1/clusters/${NAME_SEG}/prefix-summary$`),
    need: (_cp, p) => ({ action: 'heartbeat', cluster: p[0]! }),
    handler: putSummary,
  },
  {
    method: 'GET',
    path: new RegExp(`^/api/v1/clusters/${NAME_SEG}/prefix-summary$`),
    need: () => ({ action: 'read', kind: 'Cluster' }),
    handler: async (cp, c) => {
      const item = cp.prefixSummaries.get(c.params[0]!);
      if (!item) throw new SwitchyardError('not_found', `no prefix summary for cluster '${c.params[0]}' (its agent has not reported one, or stopped reporting)`, { param: 'name' });
      sendJson(c.res, 200, item);
    },
  },
  {
    method: 'GET',
    path: /^\/api\/v1\/prefix-summaries$/,
    need: () => ({ action: 'read', kind: 'Cluster' }),
    handler: async (cp, c) => {
      const etag = cp.prefixSummaries.etag();
      if (c.req.headers['if-none-match'] === etag) {
        c.res.writeHead(304, { etag });
        c.res.end();
        return;
      }
      c.res.setHeader('etag', etag);
      sendJson(c.res, 200, cp.prefixSummaries.list());
    },
  },
];
