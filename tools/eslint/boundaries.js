// @ts-check
/**
 * Local ESLint rule: module boundaries and dependency direction (see ../shared/GUIDE.md §2).
 *
 * A "module" is a top-level folder under src/ (src/core, src/router, ...). Files outside a
 * module may import it only through its index (`../router/index.js`), never a file inside it.
 * And a module may import only the modules listed for it in LAYERS, which keeps the
 * dependency graph acyclic and pointed the right way (core ← leaves ← control ← gateway ← cli).
 * Tests (*.test.ts) may reach into their own module but still respect other modules' indexes.
 */
import path from 'node:path';

/** module → modules it may import. `server` is the composition root (src/server.ts). */
export const LAYERS = {
  core: [],
  config: ['core'],
  observability: ['core'],
  openai: ['core'],
  tokenizers: ['core'],
  kvevents: ['core', 'observability'],
  api: ['core', 'config', 'openai'],
  router: ['core', 'observability', 'kvevents'],
  engines: ['core', 'config', 'observability', 'openai', 'kvevents', 'tokenizers'],
  store: ['core', 'api'],
  limits: ['core', 'observability'],
  providers: ['core', 'config', 'observability', 'api'],
  control: ['core', 'config', 'observability', 'api', 'store', 'router', 'providers', 'openai', 'limits'],
  gateway: ['core', 'config', 'observability', 'openai', 'kvevents', 'router', 'control', 'api', 'limits', 'tokenizers'],
  agent: ['core', 'config', 'observability', 'api', 'kvevents', 'router', 'engines', 'tokenizers'],
  fleet: ['core', 'config', 'observability', 'kvevents', 'router', 'engines', 'tokenizers'],
  replay: ['core', 'router', 'engines', 'fleet', 'gateway'],
  cli: ['core', 'config', 'observability', 'openai', 'kvevents', 'api', 'router', 'engines', 'store', 'providers', 'control', 'gateway', 'agent', 'fleet', 'server', 'limits', 'tokenizers', 'replay'],
  server: ['core', 'config', 'observability', 'openai', 'kvevents', 'api', 'router', 'engines', 'store', 'providers', 'control', 'gateway', 'agent', 'limits', 'tokenizers'],
};

/** @param {string} file absolute path @param {string} srcDir */
function moduleOf(file, srcDir) {
  const rel = path.relative(srcDir, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
  const parts = rel.split(path.sep);
  if (parts.length === 1) return { name: (parts[0] ?? '').replace(/\.[cm]?[jt]s$/, ''), rest: [] };
  return { name: parts[0] ?? '', rest: parts.slice(1) };
}

/** @type {import('eslint').Rule.RuleModule} */
export const moduleBoundaries = {
  meta: {
    type: 'problem',
    docs: { description: 'Enforce module boundaries: import other modules only through their index, in the allowed direction.' },
    schema: [{ type: 'object', properties: { srcDir: { type: 'string' } }, additionalProperties: false }],
    messages: {
      deep: "'{{spec}}' reaches into module '{{target}}'. Import it from '{{target}}/index.js' and export what you need there.",
      direction: "Module '{{from}}' may not import module '{{target}}' (allowed: {{allowed}}). See tools/eslint/boundaries.js LAYERS.",
    },
  },
  create(context) {
    const opts = context.options[0] ?? {};
    const srcDir = path.resolve(context.cwd, opts.srcDir ?? 'src');
    const file = context.filename;
    const from = moduleOf(file, srcDir);
    /** @param {any} node @param {string} spec */
    function check(node, spec) {
      if (!spec.startsWith('.')) return;
      const target = moduleOf(path.resolve(path.dirname(file), spec), srcDir);
      if (!target) return;
      if (from && from.name === target.name) return;
      const isIndex = target.rest.length === 0 || (target.rest.length === 1 && /^index\.[cm]?[jt]s$/.test(target.rest[0] ?? ''));
      if (!isIndex) {
        context.report({ node, messageId: 'deep', data: { spec, target: target.name } });
        return;
      }
      if (from && Object.prototype.hasOwnProperty.call(LAYERS, from.name)) {
        const allowed = /** @type {Record<string,string[]>} */ (LAYERS)[from.name] ?? [];
        if (!allowed.includes(target.name)) {
          context.report({ node, messageId: 'direction', data: { from: from.name, target: target.name, allowed: allowed.join(', ') || 'none' } });
        }
      }
    }
    return {
      ImportDeclaration(node) { check(node, String(node.source.value)); },
      ExportNamedDeclaration(node) { if (node.source) check(node, String(node.source.value)); },
      ExportAllDeclaration(node) { check(node, String(node.source.value)); },
      ImportExpression(node) { if (node.source.type === 'Literal') check(node, String(node.source.value)); },
    };
  },
};

import { noCycles } from './no-cycles.js';

export default { rules: { 'module-boundaries': moduleBoundaries, 'no-cycles': noCycles } };
