/**
 * Validate values against schemas of the official OpenAI OpenAPI spec
 * (`../shared/data/openai/openapi.yaml` relative to the repo root).
 *
 * Reusable by any test that wants to check REAL server responses:
 *
 *   const spec = loadOpenAISpec();
 *   expect(spec.validate('CreateChatCompletionResponse', body)).toEqual([]);
 *
 * OpenAPI 3.1 schemas are JSON Schema 2020-12, validated with Ajv's 2020 dialect. The spec
 * still uses the OpenAPI 3.0 keyword `nullable: true` in ~100 places, which 2020-12 does not
 * know; it is rewritten to `anyOf: [schema, {type: 'null'}]` on load. Unknown keywords
 * (`x-oaiMeta`, `discriminator`, `example`, …) are ignored.
 *
 * Loading is cached per process and per path; validators are compiled lazily per schema name.
 * Parsing the 3 MB YAML takes ~2 s, so when the spec's JSON twin (`openapi.json`, the same
 * document per PROVENANCE.md; spec.test.ts checks they agree) sits beside it, that is read
 * instead (~50 ms).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';

/** The repository root (this file is test/openai-spec/validator.ts). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Where CI and developers keep the shared data: `../shared` beside the repo. */
export const DEFAULT_SPEC_PATH = path.resolve(repoRoot, '../shared/data/openai/openapi.yaml');

export interface OpenAISpec {
  /** The OpenAPI document (after the `nullable` rewrite). */
  readonly doc: Record<string, unknown>;
  /** Is `name` a schema under `#/components/schemas`? */
  has(name: string): boolean;
  /** Errors of `value` against `#/components/schemas/<name>`, one line each; [] if valid. */
  validate(name: string, value: unknown): string[];
}

const cache = new Map<string, OpenAISpec>();
const DOC_ID = 'openai-openapi';

/** Load (once per path) the spec and return a validator over its component schemas. */
export function loadOpenAISpec(specPath: string = DEFAULT_SPEC_PATH): OpenAISpec {
  const hit = cache.get(specPath);
  if (hit) return hit;
  const spec = buildSpec(readSpecDocument(specPath));
  cache.set(specPath, spec);
  return spec;
}

/** Read the spec document: its JSON twin if present beside a YAML file, else the YAML itself. */
export function readSpecDocument(specPath: string, preferJson = true): Record<string, unknown> {
  const jsonTwin = specPath.replace(/\.ya?ml$/, '.json');
  if (preferJson && jsonTwin !== specPath && existsSync(jsonTwin)) {
    return JSON.parse(readFileSync(jsonTwin, 'utf8')) as Record<string, unknown>;
  }
  const text = readFileSync(specPath, 'utf8');
  return (specPath.endsWith('.json') ? JSON.parse(text) : parseYaml(text, { maxAliasCount: -1 })) as Record<string, unknown>;
}

function buildSpec(raw: Record<string, unknown>): OpenAISpec {
  const doc = rewriteNullable(raw) as Record<string, unknown>;
  const components = (doc['components'] ?? {}) as { schemas?: Record<string, unknown> };
  const schemas = components.schemas ?? {};
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false, logger: false });
  // ajv-formats is CommonJS: under NodeNext its default import is the module; `.default` is the plugin.
  ajvFormats.default(ajv);
  ajv.addFormat('unixtime', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addSchema(doc, DOC_ID);
  const compiled = new Map<string, ValidateFunction>();
  const has = (name: string): boolean => Object.hasOwn(schemas, name);
  return {
    doc,
    has,
    validate(name, value) {
      if (!has(name)) throw new Error(`no schema '${name}' in the OpenAI spec`);
      let fn = compiled.get(name);
      if (!fn) {
        fn = ajv.getSchema(`${DOC_ID}#/components/schemas/${name}`);
        if (!fn) throw new Error(`could not compile schema '${name}'`);
        compiled.set(name, fn);
      }
      return fn(value) ? [] : (fn.errors ?? []).map(formatError);
    },
  };
}

function formatError(e: ErrorObject): string {
  const params = Object.keys(e.params).length > 0 ? ` ${JSON.stringify(e.params)}` : '';
  return `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${params} (${e.schemaPath})`;
}

/**
 * OpenAPI 3.0 `nullable: true` → `anyOf: [schema, {type: 'null'}]` (JSON Schema 2020-12),
 * recursively; `nullable: false` is dropped. Returns a new tree.
 */
export function rewriteNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteNullable);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  let nullable = false;
  for (const [k, v] of Object.entries(node)) {
    if (k === 'nullable' && typeof v === 'boolean') nullable = v;
    else out[k] = rewriteNullable(v);
  }
  return nullable ? { anyOf: [out, { type: 'null' }] } : out;
}
