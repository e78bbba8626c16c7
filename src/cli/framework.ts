/**
 * A small typed command framework (no CLI library).
 *
 *   export const serveCommand = defineCommand({
 *     name: 'worker sim', summary: 'Run a simulated worker',
 *     flags: { port: { type: 'int', description: 'Listen port', default: 8000, min: 0, max: 65535, short: 'p' },
 *              'kv-events-endpoint': { type: 'string', description: 'ZMQ endpoint' } },
 *     examples: ['switchyard worker sim --port 8000'],
 *     async run({ flags, io, signal }) { flags.port; flags.kvEventsEndpoint; ... },
 *   });
 *   process.exitCode = await runCli(process.argv.slice(2), [serveCommand]);
 *
 * Flags are keyed by kebab-case name in the spec and camelCased in `ctx.flags`.
 * Exit codes: 0 ok, 1 command failed, 2 usage error, 130 forced exit on a second signal.
 */
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { closestMatch } from '../config/index.js';
import { isSwitchyardError } from '../core/index.js';
import { validateCommandList } from './framework-define.js';
import { renderCommandHelp, renderGlobalHelp, renderGroupHelp } from './framework-help.js';
import type { ProgramInfo } from './framework-help.js';
import { isFlagToken, parseArgs } from './framework-parse.js';
import { installSignalHandlers } from './framework-signals.js';
import type { SignalSource } from './framework-signals.js';
import type { AnyCommand, CliIO } from './framework-types.js';
import { ExitCode, UsageError } from './framework-types.js';

export { defineCommand, validateCommand } from './framework-define.js';
export { ExitCode, toCamelCase, UsageError } from './framework-types.js';
export type {
  AnyCommand,
  CamelCase,
  CliIO,
  CommandContext,
  CommandSpec,
  FlagSpec,
  FlagType,
  FlagValue,
  FlagValues,
  PositionalSpec,
} from './framework-types.js';
export type { ProgramInfo } from './framework-help.js';
export type { SignalSource } from './framework-signals.js';

export interface RunCliOptions {
  /** Program name and version for help and `--version`; default: package.json's. */
  program?: Partial<ProgramInfo>;
  /** Called on a second SIGINT/SIGTERM; default process.exit. */
  exit?: (code: number) => void;
  /** Where SIGINT/SIGTERM come from; default `process`. */
  signalSource?: SignalSource;
}

let cachedPackage: ProgramInfo | undefined;

/** Name, version and description from package.json (read once). */
export function packageInfo(): ProgramInfo {
  if (!cachedPackage) {
    const raw: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    const pkg = (raw ?? {}) as { name?: unknown; version?: unknown; description?: unknown };
    cachedPackage = {
      name: typeof pkg.name === 'string' ? pkg.name : 'switchyard',
      version: typeof pkg.version === 'string' ? pkg.version : '0.0.0',
      description: typeof pkg.description === 'string' ? pkg.description : undefined,
    };
  }
  return cachedPackage;
}

let epipeHandled = false;

/** Default io: the process's streams and environment. */
export function processIO(): CliIO {
  if (!epipeHandled) {
    // `switchyard --help | head -1` closes the pipe early; that is not an error worth a stack trace.
    epipeHandled = true;
    for (const stream of [process.stdout, process.stderr]) {
      stream.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EPIPE') throw e;
      });
    }
  }
  return {
    stdout: (s) => void process.stdout.write(s),
    stderr: (s) => void process.stderr.write(s),
    env: process.env,
    isTTY: Boolean(process.stdout.isTTY),
  };
}

type Resolved = { kind: 'command'; cmd: AnyCommand; rest: string[] } | { kind: 'group'; group: string; rest: string[] } | { kind: 'unknown'; word: string };

/** Find the command named by the leading words of argv (longest match), or the group they name. */
function resolve(argv: readonly string[], commands: readonly AnyCommand[]): Resolved {
  const firstFlag = argv.findIndex(isFlagToken);
  const words = firstFlag < 0 ? [...argv] : argv.slice(0, firstFlag);
  let best: AnyCommand | undefined;
  let bestLen = 0;
  for (const cmd of commands) {
    const parts = cmd.name.split(' ');
    if (parts.length > bestLen && parts.length <= words.length && parts.every((p, i) => p === words[i])) {
      best = cmd;
      bestLen = parts.length;
    }
  }
  if (best) return { kind: 'command', cmd: best, rest: argv.slice(bestLen) };
  for (let k = words.length; k >= 1; k--) {
    const prefix = `${words.slice(0, k).join(' ')} `;
    if (commands.some((c) => c.name.startsWith(prefix))) return { kind: 'group', group: prefix.trim(), rest: argv.slice(k) };
  }
  return { kind: 'unknown', word: argv[0] ?? '' };
}

/**
 * Run the command named by argv. Returns the exit code; never throws for user errors.
 * `io` parts default to the process's streams and env.
 */
