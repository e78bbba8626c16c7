/**
 * The OpenAPI 3.1 document of the admin API, built at run time from the same zod schemas that
 * validate requests (src/api/kinds.ts), so the docs cannot drift from the validation.
 */
import { z } from 'zod';
import { CreateApiKeyRequestSchema, RotateApiKeyRequestSchema } from './apikey.js';
import { HeartbeatSchema } from './cluster.js';
import { KIND_NAMES, KINDS, manifestSchema, resourceSchema, type Kind } from './kinds.js';
import { PREFIX_SUMMARY_ITEM_JSON_SCHEMA, PREFIX_SUMMARY_MAX_BYTES, PrefixSummaryPutSchema } from './prefix-summary.js';
import { ADMIN_ROLES, CreateTokenRequestSchema } from './token.js';
import { PriceTableSchema, UsagePostSchema } from './usage.js';

type Json = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const s = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
  delete s.$schema;
  return s;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Json) => ({ 'application/json': { schema } });
const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });

const MINTED_ONLY = 'Refused with 400 for ApiKey: keys are minted by POST /api/v1/tenants/{tenant}/keys (switchyard keys create).';
const CASCADES: Partial<Record<Kind, string>> = { Function: 'Also delete its Deployments (required when it has any)', Cluster: 'Also delete its Deployments (required when it has any)', Tenant: 'Also delete its ApiKeys (required when it has any)' };

function kindPaths(kind: Kind): Record<string, Json> {
  const plural = KINDS[kind].plural;
  const tag = kind;
  const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };
  const cascade = CASCADES[kind];
  const minted = kind === 'ApiKey' ? { description: MINTED_ONLY } : {};
  return {
    [`/api/v1/${plural}`]: {
      get: { tags: [tag], summary: `List ${plural}`, operationId: `list${kind}s`, responses: { 200: { description: 'The list', content: json({ type: 'object', properties: { kind: { const: `${kind}List` }, items: { type: 'array', items: ref(kind) }, resourceVersion: { type: 'string' } } }) }, 401: errorResponse('Missing or bad token') } },
      post: { tags: [tag], summary: `Create a ${kind}`, ...minted, operationId: `create${kind}`, requestBody: { required: true, content: json(ref(`${kind}Manifest`)) }, responses: { 201: { description: 'Created', content: json(ref(kind)) }, 400: errorResponse('Invalid manifest (the message names the path)'), 409: errorResponse('Already exists') } },
    },
    [`/api/v1/${plural}/{name}`]: {
      parameters: [nameParam],
      get: { tags: [tag], summary: `Get a ${kind}`, operationId: `get${kind}`, responses: { 200: { description: 'The resource', content: json(ref(kind)) }, 404: errorResponse('Not found') } },
      put: {
        tags: [tag],
        summary: `Replace a ${kind}'s spec`,
        description: kind === 'ApiKey' ? MINTED_ONLY : 'Send metadata.resourceVersion to update only if nobody changed it since you read it (409 otherwise).',
        operationId: `replace${kind}`,
        requestBody: { required: true, content: json(ref(`${kind}Manifest`)) },
        responses: { 200: { description: 'Updated', content: json(ref(kind)) }, 400: errorResponse('Invalid manifest'), 404: errorResponse('Not found'), 409: errorResponse(kind === 'Deployment' || kind === 'Function' ? "Stale resourceVersion, or a tenant's GPU quota exceeded (quota_exceeded)" : 'Stale resourceVersion') },
      },
      delete: {
        tags: [tag],
        summary: `Delete a ${kind}`,
        operationId: `delete${kind}`,
        parameters: cascade ? [{ name: 'cascade', in: 'query', schema: { type: 'boolean' }, description: cascade }] : [],
        responses: { 200: { description: 'Deleted (the last version)', content: json(ref(kind)) }, 404: errorResponse('Not found'), 409: errorResponse('Has dependents; use cascade') },
      },
    },
  };
}

