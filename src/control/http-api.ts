/**
 * The admin REST API (/api/v1/*), /openapi.json and the /docs reference page, as one
 * node:http handler that a server mounts next to the OpenAI API. Errors use the OpenAI error
 * shape via sendError (one mapping, in src/openai).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildOpenApiDocument, HeartbeatSchema, kindOfPlural, parseManifests, renderApiReference, validateManifests, type Kind } from '../api/index.js';
import { formatZodIssues, zodParseOptions, ConfigError } from '../config/index.js';
import { SwitchyardError } from '../core/index.js';
import { readBody, sendError, sendJson } from '../openai/index.js';
import type { ControlPlane } from './control-plane.js';
import type { Actor } from './resources.js';
import type { Principal } from './tokens.js';
import { serveWatch } from './watch.js';

const MAX_APPLY_BYTES = 8 << 20;

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  principal: Principal;
  actor: Actor;
  params: string[];
}
type Handler = (cp: ControlPlane, ctx: Ctx) => Promise<void>;

const KIND_SEG = '(functions|deployments|clusters)';
const NAME_SEG = '([a-z0-9][-a-z0-9]{0,62})';

const routes: [string, RegExp, Handler, 'admin' | 'agent-read' | 'agent-heartbeat'][] = [
  ['POST', /^\/api\/v1\/apply$/, apply, 'admin'],
  ['GET', /^\/api\/v1\/watch$/, async (cp, c) => serveWatch(cp, c.req, c.res, c.url), 'agent-read'],
  ['GET', new RegExp(`^/api/v1/history/${KIND_SEG}/${NAME_SEG}$`), async (cp, c) => sendJson(c.res, 200, await cp.history.log(kindOf(c.params[0]), c.params[1]!)), 'admin'],
  ['POST', new RegExp(`^/api/v1/rollback/${KIND_SEG}/${NAME_SEG}$`), rollback, 'admin'],
  ['POST', new RegExp(`^/api/v1/clusters/${NAME_SEG}/heartbeat$`), heartbeat, 'agent-heartbeat'],
  ['POST', new RegExp(`^/api/v1/clusters/${NAME_SEG}/token$`), async (cp, c) => {
    await cp.service.get('Cluster', c.params[0]!);
    sendJson(c.res, 200, { token: await cp.tokens.issueClusterToken(c.params[0]!) });
  }, 'admin'],
  ['GET', new RegExp(`^/api/v1/deployments/${NAME_SEG}/logs$`), logs, 'admin'],
  ['GET', new RegExp(`^/api/v1/${KIND_SEG}$`), async (cp, c) => {
    const kind = kindOf(c.params[0]);
    const list = await cp.service.list(kind);
    sendJson(c.res, 200, { kind: `${kind}List`, ...list });
  }, 'agent-read'],
  ['POST', new RegExp(`^/api/v1/${KIND_SEG}$`), (cp, c) => writeOne(cp, c, 'create'), 'admin'],
  ['GET', new RegExp(`^/api/v1/${KIND_SEG}/${NAME_SEG}$`), async (cp, c) => sendJson(c.res, 200, await cp.service.get(kindOf(c.params[0]), c.params[1]!)), 'agent-read'],
  ['PUT', new RegExp(`^/api/v1/${KIND_SEG}/${NAME_SEG}$`), (cp, c) => writeOne(cp, c, 'replace'), 'admin'],
  ['DELETE', new RegExp(`^/api/v1/${KIND_SEG}/${NAME_SEG}$`), async (cp, c) => {
    const cascade = c.url.searchParams.get('cascade') === 'true';
    sendJson(c.res, 200, await cp.service.delete(kindOf(c.params[0]), c.params[1]!, { actor: c.actor, cascade }));
  }, 'admin'],
];

function kindOf(plural: string | undefined): Kind {
  const k = kindOfPlural(plural ?? '');
  if (!k) throw new SwitchyardError('not_found', `unknown resource type '${plural}'`);
  return k;
}

/** True if the request was handled (the path belongs to the admin API). */
export function handleAdminRequest(cp: ControlPlane, req: IncomingMessage, res: ServerResponse): boolean {
  const url = new URL(req.url ?? '/', 'http://localhost');
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
  for (const [method, re, handler, access] of routes) {
    const m = re.exec(path);
    if (!m) continue;
    pathMatched = true;
    if (method !== req.method) continue;
    const principal = await cp.tokens.authenticate(req.headers.authorization);
    authorize(principal, access, m.slice(1));
    const user = headerValue(req.headers['x-switchyard-user']);
    const actor = { name: principal.kind === 'admin' && user ? user : principal.name };
    await handler(cp, { req, res, url, principal, actor, params: m.slice(1) });
    return;
  }
  if (pathMatched) throw new SwitchyardError('method_not_allowed', `method ${req.method} is not allowed on ${path}`);
  throw new SwitchyardError('not_found', `no such API path: ${path} (see /docs)`);
}

function authorize(p: Principal, access: 'admin' | 'agent-read' | 'agent-heartbeat', params: string[]): void {
  if (p.kind === 'admin') return;
  if (access === 'agent-read') return;
  if (access === 'agent-heartbeat' && params[0] === p.cluster) return;
  throw new SwitchyardError('forbidden', `the agent token of cluster '${p.cluster}' may not do this`);
}

function headerValue(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return s && /^[\w .@-]{1,100}$/.test(s) ? s : undefined;
}

async function readText(req: IncomingMessage): Promise<string> {
  return (await readBody(req, MAX_APPLY_BYTES)).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SwitchyardError('invalid_request', `request body is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
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
  const dryRun = c.url.searchParams.get('dryRun') === 'true';
  const results = await cp.service.apply(manifests, { actor: c.actor, dryRun });
  sendJson(c.res, 200, { dryRun, results });
}

async function writeOne(cp: ControlPlane, c: Ctx, mode: 'create' | 'replace'): Promise<void> {
  const kind = kindOf(c.params[0]);
  const body = parseJson(await readText(c.req));
  const [m] = validateManifests([body], 'request');
  if (!m || m.kind !== kind) throw new SwitchyardError('invalid_request', `this path takes a ${kind}, got kind ${JSON.stringify((body as { kind?: unknown })?.kind)}`, { param: 'kind' });
  if (mode === 'replace' && m.metadata.name !== c.params[1]) throw new SwitchyardError('invalid_request', `metadata.name '${m.metadata.name}' does not match the path ('${c.params[1]}')`, { param: 'metadata.name' });
  await cp.service.apply([m], { actor: c.actor, mode });
  sendJson(c.res, mode === 'create' ? 201 : 200, await cp.service.get(kind, m.metadata.name));
}

async function rollback(cp: ControlPlane, c: Ctx): Promise<void> {
  const kind = kindOf(c.params[0]);
  const name = c.params[1]!;
  const body = parseJson(await readText(c.req)) as { to?: unknown };
  if (typeof body?.to !== 'string' || !body.to) throw new SwitchyardError('invalid_request', "expected {\"to\": \"<revision>\"}", { param: 'to' });
  const old = await cp.history.show(kind, name, body.to);
  const current = await cp.service.find(kind, name);
  const manifest = { ...old, metadata: { ...(old.metadata as object) } };
  const [m] = validateManifests([manifest], `${kind}/${name}@${body.to}`);
  await cp.service.apply([m!], { actor: c.actor, note: `rollback to ${body.to.slice(0, 12)}${current ? '' : ' (re-created)'}` });
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
