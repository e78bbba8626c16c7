import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- plain JS module without types
import { findCycles } from './no-cycles.js';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'cycles-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), text);
  }
  return root;
}

const rel = (root: string, m: Map<string, string[]>) => new Map([...m].map(([k, v]) => [k.slice(root.length + 1), v.map((f) => f.slice(root.length + 1))]));

describe('findCycles', () => {
  it('finds a three-file cycle through .js specifiers and index files, with its path', () => {
    const root = tree({
      'a.ts': "import { b } from './b.js';\nexport const a = 1;",
      'b.ts': "export { c } from './c/index.js';\nexport const b = 2;",
      'c/index.ts': "import { a } from '../a.js';\nexport const c = a;",
      'd.ts': "import { a } from './a.js';",
    });
    const cycles = rel(root, findCycles(root) as Map<string, string[]>);
    expect([...cycles.keys()].sort()).toEqual(['a.ts', 'b.ts', 'c/index.ts']);
    expect(cycles.get('a.ts')).toEqual(['a.ts', 'b.ts', 'c/index.ts', 'a.ts']);
  });

  it('ignores type-only imports and exports, and external packages', () => {
    const root = tree({
      'a.ts': "import type { B } from './b.js';\nimport { z } from 'zod';\nexport type A = B;",
      'b.ts': "import { type A } from './a.js';\nexport type { A } from './a.js';\nexport type B = A;",
    });
    expect((findCycles(root) as Map<string, string[]>).size).toBe(0);
  });

  it('reports a value import mixed with types, and a self-import', () => {
    const root = tree({
      'a.ts': "import { type B, b } from './b.js';\nexport const a = b;",
      'b.ts': "import { a } from './a.js';\nexport type B = 1; export const b = a;",
      's.ts': "import { s as t } from './s.js';\nexport const s = t;",
    });
    expect([...(findCycles(root) as Map<string, string[]>).keys()].map((k) => k.slice(root.length + 1)).sort()).toEqual(['a.ts', 'b.ts', 's.ts']);
  });

  it('the project itself has no cycles', () => {
    expect([...(findCycles(join(process.cwd(), 'src')) as Map<string, string[]>).keys()]).toEqual([]);
  });
});
