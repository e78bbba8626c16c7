/**
 * The admin REST API (/api/v1/*), /openapi.json and the /docs reference page, as one
 * node:http handler that a server mounts next to the OpenAI API. Every route states what it
 * needs (permissions.ts) and is checked against the caller's token before it runs; every
 * change it makes is recorded in the audit log (audit.ts). Errors use the OpenAI error shape
 * via sendError (one mapping, in src/openai).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildOpenApiDocument, HeartbeatSchema, parseManifests, renderApiReference, validateManifests, type Kind, type Manifest } from '../api/index.js';
import { formatZodIssues, zodParseOptions, ConfigError } from '../config/index.js';
import { SwitchyardError } from '../core/index.js';
import { sendError, sendJson } from '../openai/index.js';
import { API_KEY_WRITE_REFUSED } from './apikeys.js';
import { actionOf, whoOf } from './audit.js';
import type { ControlPlane } from './control-plane.js';
import { KIND_SEG, NAME_SEG, kindOf, parseJson, readText, tenantOf, type Ctx, type Route } from './http-common.js';
import { prefixSummaryRoutes } from './http-prefix.js';
import { tenancyRoutes } from './http-tenancy.js';
import { usageRoutes } from './http-usage.js';
import { authorize, type Need } from './permissions.js';
import type { Actor } from './resources.js';
import type { Principal } from './tokens.js';
import { serveWatch } from './watch.js';

const route = (method: Route['method'], path: string | RegExp, need: Route['need'], handler: Route['handler']): Route => ({ method, path: typeof path === 'string' ? new RegExp(`^${path}$`) : path, need, handler });
/** The need of a route on /<kind plural>/<name>. */
const onObject = (action: 'read' | 'write') => async (cp: ControlPlane, p: string[]): Promise<Need> => {
  const kind = kindOf(p[0]);
  return { action, kind, tenant: await tenantOf(cp, kind, p[1]!) };
};

const routes: Route[] = [
  route('POST', '/api/v1/apply', () => ({ action: 'apply' }), apply),
  route('GET', '/api/v1/watch', () => ({ action: 'watch' }), async (cp, c) => serveWatch(cp, c.req, c.res, c.url)),
  route('GET', `/api/v1/history/${KIND_SEG}/${NAME_SEG}`, onObject('read'), async (cp, c) => sendJson(c.res, 200, await cp.history.log(kindOf(c.params[0]), c.params[1]!))),
  route('POST', `/api/v1/rollback/${KIND_SEG}/${NAME_SEG}`, onObject('write'), rollback),
  route('POST', `/api/v1/clusters/${NAME_SEG}/heartbeat`, (_cp, p) => ({ action: 'heartbeat', cluster: p[0]! }), heartbeat),
  route('POST', `/api/v1/clusters/${NAME_SEG}/token`, () => ({ action: 'write', kind: 'Cluster' }), async (cp, c) => {
    const cluster = await cp.service.get('Cluster', c.params[0]!);
    const token = await cp.tokens.issueClusterToken(cluster.metadata.name);
    await cp.audit.record(whoOf(c.actor, c.principal), { action: actionOf('Cluster', 'issue-token'), kind: 'Cluster', name: cluster.metadata.name, before: null, after: null, note: 'agent token issued (replaces the previous one)' });
    sendJson(c.res, 200, { token });
  }),
  route('GET', `/api/v1/deployments/${NAME_SEG}/logs`, () => ({ action: 'read', kind: 'Deployment' }), logs),
  ...prefixSummaryRoutes,
  ...tenancyRoutes,
  ...usageRoutes,
  route('GET', `/api/v1/${KIND_SEG}`, (_cp, p) => ({ action: 'read', kind: kindOf(p[0]) }), async (cp, c) => {
    const kind = kindOf(c.params[0]);
    const list = await cp.service.list(kind);
    sendJson(c.res, 200, { kind: `${kind}List`, ...list });
  }),
  route('POST', `/api/v1/${KIND_SEG}`, (_cp, p) => ({ action: 'write', kind: kindOf(p[0]) }), (cp, c) => writeOne(cp, c, 'create')),
  route('GET', `/api/v1/${KIND_SEG}/${NAME_SEG}`, onObject('read'), async (cp, c) => sendJson(c.res, 200, await cp.service.get(kindOf(c.params[0]), c.params[1]!))),
  route('PUT', `/api/v1/${KIND_SEG}/${NAME_SEG}`, onObject('write'), (cp, c) => writeOne(cp, c, 'replace')),
  route('DELETE', `/api/v1/${KIND_SEG}/${NAME_SEG}`, onObject('write'), async (cp, c) => {
    const cascade = c.url.searchParams.get('cascade') === 'true';
    const kind = kindOf(c.params[0]);
    const name = c.params[1]!;
    sendJson(c.res, 200, await cp.audit.resourceDelete(cp.service, whoOf(c.actor, c.principal), { kind, name, cascade }, () => cp.service.delete(kind, name, { actor: c.actor, cascade })));
  }),
];

