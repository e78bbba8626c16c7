import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SwitchyardError } from '../core/index.js';
import { ConfigError, loadConfig, zodDuration, zodHttpUrl } from './index.js';
import type { ConfigIssue, ConfigSource } from './index.js';

const Schema = z.strictObject({
  gateway: z
    .strictObject({
      port: z.number().int().min(1).max(65535).default(8080),
      timeout: zodDuration().prefault('30s'),
      mode: z.enum(['fast', 'fair']).default('fast'),
    })
    .prefault({}),
  backends: z
    .array(
      z.strictObject({
        name: z.string(),
        endpoints: z.array(z.strictObject({ url: zodHttpUrl() })),
      }),
    )
    .default([]),
});
type Cfg = z.infer<typeof Schema>;

function issuesOf(source: ConfigSource, crossChecks?: (cfg: Cfg) => ConfigIssue[]): ConfigError {
  try {
    loadConfig(Schema, { name: 'config.yaml', ...source }, { crossChecks });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig errors', () => {
  it.each<{ name: string; text: string; path: string; line?: number; message: RegExp | string; hint?: string }>([
    {
      name: 'wrong type',
      text: 'gateway:\n  port: eighty\n',
      path: 'gateway.port',
      line: 2,
      message: "expected a number, got 'eighty'",
    },
    {
      name: 'unknown field with suggestion',
      text: 'gateway:\n  port: 1\n  tiemout: 5s\n',
      path: 'gateway.tiemout',
      line: 3,
      message: "unknown field 'tiemout'",
      hint: "did you mean 'timeout'?",
    },
    {
      name: 'unknown field without a close match lists known fields',
      text: 'gateway:\n  zzzzzz: 1\n',
      path: 'gateway.zzzzzz',
      message: "unknown field 'zzzzzz'",
      hint: 'known fields: port, timeout, mode',
    },
    {
      name: 'missing field',
      text: 'backends:\n  - endpoints: []\n',
      path: 'backends[0].name',
      line: 2,
      message: 'missing required field; expected a string',
    },
    {
      name: 'nested array path',
      text: 'backends:\n  - name: a\n    endpoints:\n      - url: http://127.0.0.1:8000\n      - url: localhost:8000\n',
      path: 'backends[0].endpoints[1].url',
      line: 5,
      message: "expected a URL like 'http://127.0.0.1:8000', got 'localhost:8000'",
    },
    {
      name: 'out of range',
      text: 'gateway: { port: 70000 }\n',
      path: 'gateway.port',
      message: 'expected a number <= 65535, got 70000',
    },
    {
      name: 'enum near miss',
      text: 'gateway: { mode: fiar }\n',
      path: 'gateway.mode',
      message: "expected one of 'fast', 'fair', got 'fiar'",
      hint: "did you mean 'fair'?",
    },
    {
      name: 'bad duration uses parseDuration text',
      text: 'gateway: { timeout: soon }\n',
      path: 'gateway.timeout',
      message: "'soon' is not a duration; use a number with a unit, e.g. '250ms', '30s', '5m', '1h30m'",
    },
    {
      name: 'duration of the wrong type',
      text: 'gateway: { timeout: true }\n',
      path: 'gateway.timeout',
      message: "expected a duration like '30s' or a number of milliseconds, got true",
    },
    {
      name: 'unknown top-level field',
      text: 'gatway: {}\n',
      path: 'gatway',
      line: 1,
      message: "unknown field 'gatway'",
      hint: "did you mean 'gateway'?",
    },
  ])('$name', ({ text, path, line, message, hint }) => {
    const err = issuesOf({ text });
    expect(err.code).toBe('invalid_config');
    expect(err).toBeInstanceOf(SwitchyardError);
    const issue = err.issues.find((i) => i.path === path);
    expect(issue, `issues: ${JSON.stringify(err.issues)}`).toBeDefined();
    if (typeof message === 'string') expect(issue!.message).toBe(message);
    else expect(issue!.message).toMatch(message);
    expect(issue!.hint).toBe(hint);
    if (line !== undefined) expect(issue!.line).toBe(line);
    expect(err.message).toContain(`config.yaml: ${path}: ${issue!.message}`);
  });

  it('lists every issue, one per line, in the message', () => {
    const err = issuesOf({
      text: 'gateway:\n  tiemout: 1s\nbackends:\n  - name: b\n    endpoints:\n      - url: localhost:8000\n',
    });
    expect(err.message.split('\n')).toEqual([
      "config.yaml: gateway.tiemout: unknown field 'tiemout' — did you mean 'timeout'? (line 2)",
      "config.yaml: backends[0].endpoints[0].url: expected a URL like 'http://127.0.0.1:8000', got 'localhost:8000' (line 6)",
    ]);
    expect(err.param).toBe('gateway.tiemout');
  });

  it('reports YAML syntax errors with line and column', () => {
    const err = issuesOf({ text: 'gateway:\n  port: 1\n  list: [1, 2\nbackends: []\n' });
    const issue = err.issues[0]!;
    expect(issue.path).toBe('');
    expect(issue.line).toBeGreaterThanOrEqual(3);
    expect(issue.column).toBeGreaterThanOrEqual(1);
    expect(err.message).toMatch(/^config\.yaml: line \d+, column \d+: YAML syntax error: /);
  });

  it('reports duplicate YAML keys', () => {
    const err = issuesOf({ text: 'gateway: {}\ngateway: {}\n' });
    expect(err.message).toMatch(/line 2, column 1: YAML syntax error: Map keys must be unique/);
  });

  it('reports JSON syntax errors', () => {
    const err = issuesOf({ text: '{\n  "gateway": {"port": 1,}\n}', format: 'json', name: 'c.json' });
    expect(err.message).toMatch(/^c\.json: (line 2, column \d+: )?JSON syntax error: /);
  });

  it('locates JSON validation issues by line', () => {
    const err = issuesOf({ text: '{\n  "gateway": {\n    "port": "x"\n  }\n}', format: 'json', name: 'c.json' });
    expect(err.message).toBe("c.json: gateway.port: expected a number, got 'x' (line 3)");
  });

  it('reports unreadable files', () => {
    const err = issuesOf({ file: '/definitely/not/here.yaml', name: undefined });
    expect(err.message).toBe('/definitely/not/here.yaml: cannot read config file: no such file');
  });

  it('runs cross-checks on the parsed config and locates their paths', () => {
    const text = 'backends:\n  - name: a\n    endpoints: []\n  - name: a\n    endpoints: []\n';
    const err = issuesOf({ text }, (cfg) =>
      cfg.backends.flatMap((b, i) =>
        cfg.backends.findIndex((o) => o.name === b.name) < i ? [{ path: `backends[${i}].name`, message: `duplicate backend name '${b.name}'`, hint: 'names must be unique' }] : [],
      ),
    );
    expect(err.message).toBe("config.yaml: backends[1].name: duplicate backend name 'a' — names must be unique (line 4)");
  });

  it('rejects a source with none or several of file/text/object', () => {
    expect(() => loadConfig(Schema, {})).toThrow(/exactly one of file, text or object/);
    expect(() => loadConfig(Schema, { text: '', object: {} })).toThrow(/exactly one/);
  });
});

