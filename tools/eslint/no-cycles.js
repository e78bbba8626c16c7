// @ts-check
/**
 * Local ESLint rule: no import cycles among the project's own TypeScript files.
 *
 * The first file linted under a source root triggers one scan of the whole root: every
 * relative `import`/`export … from` that is not type-only (type-only imports are erased and cannot
 * form a runtime cycle) becomes an edge, `.js` specifiers resolving to `.ts` files. Tarjan's
 * algorithm finds the strongly connected components; each file in a component of two or more
 * files (or importing itself) is reported once, with the cycle spelled out.
 *
 * It replaces eslint-plugin-import-x's no-cycle, whose native resolver cannot be installed from
 * this project's registry on every platform (see docs/adr/0007).
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** @type {Map<string, Map<string, string[]>>} root → (cycle member → cycle path) */
const cache = new Map();

/** @param {string} dir @param {string[]} out */
function walk(dir, out) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (/\.ts$/.test(e.name) && !/\.d\.ts$/.test(e.name)) out.push(p);
  }
}

/** @param {string} from @param {string} spec */
function resolve(from, spec) {
  const base = path.resolve(path.dirname(from), spec);
  for (const c of [base.replace(/\.js$/, '.ts'), base, `${base}.ts`, path.join(base, 'index.ts')]) {
    if (c.endsWith('.ts') && fs.existsSync(c)) return c;
  }
  return null;
}

/** Value (runtime) relative imports of one file. @param {string} file */
export function runtimeImports(file) {
  const text = fs.readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  /** @type {string[]} */
  const out = [];
  for (const st of sf.statements) {
    /** @type {ts.Expression | undefined} */
    let spec;
    if (ts.isImportDeclaration(st)) {
      const clause = st.importClause;
      if (clause?.isTypeOnly) continue;
      const named = clause?.namedBindings;
      if (clause && !clause.name && named && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly)) continue;
      spec = st.moduleSpecifier;
    } else if (ts.isExportDeclaration(st)) {
      if (st.isTypeOnly) continue;
      const clause = st.exportClause;
      if (clause && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly)) continue;
      spec = st.moduleSpecifier;
    }
    if (spec && ts.isStringLiteral(spec) && spec.text.startsWith('.')) {
      const r = resolve(file, spec.text);
      if (r) out.push(r);
    }
  }
  return out;
}

/** Files on import cycles under `root`, each mapped to one cycle it lies on. @param {string} root */
export function findCycles(root) {
  /** @type {string[]} */
  const files = [];
  walk(root, files);
  /** @type {Map<string, string[]>} */
  const graph = new Map(files.map((f) => [f, runtimeImports(f)]));
  let index = 0;
  /** @type {Map<string, number>} */ const idx = new Map();
  /** @type {Map<string, number>} */ const low = new Map();
  /** @type {string[]} */ const stack = [];
  const onStack = new Set();
  /** @type {Map<string, string[]>} */ const result = new Map();
  /** @param {string} v */
  const strong = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, idx.get(w) ?? 0));
    }
    if (low.get(v) === idx.get(v)) {
      /** @type {string[]} */ const comp = [];
      let w;
      do {
        w = /** @type {string} */ (stack.pop());
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      const selfLoop = comp.length === 1 && (graph.get(v) ?? []).includes(v);
      if (comp.length > 1 || selfLoop) {
        const members = new Set(comp);
        for (const m of comp) result.set(m, cyclePath(graph, m, members));
      }
    }
  };
  for (const f of files) if (!idx.has(f)) strong(f);
  return result;
}

/** Shortest path from `start` back to itself within the component. */
function cyclePath(/** @type {Map<string,string[]>} */ graph, /** @type {string} */ start, /** @type {Set<string>} */ members) {
  /** @type {Map<string, string>} */ const prev = new Map();
  const queue = [start];
  while (queue.length > 0) {
    const v = /** @type {string} */ (queue.shift());
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const p = [start];
        for (let c = v; c !== start; c = /** @type {string} */ (prev.get(c))) p.unshift(c);
        p.unshift(start);
        return p;
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

/** @type {import('eslint').Rule.RuleModule} */
export const noCycles = {
  meta: {
    type: 'problem',
    docs: { description: 'Forbid import cycles among project files (type-only imports excepted).' },
    schema: [{ type: 'object', properties: { roots: { type: 'array', items: { type: 'string' } } }, additionalProperties: false }],
    messages: { cycle: 'Import cycle: {{path}}. Break it by moving the shared part into a module both can import.' },
  },
  create(context) {
    const roots = /** @type {{roots?: string[]}} */ (context.options[0] ?? {}).roots ?? ['src'];
    const file = context.filename;
    for (const r of roots) {
      const root = path.resolve(context.cwd, r);
      if (!file.startsWith(root + path.sep)) continue;
      let cycles = cache.get(root);
      if (!cycles) {
        cycles = findCycles(root);
        cache.set(root, cycles);
      }
      const cycle = cycles.get(file);
      if (!cycle) return {};
      return {
        Program(node) {
          context.report({ node, messageId: 'cycle', data: { path: cycle.map((f) => path.relative(root, f)).join(' → ') } });
        },
      };
    }
    return {};
  },
};
