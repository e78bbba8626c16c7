import { RuleTester } from 'eslint';
import path from 'node:path';
import { describe, it } from 'vitest';
// @ts-expect-error -- plain JS module without types
import { moduleBoundaries } from './boundaries.js';

RuleTester.describe = describe;
RuleTester.it = it;
const tester = new RuleTester({ languageOptions: { ecmaVersion: 2022, sourceType: 'module' } });
const root = path.resolve('/repo');
const opts = [{ srcDir: '/repo/src' }];
const f = (p: string): string => path.join(root, p);

tester.run('module-boundaries', moduleBoundaries, {
  valid: [
    { filename: f('src/gateway/proxy.ts'), options: opts, code: "import { x } from '../router/index.js';" },
    { filename: f('src/router/plugins/rr.ts'), options: opts, code: "import { x } from '../framework.js';" },
    { filename: f('src/router/a.ts'), options: opts, code: "import { Clock } from '../core/index.js';" },
    { filename: f('src/cli/main.ts'), options: opts, code: "import { x } from '../engines/index.js';" },
    { filename: f('src/engines/sim/engine.ts'), options: opts, code: "import zmq from 'zeromq';" },
    { filename: f('test/e2e.test.ts'), options: opts, code: "import { x } from '../src/core/index.js';" },
  ],
  invalid: [
    { filename: f('src/gateway/proxy.ts'), options: opts, code: "import { x } from '../router/plugins/rr.js';", errors: [{ messageId: 'deep' }] },
    { filename: f('src/core/clock.ts'), options: opts, code: "import { x } from '../router/index.js';", errors: [{ messageId: 'direction' }] },
    { filename: f('src/router/a.ts'), options: opts, code: "export * from '../gateway/index.js';", errors: [{ messageId: 'direction' }] },
    { filename: f('test/e2e.test.ts'), options: opts, code: "import { x } from '../src/engines/sim/kv-cache.js';", errors: [{ messageId: 'deep' }] },
  ],
});
