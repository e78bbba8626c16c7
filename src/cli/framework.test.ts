import { EventEmitter } from 'node:events';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { SwitchyardError } from '../core/index.js';
import { defineCommand, UsageError } from './framework.js';
import type { AnyCommand, CommandContext } from './framework.js';
import { runCliCaptured } from './framework-testing.js';

const program = { name: 'switchyard', version: '9.9.9', description: 'Test program.' };

let last: { flags: Record<string, unknown>; positionals: string[] } | undefined;

const sim = defineCommand({
  name: 'worker sim',
  summary: 'Run a simulated worker',
  description: 'Serves an OpenAI-compatible API.\n\nSecond paragraph.',
  flags: {
    port: { type: 'int', description: 'Port to listen on', default: 8000, min: 0, max: 65535, short: 'p', env: 'SWITCHYARD_PORT' },
    model: { type: 'string', description: 'Model name to serve', required: true, short: 'm' },
    'kv-events-endpoint': { type: 'string', description: 'ZMQ endpoint for KV events', placeholder: 'url' },
    timeout: { type: 'duration', description: 'Request timeout', default: '30s', min: 1 },
    mode: { type: 'enum', values: ['fast', 'fair'], description: 'Scheduling mode', default: 'fast' },
    tags: { type: 'list', description: 'Labels' },
    speedup: { type: 'number', description: 'Simulated time factor', min: 0.1 },
    offset: { type: 'number', description: 'Clock offset' },
    verbose: { type: 'bool', description: 'Log more', short: 'v' },
    quiet: { type: 'bool', description: 'Log less', short: 'q' },
    color: { type: 'bool', description: 'Colour output', default: true },
    secret: { type: 'string', description: 'Not listed', hidden: true },
  },
  examples: ['switchyard worker sim --model demo-llama-8b --port 8000'],
  async run(ctx) {
    last = { flags: { ...ctx.flags }, positionals: ctx.positionals };
  },
});

const replay = defineCommand({
  name: 'trace replay',
  summary: 'Replay traces',
  flags: {},
  positionals: [
    { name: 'file', description: 'Trace file', required: true },
    { name: 'more', description: 'More files', variadic: true },
  ],
  examples: ['switchyard trace replay a.jsonl'],
  async run(ctx) {
    last = { flags: {}, positionals: ctx.positionals };
    return ctx.positionals.length;
  },
});

const fail = defineCommand({
  name: 'fail',
  summary: 'Fails',
  flags: { kind: { type: 'enum', values: ['sy', 'plain', 'usage', 'string'], description: 'How', default: 'sy' } },
  examples: ['switchyard fail'],
  async run({ flags }) {
    if (flags.kind === 'sy') throw new SwitchyardError('unavailable', 'backend down\nsecond line');
    if (flags.kind === 'usage') throw new UsageError('--a and --b are mutually exclusive');
    if (flags.kind === 'string') throw 'a string'; // eslint-disable-line @typescript-eslint/only-throw-error
    throw new TypeError('boom');
  },
});

const commands: AnyCommand[] = [sim, replay, fail];

async function run(argv: string[], env: Record<string, string> = {}) {
  last = undefined;
  return runCliCaptured(argv, commands, { env, program });
}

describe('flag types', () => {
  it('maps kebab-case spec keys to camelCase typed values', () => {
    type Flags = CommandContext<typeof sim.flags>['flags'];
    expectTypeOf<Flags['port']>().toEqualTypeOf<number>();
    expectTypeOf<Flags['model']>().toEqualTypeOf<string>();
    expectTypeOf<Flags['kvEventsEndpoint']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<Flags['timeout']>().toEqualTypeOf<number>();
    expectTypeOf<Flags['mode']>().toEqualTypeOf<'fast' | 'fair'>();
    expectTypeOf<Flags['tags']>().toEqualTypeOf<string[]>();
    expectTypeOf<Flags['speedup']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<Flags['verbose']>().toEqualTypeOf<boolean>();
  });

  it('types ctx.flags contextually inside run()', () => {
    const cmd = defineCommand({
      name: 'typed',
      summary: 's',
      flags: { 'max-tokens': { type: 'int', description: 'd', default: 16 }, level: { type: 'enum', values: ['a', 'b'], description: 'd' } },
      examples: ['switchyard typed'],
      async run({ flags }) {
        expectTypeOf(flags.maxTokens).toEqualTypeOf<number>();
        expectTypeOf(flags.level).toEqualTypeOf<'a' | 'b' | undefined>();
        // @ts-expect-error -- kebab-case keys are not on ctx.flags
        void flags['max-tokens'];
      },
    });
    expect(cmd.name).toBe('typed');
  });
});