const ApplyResultSchema = {
  type: 'object',
  properties: {
    dryRun: { type: 'boolean' },
    results: {
      type: 'array',
      items: { type: 'object', properties: { kind: { type: 'string' }, name: { type: 'string' }, action: { enum: ['created', 'configured', 'unchanged'] }, diff: { type: 'string' }, resourceVersion: { type: 'string' } } },
    },
  },
};

let cached: Json | undefined;

/** The OpenAPI document served at /openapi.json. */
export function buildOpenApiDocument(version = '0.1.0'): Json {
  if (cached) return cached;
  const schemas: Json = {
    Error: { type: 'object', required: ['error'], properties: { error: { type: 'object', properties: { message: { type: 'string' }, type: { type: 'string' }, param: { type: ['string', 'null'] }, code: { type: ['string', 'null'] } } } } },
    Heartbeat: jsonSchema(HeartbeatSchema, 'input'),
    PrefixSummaryPut: jsonSchema(PrefixSummaryPutSchema, 'input'),
    PrefixSummary: PREFIX_SUMMARY_ITEM_JSON_SCHEMA,
    CreateApiKeyRequest: jsonSchema(CreateApiKeyRequestSchema, 'input'),
    RotateApiKeyRequest: jsonSchema(RotateApiKeyRequestSchema, 'input'),
    UsagePost: jsonSchema(UsagePostSchema, 'input'),
    PriceTable: jsonSchema(PriceTableSchema, 'input'),
    UsageAggregate: {
      type: 'object',
      properties: { day: { type: 'string', description: "UTC day 'YYYY-MM-DD' (groupBy=day)" }, tenant: { type: 'string' }, model: { type: 'string' }, requests: { type: 'integer' }, inputTokens: { type: 'integer' }, outputTokens: { type: 'integer' }, cachedTokens: { type: 'integer' }, usd: { type: 'number' }, errors: { type: 'integer' }, avgLatencyMs: { type: 'number' } },
    },
    AuditEntry: {
      type: 'object',
      properties: { ts: { type: 'integer' }, actor: { type: 'string' }, role: { type: ['string', 'null'] }, action: { type: 'string', examples: ['apikey.revoke'] }, kind: { type: ['string', 'null'] }, name: { type: ['string', 'null'] }, before: {}, after: {} },
    },
    MintedApiKey: { type: 'object', required: ['key', 'apiKey'], description: 'The secret is in `key`, shown only in this response; the resource holds its SHA-256.', properties: { key: { type: 'string', pattern: '^sk-sy-[A-Za-z0-9_-]{43}$' }, apiKey: ref('ApiKey') } },
    CreateTokenRequest: jsonSchema(CreateTokenRequestSchema, 'input'),
    TokenInfo: { type: 'object', properties: { name: { type: 'string' }, role: { enum: [...ADMIN_ROLES] }, tenant: { type: 'string' }, prefix: { type: 'string' }, createdAt: { type: 'string' }, createdBy: { type: 'string' } } },
  };
  let paths: Json = {};
  for (const kind of KIND_NAMES) {
    schemas[kind] = { ...jsonSchema(resourceSchema(kind), 'output'), description: KINDS[kind].description };
    schemas[`${kind}Manifest`] = { ...jsonSchema(manifestSchema(kind), 'input'), description: `${KINDS[kind].description} (as you write it)` };
    paths = { ...paths, ...kindPaths(kind) };
  }
  const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };
  const kindParam = { name: 'kind', in: 'path', required: true, schema: { enum: KIND_NAMES.map((k) => KINDS[k].plural) } };
  paths = {
    ...paths,
    '/api/v1/apply': {
      post: {
        tags: ['Apply'],
        summary: 'Create or update many resources at once (all-or-nothing)',
        description: 'Body: multi-document YAML (Content-Type application/yaml) or JSON {"items": [manifest, ...]}. Validated on the server; nothing is applied if any document is invalid.',
        operationId: 'apply',
        parameters: [{ name: 'dryRun', in: 'query', schema: { type: 'boolean' }, description: 'Validate and diff without writing' }],
        requestBody: { required: true, content: { 'application/yaml': { schema: { type: 'string' } }, ...json({ type: 'object', properties: { items: { type: 'array' } } }) } },
        responses: { 200: { description: 'What changed', content: json(ApplyResultSchema) }, 400: errorResponse('Invalid manifests (every problem, with paths and lines)'), 409: errorResponse('Stale resourceVersion') },
      },
    },
    '/api/v1/watch': {
      get: {
        tags: ['Watch'],
        summary: 'Follow changes (Server-Sent Events), resumable',
        description: 'Each event: `id: <resourceVersion>`, `event: ADDED|MODIFIED|DELETED`, `data: <resource JSON>`. Resume with ?resourceVersion=N or the Last-Event-ID header. 410 when N is older than the retained history: list again, then watch from the list resourceVersion.',
        operationId: 'watch',
        parameters: [
          { name: 'resourceVersion', in: 'query', schema: { type: 'string' } },
          { name: 'kinds', in: 'query', schema: { type: 'string' }, description: 'Comma-separated kinds, e.g. Deployment,Cluster' },
        ],
        responses: { 200: { description: 'An event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, 410: errorResponse('resourceVersion too old') },
      },
    },
    '/api/v1/history/{kind}/{name}': {
      parameters: [kindParam, nameParam],
      get: { tags: ['History'], summary: 'Spec changes of a resource (git history)', operationId: 'history', responses: { 200: { description: 'Newest first', content: json({ type: 'array', items: { type: 'object', properties: { revision: { type: 'string' }, author: { type: 'string' }, date: { type: 'string' }, message: { type: 'string' } } } }) } } },
    },
    '/api/v1/rollback/{kind}/{name}': {
      parameters: [kindParam, nameParam],
      post: { tags: ['History'], summary: 'Restore the spec of an earlier revision (recorded as a new change)', operationId: 'rollback', requestBody: { required: true, content: json({ type: 'object', required: ['to'], properties: { to: { type: 'string' } } }) }, responses: { 200: { description: 'The restored resource' }, 404: errorResponse('Unknown revision or resource') } },
    },
    '/api/v1/clusters/{name}/heartbeat': {
      parameters: [nameParam],
      post: { tags: ['Cluster'], summary: "An agent's heartbeat (cluster token)", operationId: 'heartbeat', requestBody: { required: true, content: json(ref('Heartbeat')) }, responses: { 200: { description: 'Accepted' }, 401: errorResponse('Bad cluster token') } },
    },
    '/api/v1/clusters/{name}/prefix-summary': {
      parameters: [nameParam],
      put: {
        tags: ['Cluster'],
        summary: "An agent reports which prompt prefixes its cluster's engines hold (cluster token)",
        description: `The bytes of a PrefixSummary (ADR 0016: a Bloom filter of checkpoint block hashes, at most ${PREFIX_SUMMARY_MAX_BYTES} bytes), base64. Sent when it changes and re-sent every intervalMs; kept in memory, forgotten after 3 missed re-sends.`,
        operationId: 'putPrefixSummary',
        requestBody: { required: true, content: json(ref('PrefixSummaryPut')) },
        responses: {
          200: { description: 'Accepted', content: json({ type: 'object', properties: { cluster: { type: 'string' }, version: { type: 'integer' }, changed: { type: 'boolean' }, bytes: { type: 'integer' } } }) },
          400: errorResponse('Malformed body or summary (the message names the field)'),
          403: errorResponse("Another cluster's token"),
          404: errorResponse('No such cluster'),
          413: errorResponse(`Summary over ${PREFIX_SUMMARY_MAX_BYTES} bytes`),
        },
      },
      get: { tags: ['Cluster'], summary: "The cluster's latest prefix summary", operationId: 'getPrefixSummary', responses: { 200: { description: 'The summary', content: json(ref('PrefixSummary')) }, 404: errorResponse('None reported (or expired)') } },
    },
    '/api/v1/prefix-summaries': {
      get: {
        tags: ['Cluster'],
        summary: "Every cluster's latest prefix summary (what gateways' cluster layer reads)",
        description: 'Answers with an ETag that changes whenever a summary changes or expires; send it back in If-None-Match to get 304 while nothing changed.',
        operationId: 'listPrefixSummaries',
        parameters: [{ name: 'If-None-Match', in: 'header', schema: { type: 'string' } }],
        responses: { 200: { description: 'The summaries', headers: { ETag: { schema: { type: 'string' } } }, content: json({ type: 'object', properties: { items: { type: 'array', items: ref('PrefixSummary') }, version: { type: 'string' } } }) }, 304: { description: 'Unchanged since If-None-Match' } },
      },
    },
    '/api/v1/clusters/{name}/token': {
      parameters: [nameParam],
      post: { tags: ['Cluster'], summary: 'Issue a new agent token for the cluster (shown once)', operationId: 'clusterToken', responses: { 200: { description: 'The token', content: json({ type: 'object', properties: { token: { type: 'string' } } }) } } },
    },
    '/api/v1/tenants/{tenant}/keys': {
      parameters: [{ name: 'tenant', in: 'path', required: true, schema: { type: 'string' } }],
      post: {
        tags: ['ApiKey'],
        summary: 'Mint an API key for the tenant (the secret is returned once)',
        operationId: 'mintApiKey',
        requestBody: { content: json(ref('CreateApiKeyRequest')) },
        responses: { 201: { description: 'The secret and the stored key', content: json(ref('MintedApiKey')) }, 400: errorResponse('Invalid request'), 403: errorResponse('The token may not manage this tenant\'s keys'), 404: errorResponse('No such tenant') },
      },
      get: { tags: ['ApiKey'], summary: "The tenant's keys (hashes and prefixes only)", operationId: 'listTenantKeys', responses: { 200: { description: 'The list', content: json({ type: 'object', properties: { kind: { const: 'ApiKeyList' }, items: { type: 'array', items: ref('ApiKey') }, resourceVersion: { type: 'string' } } }) }, 404: errorResponse('No such tenant') } },
    },
    '/api/v1/apikeys/{name}/rotate': {
      parameters: [nameParam],
      post: {
        tags: ['ApiKey'],
        summary: 'A new secret for the key; the old one stops working (returned once)',
        operationId: 'rotateApiKey',
        requestBody: { content: json(ref('RotateApiKeyRequest')) },
        responses: { 200: { description: 'The new secret and the key', content: json(ref('MintedApiKey')) }, 404: errorResponse('Not found'), 409: errorResponse('The key is revoked') },
      },
    },
    '/api/v1/apikeys/{name}/revoke': {
      parameters: [nameParam],
      post: { tags: ['ApiKey'], summary: 'Revoke the key (final; gateways learn it through the watch stream)', operationId: 'revokeApiKey', responses: { 200: { description: 'The revoked key', content: json(ref('ApiKey')) }, 404: errorResponse('Not found') } },
    },
    '/api/v1/tokens': {
      post: {
        tags: ['Tokens'],
        summary: 'Create a named admin token with a role (admin only; the token is returned once)',
        operationId: 'createToken',
        requestBody: { required: true, content: json(ref('CreateTokenRequest')) },
        responses: { 201: { description: 'The token and its record', content: json({ allOf: [ref('TokenInfo'), { type: 'object', properties: { token: { type: 'string' } } }] }) }, 403: errorResponse('Not an admin'), 409: errorResponse('A token of that name exists') },
      },
      get: { tags: ['Tokens'], summary: 'Named admin tokens (names, roles, prefixes; never hashes)', operationId: 'listTokens', responses: { 200: { description: 'The tokens', content: json({ type: 'object', properties: { items: { type: 'array', items: ref('TokenInfo') } } }) } } },
    },
    '/api/v1/tokens/{name}': {
      parameters: [nameParam],
      delete: { tags: ['Tokens'], summary: 'Delete a named token (it stops working at once)', operationId: 'deleteToken', responses: { 200: { description: 'The deleted record', content: json(ref('TokenInfo')) }, 404: errorResponse('Not found') } },
    },
    '/api/v1/usage': {
      get: {
        tags: ['Usage'],
        summary: 'Usage per tenant × model (× UTC day): requests, tokens, cost, errors',
        description: 'Admin, operator and viewer tokens see every tenant; a tenant-admin token only its own (?tenant= required).',
        operationId: 'usage',
        parameters: [
          { name: 'tenant', in: 'query', schema: { type: 'string' } },
          { name: 'since', in: 'query', schema: { type: 'string' }, description: "A duration back from now ('7d') or an ISO time" },
          { name: 'until', in: 'query', schema: { type: 'string' } },
          { name: 'groupBy', in: 'query', schema: { enum: ['day', 'none'] } },
        ],
        responses: { 200: { description: 'Aggregates', content: json({ type: 'object', properties: { items: { type: 'array', items: ref('UsageAggregate') } } }) }, 403: errorResponse('Another tenant') },
      },
      post: { tags: ['Usage'], summary: "Gateways report finished requests' usage (batched; idempotent per requestId + ts)", operationId: 'postUsage', requestBody: { required: true, content: json(ref('UsagePost')) }, responses: { 200: { description: 'Accepted' }, 400: errorResponse('Invalid records') } },
    },
    '/api/v1/pricing': {
      get: { tags: ['Usage'], summary: 'The price table (USD per million tokens per model)', operationId: 'getPricing', responses: { 200: { description: 'The table', content: json(ref('PriceTable')) } } },
      put: { tags: ['Usage'], summary: 'Replace the price table (admin)', operationId: 'setPricing', requestBody: { required: true, content: json(ref('PriceTable')) }, responses: { 200: { description: 'The new table', content: json(ref('PriceTable')) }, 400: errorResponse('Invalid table') } },
    },
    '/api/v1/audit': {
      get: {
        tags: ['Audit'],
        summary: 'Admin actions: who, what, when, before and after (admin)',
        operationId: 'audit',
        parameters: [
          { name: 'since', in: 'query', schema: { type: 'string' } },
          { name: 'actor', in: 'query', schema: { type: 'string' } },
          { name: 'kind', in: 'query', schema: { type: 'string' } },
        ],
        responses: { 200: { description: 'Entries, newest first', content: json({ type: 'object', properties: { items: { type: 'array', items: ref('AuditEntry') } } }) } },
      },
    },
    '/api/v1/deployments/{name}/logs': {
      parameters: [nameParam],
      get: {
        tags: ['Deployment'],
        summary: "A replica's log",
        operationId: 'logs',
        parameters: [
          { name: 'replica', in: 'query', schema: { type: 'integer' } },
          { name: 'follow', in: 'query', schema: { type: 'boolean' } },
          { name: 'tail', in: 'query', schema: { type: 'integer' } },
        ],
        responses: { 200: { description: 'Log lines', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    },
  };
  cached = {
    openapi: '3.1.0',
    info: { title: 'Switchyard admin API', version, description: 'Functions, Deployments, Clusters, Tenants and their API keys. Every request needs `Authorization: Bearer <token>`: the bootstrap admin token, a named token with a role (admin: everything; operator: reads, and writes of functions, deployments and clusters; viewer: reads; tenant-admin: one tenant and its keys), or a cluster agent token. A role that does not allow the request gets 403. The OpenAI-compatible API lives under /v1.' },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: { schemas, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
  };
  return cached;
}
