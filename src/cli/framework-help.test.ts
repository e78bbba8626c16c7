import { describe, expect, it } from 'vitest';
import { versionCommand } from './commands/version.js';
import { defineCommand } from './framework.js';
import type { AnyCommand, FlagSpec } from './framework.js';
import { runCliCaptured } from './framework-testing.js';

const program = { name: 'switchyard', version: '9.9.9', description: 'Test program.' };

const sim = defineCommand({
  name: 'worker sim',
  summary: 'Run a simulated worker',
  description: 'First paragraph\nspans lines.\n\nSecond paragraph.',
  flags: {
    port: { type: 'int', description: 'Port to listen on', default: 8000, short: 'p', env: 'SWITCHYARD_PORT' },
    model: { type: 'string', description: 'Model name to serve', required: true },
    'kv-events-endpoint': { type: 'string', description: 'ZMQ endpoint', placeholder: 'url' },
    timeout: { type: 'duration', description: 'Request timeout', default: 90_000 },
    mode: { type: 'enum', values: ['fast', 'fair'], description: 'Scheduling mode', default: 'fair' },
    color: { type: 'bool', description: 'Colour output', default: true },
    secret: { type: 'string', description: 'Hidden flag', hidden: true },
  },
  positionals: [{ name: 'files', description: 'Trace files', variadic: true }],
  examples: ['switchyard worker sim --model demo --port 8000'],
  async run() {},
});
const attach = defineCommand({ name: 'worker attach', summary: 'Attach to a vLLM server', flags: {}, examples: ['switchyard worker attach'], async run() {} });
const commands: AnyCommand[] = [versionCommand, sim, attach];

const help = (argv: string[]) => runCliCaptured(argv, commands, { program });

describe('help', () => {
  it.each([[['--help']], [['-h']], [['help']], [[]]])('%j lists commands grouped, exit 0', async (argv) => {
    const r = await help(argv);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^switchyard 9\.9\.9\nTest program\.\n\nUsage:\n {2}switchyard <command> \[flags\] \[arguments\]\n/);
    expect(r.stdout).toMatch(/Commands:\n {2}version +Print version information\n\nWorker commands:\n {2}worker sim +Run a simulated worker\n {2}worker attach +Attach to a vLLM server\n/);
    expect(r.stdout).toContain("Run 'switchyard <command> --help' for details on a command.");
  });

  it('prints a command help screen', async () => {
    const r = await help(['worker', 'sim', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'Usage: switchyard worker sim --model <string> [flags] [<files>...]',
        '',
        'Run a simulated worker',
        '',
        'First paragraph spans lines.',
        '',
        'Second paragraph.',
        '',
        'Arguments:',
        '  <files>...  Trace files',
        '',
        'Flags:',
        '  -p, --port <int>                Port to listen on (default: 8000; env: SWITCHYARD_PORT)',
        '      --model <string>            Model name to serve (required)',
        '      --kv-events-endpoint <url>  ZMQ endpoint',
        '      --timeout <duration>        Request timeout (default: 1m30s)',
        '      --mode <fast|fair>          Scheduling mode (default: fair)',
        '      --[no-]color                Colour output (default: true)',
        '  -h, --help                      Show this help',
        '',
        'Examples:',
        '  switchyard worker sim --model demo --port 8000',
        '',
      ].join('\n'),
    );
  });

  it.each([[['worker', 'sim', '-h']], [['help', 'worker', 'sim']], [['worker', 'sim', '--port', 'bad', '--help']]])('%j also shows command help', async (argv) => {
    const r = await help(argv);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: switchyard worker sim /);
  });

  it.each([[['worker']], [['worker', '--help']], [['help', 'worker']]])('%j lists the group', async (argv) => {
    const r = await help(argv);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'Usage: switchyard worker <command> [flags] [arguments]',
        '',
        'Commands:',
        '  worker sim     Run a simulated worker',
        '  worker attach  Attach to a vLLM server',
        '',
        "Run 'switchyard worker <command> --help' for details on a command.",
        '',
      ].join('\n'),
    );
  });

  it('a group given flags without a command is a usage error', async () => {
    const r = await help(['worker', '--port', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("switchyard: 'worker' needs a command before flags");
  });

  it('--version prints the version', async () => {
    expect(await help(['--version'])).toMatchObject({ code: 0, stdout: 'switchyard 9.9.9\n', stderr: '' });
  });

  it('the version command prints text or JSON', async () => {
    const text = await help(['version']);
    expect(text.stdout).toMatch(/^switchyard \d+\.\d+\.\d+\nnode v\d+/);
    const json = await help(['version', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ name: 'switchyard', version: expect.stringMatching(/^\d+\.\d+\.\d+/) as unknown });
  });
});

describe('defineCommand validation', () => {
  const base = { summary: 's', examples: ['e'], async run() {} };
  it.each<[string, string, Record<string, FlagSpec>, RegExp]>([
    ['bad name', 'Worker', {}, /lowercase words/],
    ['reserved name', 'help', {}, /'help' is reserved/],
    ['camelCase flag', 'x', { kvEvents: { type: 'string', description: 'd' } }, /kebab-case/],
    ['reserved flag', 'x', { help: { type: 'bool', description: 'd' } }, /reserved/],
    ['reserved short', 'x', { hat: { type: 'bool', description: 'd', short: 'h' } }, /reserved for --help/],
    ['duplicate short', 'x', { a: { type: 'bool', description: 'd', short: 'a' }, b: { type: 'bool', description: 'd', short: 'a' } }, /used twice/],
    ['enum without values', 'x', { m: { type: 'enum', description: 'd' } }, /needs values/],
    ['bad default', 'x', { t: { type: 'duration', description: 'd', default: 'soon' } }, /bad default for 't'/],
    ['required with default', 'x', { t: { type: 'int', description: 'd', default: 1, required: true } }, /required and has a default/],
    ['no- clash', 'x', { color: { type: 'bool', description: 'd' }, 'no-color': { type: 'bool', description: 'd' } }, /clashes/],
  ])('%s', (_n, name, flags, error) => {
    expect(() => defineCommand({ ...base, name, flags })).toThrow(error);
  });

  it('requires an example', () => {
    expect(() => defineCommand({ ...base, name: 'x', flags: {}, examples: [] })).toThrow(/at least one example/);
  });

  it('rejects a variadic positional that is not last', () => {
    expect(() => defineCommand({ ...base, name: 'x', flags: {}, positionals: [{ name: 'a', description: 'd', variadic: true }, { name: 'b', description: 'd' }] })).toThrow(/only the last/);
  });

  it('rejects duplicate command names', async () => {
    await expect(runCliCaptured(['version'], [versionCommand, versionCommand])).rejects.toThrow(/defined twice/);
  });
});