/** The request target as a URL, or undefined when it is not a valid origin-form path. */
function requestUrl(target: string | undefined): URL | undefined {
  try {
    return new URL(`http://localhost${target?.startsWith('/') ? '' : '/'}${target ?? ''}`);
  } catch {
    return undefined;
  }
}

/** True if the request was handled (the path belongs to the admin API). */
export function handleAdminRequest(cp: ControlPlane, req: IncomingMessage, res: ServerResponse): boolean {
  const url = requestUrl(req.url);
  if (!url) {
    sendError(res, new SwitchyardError('invalid_request', 'the request target is not a valid path'));
    return true;
  }
  const path = url.pathname;
  if (path === '/openapi.json' && req.method === 'GET') {
    sendJson(res, 200, buildOpenApiDocument());
    return true;
  }
  if ((path === '/docs' || path === '/docs/') && req.method === 'GET') {
    const html = renderApiReference(buildOpenApiDocument());
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
    res.end(html);
    return true;
  }
  if (!path.startsWith('/api/')) return false;
  dispatch(cp, req, res, url).catch((e: unknown) => {
    if (!res.headersSent) sendError(res, e);
    else res.destroy();
  });
  return true;
}

async function dispatch(cp: ControlPlane, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const path = url.pathname.replace(/\/+$/, '');
  let pathMatched = false;
  for (const r of routes) {
    const m = r.path.exec(path);
    if (!m) continue;
    pathMatched = true;
    if (r.method !== req.method) continue;
    const params = m.slice(1);
    const principal = await cp.tokens.authenticate(req.headers.authorization);
    authorize(principal, await r.need(cp, params));
    const actor = actorOf(principal, headerValue(req.headers['x-switchyard-user']));
    await r.handler(cp, { req, res, url, principal, actor, params });
    return;
  }
  if (pathMatched) throw new SwitchyardError('method_not_allowed', `method ${req.method} is not allowed on ${path}`);
  throw new SwitchyardError('not_found', `no such API path: ${path} (see /docs)`);
}

/**
 * The author recorded in history. The bootstrap admin token (and in-process components) may
 * name a user (X-Switchyard-User); a named token is always recorded with its name and role,
 * e.g. `alice (token ci, operator)`.
 */
export function actorOf(p: Principal, user: string | undefined): Actor {
  if (p.kind === 'agent') return { name: p.name };
  if (p.token === undefined) return { name: user ?? p.name };
  const via = `token ${p.token}, ${p.role}${p.tenant ? ` of ${p.tenant}` : ''}`;
  return { name: user ? `${user} (${via})` : via };
}

function headerValue(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return s && /^[\w .@-]{1,100}$/.test(s) ? s : undefined;
}

/** Generic writes may not create or replace ApiKeys: keys are minted by the server only. */
function refuseApiKeys(manifests: readonly Manifest[]): void {
  const key = manifests.find((m) => m.kind === 'ApiKey');
  if (key) throw new SwitchyardError('invalid_request', `ApiKey '${key.metadata.name}': ${API_KEY_WRITE_REFUSED}`, { param: 'kind' });
}

/** Each manifest is a write of its kind (an operator may apply Functions but not Tenants). */
async function authorizeWrites(cp: ControlPlane, c: Ctx, manifests: readonly Manifest[]): Promise<void> {
  for (const m of manifests) authorize(c.principal, { action: 'write', kind: m.kind, tenant: await tenantOf(cp, m.kind, m.metadata.name) });
}

async function apply(cp: ControlPlane, c: Ctx): Promise<void> {
  const text = await readText(c.req);
  const type = String(c.req.headers['content-type'] ?? '');
  const source = c.url.searchParams.get('source') ?? 'request';
  let manifests;
  if (type.includes('json')) {
    const body = parseJson(text) as { items?: unknown };
    if (!body || !Array.isArray(body.items)) throw new SwitchyardError('invalid_request', 'expected {"items": [manifest, ...]} (or send YAML with Content-Type: application/yaml)', { param: 'items' });
    manifests = validateManifests(body.items, source);
  } else {
    manifests = parseManifests(text, source);
  }
  refuseApiKeys(manifests);
  await authorizeWrites(cp, c, manifests);
  const dryRun = c.url.searchParams.get('dryRun') === 'true';
  const run = () => cp.service.apply(manifests, { actor: c.actor, dryRun });
  const targets = manifests.map((m) => ({ kind: m.kind, name: m.metadata.name }));
  const results = dryRun ? await run() : await cp.audit.resourceApply(cp.service, whoOf(c.actor, c.principal), targets, run);
  sendJson(c.res, 200, { dryRun, results });
}