export async function runCli(argv: readonly string[], commands: readonly AnyCommand[], io: Partial<CliIO> = {}, options: RunCliOptions = {}): Promise<number> {
  validateCommandList(commands);
  const cio: CliIO = io.stdout && io.stderr && io.env && io.isTTY !== undefined ? (io as CliIO) : { ...processIO(), ...io };
  const program: ProgramInfo = { ...packageInfo(), ...options.program };
  const usage = (where: string, message: string, helpCmd: string): number => {
    cio.stderr(`${where}: ${message}\nRun '${helpCmd}' for usage.\n`);
    return ExitCode.usage;
  };
  const first = argv[0];

  if (first === undefined || first === '--help' || first === '-h') {
    cio.stdout(renderGlobalHelp(program, commands));
    return ExitCode.ok;
  }
  if (first === '--version') {
    cio.stdout(`${program.name} ${program.version}\n`);
    return ExitCode.ok;
  }
  if (first === 'help') return runHelpFor(argv.slice(1));
  if (isFlagToken(first)) return usage(program.name, `unknown flag ${first} (flags go after the command)`, `${program.name} --help`);

  const found = resolve(argv, commands);
  if (found.kind === 'unknown') return unknownCommand(found.word);
  if (found.kind === 'group') {
    const next = found.rest[0];
    const members = commands.filter((c) => c.name.startsWith(`${found.group} `));
    if (next === undefined || next === '--help' || next === '-h' || next === 'help') {
      cio.stdout(renderGroupHelp(program, found.group, members));
      return ExitCode.ok;
    }
    const typed = `${found.group} ${next}`;
    const match = isFlagToken(next) ? undefined : closestMatch(typed, members.map((c) => c.name));
    const what = isFlagToken(next) ? `'${found.group}' needs a command before flags` : `unknown command '${typed}'${match ? ` — did you mean '${match}'?` : ''}`;
    return usage(program.name, what, `${program.name} ${found.group} --help`);
  }

  const { cmd, rest } = found;
  const where = `${program.name} ${cmd.name}`;
  let parsed;
  try {
    parsed = parseArgs(cmd, rest, cio.env);
  } catch (e) {
    if (e instanceof UsageError) return usage(where, e.message, `${where} --help`);
    throw e;
  }
  if (parsed.help) {
    cio.stdout(renderCommandHelp(program, cmd));
    return ExitCode.ok;
  }

  const scope = installSignalHandlers({
    notify: cio.stderr,
    exit: options.exit ?? ((code) => process.exit(code)),
    ...(options.signalSource ? { source: options.signalSource } : {}),
  });
  try {
    const code = await cmd.run({ flags: parsed.flags, positionals: parsed.positionals, io: cio, signal: scope.signal });
    return typeof code === 'number' ? code : ExitCode.ok;
  } catch (e) {
    if (e instanceof UsageError) return usage(where, e.message, `${where} --help`);
    if (scope.signal.aborted && e instanceof Error && e.name === 'AbortError') return ExitCode.interrupted;
    reportError(e, cio);
    return ExitCode.error;
  } finally {
    scope.dispose();
  }

  /** `switchyard help [command words]`. */
  function runHelpFor(words: readonly string[]): number {
    if (words.length === 0) {
      cio.stdout(renderGlobalHelp(program, commands));
      return ExitCode.ok;
    }
    const r = resolve(words, commands);
    if (r.kind === 'command' && r.rest.length === 0) cio.stdout(renderCommandHelp(program, r.cmd));
    else if (r.kind === 'group' && r.rest.length === 0) cio.stdout(renderGroupHelp(program, r.group, commands.filter((c) => c.name.startsWith(`${r.group} `))));
    else return unknownCommand(words.join(' '));
    return ExitCode.ok;
  }

  function unknownCommand(word: string): number {
    const candidates = new Set(commands.flatMap((c) => [c.name, c.name.split(' ')[0]!]));
    const byLastWord = commands.find((c) => c.name.split(' ').at(-1) === word && c.name !== word)?.name;
    const match = byLastWord ?? closestMatch(word, candidates);
    cio.stderr(`${program.name}: unknown command '${word}'${match ? ` — did you mean '${match}'?` : ''}\nRun '${program.name} --help' for a list of commands.\n`);
    return ExitCode.usage;
  }
}

/** `error: <message>` (continuation lines indented); the stack only with SWITCHYARD_DEBUG=1. */
function reportError(e: unknown, io: CliIO): void {
  const debug = io.env['SWITCHYARD_DEBUG'] === '1' || io.env['SWITCHYARD_DEBUG'] === 'true';
  const message = e instanceof Error ? e.message : String(e);
  io.stderr(`error: ${message.replace(/\n/g, '\n       ')}\n`);
  if (debug) {
    if (e instanceof Error && e.stack) io.stderr(`${e.stack}\n`);
    if (e instanceof Error && e.cause !== undefined) io.stderr(`caused by: ${e.cause instanceof Error ? (e.cause.stack ?? e.cause.message) : inspect(e.cause)}\n`);
  } else if (!isSwitchyardError(e)) {
    io.stderr('(an unexpected error; run with SWITCHYARD_DEBUG=1 for the stack trace)\n');
  }
}
