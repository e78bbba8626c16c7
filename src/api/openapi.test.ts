import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument, KIND_NAMES, renderApiReference } from './index.js';

describe('OpenAPI document', () => {
  const doc = buildOpenApiDocument() as { openapi: string; paths: Record<string, unknown>; components: { schemas: Record<string, object> } };

  it('has CRUD paths for every kind plus apply, watch, history and rollback', () => {
    expect(doc.openapi).toBe('3.1.0');
    for (const p of ['/api/v1/functions', '/api/v1/functions/{name}', '/api/v1/deployments', '/api/v1/clusters/{name}', '/api/v1/apply', '/api/v1/watch', '/api/v1/history/{kind}/{name}', '/api/v1/rollback/{kind}/{name}']) {
      expect(doc.paths, p).toHaveProperty([p]);
    }
    for (const k of KIND_NAMES) expect(doc.components.schemas).toHaveProperty([`${k}Manifest`]);
  });

  it('documents the key and token endpoints, and that ApiKeys are minted, not created directly', () => {
    for (const p of ['/api/v1/tenants', '/api/v1/apikeys/{name}', '/api/v1/tenants/{tenant}/keys', '/api/v1/apikeys/{name}/rotate', '/api/v1/apikeys/{name}/revoke', '/api/v1/tokens', '/api/v1/tokens/{name}']) {
      expect(doc.paths, p).toHaveProperty([p]);
    }
    const create = (doc.paths['/api/v1/apikeys'] as { post: { description: string } }).post;
    expect(create.description).toMatch(/minted by POST \/api\/v1\/tenants\/\{tenant\}\/keys/);
    const tenantDelete = (doc.paths['/api/v1/tenants/{name}'] as { delete: { parameters: { name: string }[] } }).delete;
    expect(tenantDelete.parameters.map((p) => p.name)).toEqual(['cascade']);
  });

  it('documents the prefix summary endpoints (agents report, gateways read with an ETag)', () => {
    const put = (doc.paths['/api/v1/clusters/{name}/prefix-summary'] as { put: { responses: Record<string, unknown> }; get: unknown }).put;
    expect(Object.keys(put.responses)).toEqual(expect.arrayContaining(['200', '400', '413']));
    expect(doc.paths['/api/v1/prefix-summaries']).toHaveProperty(['get', 'responses', '304']);
    expect(doc.components.schemas).toHaveProperty(['PrefixSummaryPut']);
    expect(doc.components.schemas).toHaveProperty(['PrefixSummary']);
  });

  it('the manifest schemas accept what validation accepts and reject unknown fields, like validation', () => {
    const ajv = new Ajv2020({ strict: false });
    const validate = ajv.compile(doc.components.schemas.FunctionManifest!);
    const good = { apiVersion: 'switchyard.dev/v1', kind: 'Function', metadata: { name: 'a' }, spec: { model: 'org/m', runtime: 'sim' } };
    expect(validate(good), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...good, spec: { ...good.spec, bogus: 1 } })).toBe(false);
    expect(validate({ ...good, spec: { model: 'org/m', runtime: 'nope' } })).toBe(false);
  });

  it('renders an HTML reference with every field', () => {
    const html = renderApiReference(doc);
    expect(html).toContain('<code>/api/v1/apply</code>');
    expect(html).toContain('<code>spec.scaling.minReplicas</code>');
    expect(html).toContain('<code>spec.targetClusters</code>');
  });
});
