/**
 * Admin API routes of multi-tenancy: minting, listing, rotating and revoking a tenant's API
 * keys, and named admin tokens with roles. Secrets appear only in the response that creates
 * them; every change is recorded in the audit log (without them).
 */
import { CreateApiKeyRequestSchema, CreateTokenRequestSchema, RotateApiKeyRequestSchema } from '../api/index.js';
import { sendJson } from '../openai/index.js';
import { whoOf } from './audit.js';
import { NAME_SEG, parseBody, type Route } from './http-common.js';
import { manifestOf } from './resources.js';

const KEY_TENANT = async (cp: Parameters<Route['need']>[0], name: string) => (await cp.service.find('ApiKey', name))?.spec.tenant;

export const tenancyRoutes: Route[] = [
  {
    method: 'POST',
    path: new RegExp(`^/api/v1/tenants/${NAME_SEG}/keys$`),
    need: (_cp, p) => ({ action: 'write', kind: 'ApiKey', tenant: p[0]! }),
    handler: async (cp, c) => {
      const opts = await parseBody(c.req, CreateApiKeyRequestSchema, 'key request');
      const minted = await cp.apiKeys.create(c.params[0]!, opts, c.actor);
      await cp.audit.record(whoOf(c.actor, c.principal), { action: 'apikey.create', kind: 'ApiKey', name: minted.apiKey.metadata.name, before: null, after: manifestOf(minted.apiKey) });
      sendJson(c.res, 201, minted);
    },
  },
  {
    method: 'GET',
    path: new RegExp(`^/api/v1/tenants/${NAME_SEG}/keys$`),
    need: (_cp, p) => ({ action: 'read', kind: 'ApiKey', tenant: p[0]! }),
    handler: async (cp, c) => sendJson(c.res, 200, { kind: 'ApiKeyList', ...(await cp.apiKeys.list(c.params[0]!)) }),
  },
  {
    method: 'POST',
    path: new RegExp(`^/api/v1/apikeys/${NAME_SEG}/rotate$`),
    need: async (cp, p) => ({ action: 'write', kind: 'ApiKey', tenant: await KEY_TENANT(cp, p[0]!) }),
    handler: async (cp, c) => {
      const opts = await parseBody(c.req, RotateApiKeyRequestSchema, 'rotate request');
      const what = { action: 'apikey.rotate', kind: 'ApiKey' as const, name: c.params[0]! };
      sendJson(c.res, 200, await cp.audit.resourceWrite(cp.service, whoOf(c.actor, c.principal), what, () => cp.apiKeys.rotate(what.name, opts, c.actor)));
    },
  },
  {
    method: 'POST',
    path: new RegExp(`^/api/v1/apikeys/${NAME_SEG}/revoke$`),
    need: async (cp, p) => ({ action: 'write', kind: 'ApiKey', tenant: await KEY_TENANT(cp, p[0]!) }),
    handler: async (cp, c) => {
      const what = { action: 'apikey.revoke', kind: 'ApiKey' as const, name: c.params[0]! };
      sendJson(c.res, 200, await cp.audit.resourceWrite(cp.service, whoOf(c.actor, c.principal), what, () => cp.apiKeys.revoke(what.name, c.actor)));
    },
  },
  {
    method: 'POST',
    path: /^\/api\/v1\/tokens$/,
    need: () => ({ action: 'tokens' }),
    handler: async (cp, c) => {
      const req = await parseBody(c.req, CreateTokenRequestSchema, 'token request');
      if (req.tenant) await cp.service.get('Tenant', req.tenant);
      const { token, info } = await cp.tokens.create(req, c.actor.name);
      await cp.audit.record(whoOf(c.actor, c.principal), { action: 'token.create', kind: 'Token', name: info.name, before: null, after: { ...info } });
      sendJson(c.res, 201, { token, ...info });
    },
  },
  {
    method: 'GET',
    path: /^\/api\/v1\/tokens$/,
    need: () => ({ action: 'tokens' }),
    handler: async (cp, c) => sendJson(c.res, 200, { items: await cp.tokens.list() }),
  },
  {
    method: 'DELETE',
    path: new RegExp(`^/api/v1/tokens/${NAME_SEG}$`),
    need: () => ({ action: 'tokens' }),
    handler: async (cp, c) => {
      const info = await cp.tokens.delete(c.params[0]!);
      await cp.audit.record(whoOf(c.actor, c.principal), { action: 'token.delete', kind: 'Token', name: info.name, before: { ...info }, after: null });
      sendJson(c.res, 200, info);
    },
  },
];