describe('parsing', () => {
  it('applies defaults', async () => {
    const r = await run(['worker', 'sim', '--model', 'm']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(last!.flags).toEqual({
      port: 8000,
      model: 'm',
      kvEventsEndpoint: undefined,
      timeout: 30_000,
      mode: 'fast',
      tags: [],
      speedup: undefined,
      offset: undefined,
      verbose: false,
      quiet: false,
      color: true,
      secret: undefined,
    });
  });

  it.each<[string, string[], Record<string, unknown>]>([
    ['--name value', ['--port', '9000'], { port: 9000 }],
    ['--name=value', ['--port=9000'], { port: 9000 }],
    ['-x value', ['-p', '9000'], { port: 9000 }],
    ['-xvalue', ['-p9000'], { port: 9000 }],
    ['last value wins', ['--port', '1', '--port', '2'], { port: 2 }],
    ['kebab to camel', ['--kv-events-endpoint', 'tcp://h:5557'], { kvEventsEndpoint: 'tcp://h:5557' }],
    ['duration', ['--timeout', '1m30s'], { timeout: 90_000 }],
    ['duration in ms', ['--timeout=250'], { timeout: 250 }],
    ['number, scientific', ['--speedup', '1e2'], { speedup: 100 }],
    ['negative-looking value is a value', ['--offset', '-0.5'], { offset: -0.5 }],
    ['enum', ['--mode', 'fair'], { mode: 'fair' }],
    ['bool', ['--verbose'], { verbose: true }],
    ['bool =false', ['--verbose=false'], { verbose: false }],
    ['--no-flag', ['--no-color'], { color: false }],
    ['grouped bool shorts', ['-vq'], { verbose: true, quiet: true }],
    ['list accumulates and splits on commas', ['--tags', 'a,b', '--tags', 'c', '--tags=,d,'], { tags: ['a', 'b', 'c', 'd'] }],
    ['hidden flags still parse', ['--secret', 's'], { secret: 's' }],
  ])('%s', async (_name, args, expected) => {
    const r = await run(['worker', 'sim', '-m', 'x', ...args]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(last!.flags).toMatchObject(expected);
  });

  it('reads env fallbacks, with flags taking precedence', async () => {
    await run(['worker', 'sim', '-m', 'x'], { SWITCHYARD_PORT: '7000' });
    expect(last!.flags['port']).toBe(7000);
    await run(['worker', 'sim', '-m', 'x', '-p', '1'], { SWITCHYARD_PORT: '7000' });
    expect(last!.flags['port']).toBe(1);
  });

  it('treats everything after -- as positionals', async () => {
    const r = await run(['trace', 'replay', 'a', '--', '--port', '-x']);
    expect(r.code).toBe(3);
    expect(last!.positionals).toEqual(['a', '--port', '-x']);
  });

  it('collects variadic positionals and returns the command exit code', async () => {
    const r = await run(['trace', 'replay', 'a', 'b', 'c']);
    expect(r.code).toBe(3);
  });
});

describe('usage errors (exit 2, stderr, pointer to --help)', () => {
  it.each<[string, string[], Record<string, string>, string]>([
    ['not an int', ['-m', 'x', '--port', 'abc'], {}, "switchyard worker sim: invalid value 'abc' for --port: expected an integer between 0 and 65535"],
    ['out of range', ['-m', 'x', '--port=70000'], {}, "invalid value '70000' for --port: expected an integer between 0 and 65535"],
    ['via short alias', ['-m', 'x', '-p', '1.5'], {}, "invalid value '1.5' for -p: expected an integer between 0 and 65535"],
    ['from env', ['-m', 'x'], { SWITCHYARD_PORT: 'eighty' }, "invalid value 'eighty' for --port (from $SWITCHYARD_PORT): expected an integer"],
    ['not in enum', ['-m', 'x', '--mode', 'fiar'], {}, "invalid value 'fiar' for --mode: expected one of: fast, fair — did you mean 'fair'?"],
    ['bad duration', ['-m', 'x', '--timeout', 'soon'], {}, "invalid value 'soon' for --timeout: expected a duration like '250ms', '30s' or '5m' >= 1ms"],
    ['below min', ['-m', 'x', '--speedup', '0'], {}, "invalid value '0' for --speedup: expected a number >= 0.1"],
    ['bad bool', ['-m', 'x', '--verbose=maybe'], {}, "invalid value 'maybe' for --verbose: expected true or false"],
    ['unknown flag with suggestion', ['-m', 'x', '--prot', '1'], {}, 'unknown flag --prot — did you mean --port?'],
    ['unknown short flag', ['-m', 'x', '-z'], {}, 'unknown flag -z'],
    ['missing value', ['-m', 'x', '--port'], {}, 'flag --port needs a value: an integer between 0 and 65535'],
    ['flag as value', ['--model', '--port', '1'], {}, 'flag --model needs a value: a string'],
    ['missing required', [], {}, 'missing required flag --model: Model name to serve'],
    ['--no- on a value flag', ['-m', 'x', '--no-port'], {}, 'unknown flag --no-port'],
    ['unexpected positional', ['-m', 'x', 'extra'], {}, "unexpected argument 'extra' (this command takes no arguments)"],
    ['grouped non-bool short', ['-m', 'x', '-vp'], {}, "cannot combine -p in '-vp'"],
  ])('%s', async (_name, args, env, message) => {
    const r = await run(['worker', 'sim', ...args], env);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(message);
    expect(r.stderr).toMatch(/^switchyard worker sim: /);
    expect(r.stderr).toContain("Run 'switchyard worker sim --help' for usage.");
    expect(last).toBeUndefined();
  });

  it('reports a missing required positional', async () => {
    const r = await run(['trace', 'replay']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('switchyard trace replay: missing required argument <file>: Trace file');
  });

  it.each<[string[], string]>([
    [['wroker', 'sim'], "switchyard: unknown command 'wroker' — did you mean 'worker'?"],
    [['sim'], "switchyard: unknown command 'sim' — did you mean 'worker sim'?"],
    [['worker', 'smi'], "switchyard: unknown command 'worker smi' — did you mean 'worker sim'?"],
    [['zzz'], "switchyard: unknown command 'zzz'\n"],
    [['help', 'nope'], "switchyard: unknown command 'nope'"],
  ])('unknown command %j', async (argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toMatch(/Run 'switchyard (worker )?--help'/);
  });

  it('rejects global flags other than --help/--version', async () => {
    const r = await run(['--port', '1']);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toContain('switchyard: unknown flag --port (flags go after the command)');
  });

  it('a UsageError thrown by a command also exits 2', async () => {
    const r = await run(['fail', '--kind', 'usage']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("switchyard fail: --a and --b are mutually exclusive\nRun 'switchyard fail --help' for usage.\n");
  });
});

describe('command failures (exit 1)', () => {
  it('prints a SwitchyardError as error: <message>, no stack', async () => {
    const r = await run(['fail']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: backend down\n       second line\n');
  });

  it('prints the stack with SWITCHYARD_DEBUG=1', async () => {
    const r = await run(['fail'], { SWITCHYARD_DEBUG: '1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: backend down\n {7}second line\nSwitchyardError: backend down\n[\s\S]*\n\s+at /);
  });

  it('flags unexpected errors as such', async () => {
    const r = await run(['fail', '--kind', 'plain']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: boom\n(an unexpected error; run with SWITCHYARD_DEBUG=1 for the stack trace)\n');
    expect((await run(['fail', '--kind', 'string'])).stderr).toContain('error: a string\n');
  });
});

describe('signals', () => {
  const serve = defineCommand({
    name: 'serve',
    summary: 'Waits for a signal',
    flags: {},
    examples: ['switchyard serve'],
    async run({ signal, io }) {
      io.stdout('listening\n');
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      io.stdout(`shutting down: ${(signal.reason as Error).message}\n`);
      return 0;
    },
  });

  it('aborts the signal on the first SIGINT and removes handlers afterwards', async () => {
    const source = new EventEmitter();
    const pending = runCliCaptured(['serve'], [serve], { signalSource: source, program });
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(source.listenerCount('SIGINT')).toBe(1);
    expect(source.listenerCount('SIGTERM')).toBe(1);
    source.emit('SIGINT', 'SIGINT');
    const r = await pending;
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('listening\nshutting down: interrupted by SIGINT\n');
    expect(r.stderr).toContain('received SIGINT, shutting down');
    expect(source.listenerCount('SIGINT')).toBe(0);
    expect(source.listenerCount('SIGTERM')).toBe(0);
    expect(r.exits).toEqual([]);
  });

  it('forces exit(130) on a second signal', async () => {
    const source = new EventEmitter();
    const stuck = defineCommand({
      name: 'stuck',
      summary: 'Ignores the first signal',
      flags: {},
      examples: ['switchyard stuck'],
      async run({ signal }) {
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => setImmediate(resolve)));
      },
    });
    const pending = runCliCaptured(['stuck'], [stuck], { signalSource: source, program });
    await new Promise<void>((resolve) => setImmediate(resolve));
    source.emit('SIGTERM', 'SIGTERM');
    source.emit('SIGTERM', 'SIGTERM');
    const r = await pending;
    expect(r.exits).toEqual([130]);
  });

  it('an AbortError after the signal counts as interrupted (130)', async () => {
    const source = new EventEmitter();
    const aborting = defineCommand({
      name: 'aborting',
      summary: 'Throws the abort reason',
      flags: {},
      examples: ['switchyard aborting'],
      async run({ signal }) {
        await new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
      },
    });
    const pending = runCliCaptured(['aborting'], [aborting], { signalSource: source, program });
    await new Promise<void>((resolve) => setImmediate(resolve));
    source.emit('SIGINT', 'SIGINT');
    expect((await pending).code).toBe(130);
  });
});