async function writeOne(cp: ControlPlane, c: Ctx, mode: 'create' | 'replace'): Promise<void> {
  const kind: Kind = kindOf(c.params[0]);
  if (kind === 'ApiKey') throw new SwitchyardError('invalid_request', API_KEY_WRITE_REFUSED, { param: 'kind' });
  const body = parseJson(await readText(c.req));
  const [m] = validateManifests([body], 'request');
  if (!m || m.kind !== kind) throw new SwitchyardError('invalid_request', `this path takes a ${kind}, got kind ${JSON.stringify((body as { kind?: unknown })?.kind)}`, { param: 'kind' });
  if (mode === 'replace' && m.metadata.name !== c.params[1]) throw new SwitchyardError('invalid_request', `metadata.name '${m.metadata.name}' does not match the path ('${c.params[1]}')`, { param: 'metadata.name' });
  await authorizeWrites(cp, c, [m]);
  const what = { action: actionOf(kind, mode === 'create' ? 'create' : 'update'), kind, name: m.metadata.name };
  await cp.audit.resourceWrite(cp.service, whoOf(c.actor, c.principal), what, () => cp.service.apply([m], { actor: c.actor, mode }));
  sendJson(c.res, mode === 'create' ? 201 : 200, await cp.service.get(kind, m.metadata.name));
}

async function rollback(cp: ControlPlane, c: Ctx): Promise<void> {
  const kind = kindOf(c.params[0]);
  const name = c.params[1]!;
  // An old ApiKey revision holds an old hash: restoring it would bring a rotated-out secret back.
  if (kind === 'ApiKey') throw new SwitchyardError('invalid_request', `ApiKeys cannot be rolled back (an old revision would revive a rotated or revoked secret); ${API_KEY_WRITE_REFUSED}`, { param: 'kind' });
  const body = parseJson(await readText(c.req)) as { to?: unknown };
  if (typeof body?.to !== 'string' || !body.to) throw new SwitchyardError('invalid_request', "expected {\"to\": \"<revision>\"}", { param: 'to' });
  const old = await cp.history.show(kind, name, body.to);
  const current = await cp.service.find(kind, name);
  const manifest = { ...old, metadata: { ...(old.metadata as object) } };
  const [m] = validateManifests([manifest], `${kind}/${name}@${body.to}`);
  const note = `rollback to ${body.to.slice(0, 12)}${current ? '' : ' (re-created)'}`;
  await cp.audit.resourceWrite(cp.service, whoOf(c.actor, c.principal), { action: actionOf(kind, 'rollback'), kind, name, note }, () => cp.service.apply([m!], { actor: c.actor, note }));
  sendJson(c.res, 200, await cp.service.get(kind, name));
}

async function heartbeat(cp: ControlPlane, c: Ctx): Promise<void> {
  const r = HeartbeatSchema.safeParse(parseJson(await readText(c.req)), zodParseOptions);
  if (!r.success) throw new ConfigError('heartbeat', formatZodIssues(r.error));
  await cp.clusters.heartbeat(c.params[0]!, r.data);
  sendJson(c.res, 200, { ok: true });
}

async function logs(cp: ControlPlane, c: Ctx): Promise<void> {
  const name = c.params[0]!;
  const replica = Number(c.url.searchParams.get('replica') ?? '0');
  const tailText = c.url.searchParams.get('tail');
  const follow = c.url.searchParams.get('follow') === 'true';
  if (!Number.isInteger(replica) || replica < 0) throw new SwitchyardError('invalid_argument', 'replica must be a non-negative integer', { param: 'replica' });
  const provider = await cp.providerOf(name);
  const ac = new AbortController();
  c.res.on('close', () => ac.abort());
  const it = provider.logs(name, replica, { follow, ...(tailText ? { tail: Number(tailText) } : {}), signal: ac.signal })[Symbol.asyncIterator]();
  // The first line (or error) before the status: an unknown replica is a 404, not an empty 200.
  let next = await it.next();
  c.res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' });
  try {
    for (; !next.done; next = await it.next()) {
      if (!c.res.write(`${next.value}\n`)) await new Promise((r) => c.res.once('drain', r));
    }
  } catch (e) {
    if (!ac.signal.aborted) c.res.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
  }
  c.res.end();
}