describe('loadConfig success', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('applies defaults (an empty document is {})', () => {
    expect(loadConfig(Schema, { text: '' })).toEqual({ gateway: { port: 8080, timeout: 30_000, mode: 'fast' }, backends: [] });
    expect(loadConfig(Schema, { text: 'gateway: { timeout: 1m30s }' }).gateway.timeout).toBe(90_000);
    expect(loadConfig(Schema, { object: { gateway: { timeout: 250 } } }).gateway.timeout).toBe(250);
  });

  it('returns a deep-frozen object', () => {
    const cfg = loadConfig(Schema, { text: 'backends:\n  - name: a\n    endpoints: [{ url: "http://h:1" }]\n' });
    expect(Object.isFrozen(cfg)).toBe(true);
    expect(Object.isFrozen(cfg.gateway)).toBe(true);
    expect(Object.isFrozen(cfg.backends)).toBe(true);
    expect(Object.isFrozen(cfg.backends[0]!.endpoints[0])).toBe(true);
    expect(() => {
      (cfg.gateway as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it.each([
    ['c.yaml', 'gateway:\n  port: 9000\n'],
    ['c.yml', 'gateway: { port: 9000 }\n'],
    ['c.json', '{ "gateway": { "port": 9000 } }'],
  ])('reads %s by extension', (name, text) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    expect(loadConfig(Schema, { file }).gateway.port).toBe(9000);
  });

  it('labels file errors with the path', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'gateway:\n  port: -1\n');
    expect(() => loadConfig(Schema, { file })).toThrow(`${file}: gateway.port: expected a number >= 1, got -1 (line 2)`);
  });
});
