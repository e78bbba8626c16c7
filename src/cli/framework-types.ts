/**
 * Types of the command framework (see framework.ts for the overview).
 *
 * Flags are keyed by their kebab-case command-line name (`'kv-events-endpoint'`) in the spec and
 * appear camelCased in `ctx.flags` (`kvEventsEndpoint`); the mapping is done at the type level
 * by CamelCase<K> and at run time by toCamelCase().
 */
import { SwitchyardError } from '../core/index.js';

export type FlagType = 'string' | 'int' | 'number' | 'bool' | 'duration' | 'enum' | 'list';

export interface FlagSpec {
  type: FlagType;
  description: string;
  /**
   * Used when the flag is absent (and its env var unset). Strings are parsed like command-line
   * values (`'30s'` for a duration, `'a,b'` for a list); a number for a duration is ms.
   * Bool flags default to false and list flags to [] unless given.
   */
  default?: string | number | boolean | readonly string[];
  required?: boolean;
  /** The allowed values of an enum flag. */
  values?: readonly string[];
  /** Inclusive bounds for int/number (and duration, in ms). */
  min?: number;
  max?: number;
  /** Environment variable read when the flag is absent, e.g. `SWITCHYARD_PORT`. */
  env?: string;
  /** One-letter alias: `short: 'p'` allows `-p 8000`. */
  short?: string;
  /** Value name in help: `--port <port>`; defaults to the type (`<int>`, `<duration>`, …). */
  placeholder?: string;
  /** Accepted but not listed in help. */
  hidden?: boolean;
}

export interface PositionalSpec {
  name: string;
  description: string;
  required?: boolean;
  /** Collects all remaining arguments; only the last positional may be variadic. */
  variadic?: boolean;
}

/** `'kv-events-endpoint'` → `'kvEventsEndpoint'`. */
export type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;

/** The parsed type of one flag type (distributes over a union of types). */
type TypeValue<T extends FlagType, S> = T extends 'int' | 'number' | 'duration'
  ? number
  : T extends 'bool'
    ? boolean
    : T extends 'list'
      ? string[]
      : T extends 'enum'
        ? S extends { values: readonly (infer V extends string)[] }
          ? V
          : string
        : string;

/** The parsed type of one flag: number, boolean, string[], an enum's values, or string. */
export type FlagValue<S extends FlagSpec> = TypeValue<S['type'], S>;

/** Flags that always have a value: with a default, required, bool, or list. */
type AlwaysSet<S extends FlagSpec> = S extends { default: unknown }
  ? true
  : S extends { required: true }
    ? true
    : S['type'] extends 'bool' | 'list'
      ? true
      : false;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** Parsed flags, keyed by camelCase name. Flags that may be absent are `| undefined`. */
export type FlagValues<F extends Record<string, FlagSpec>> = Simplify<
  {
    -readonly [K in keyof F as K extends string ? (AlwaysSet<F[K]> extends true ? CamelCase<K> : never) : never]: FlagValue<F[K]>;
  } & {
    -readonly [K in keyof F as K extends string ? (AlwaysSet<F[K]> extends true ? never : CamelCase<K>) : never]?: FlagValue<F[K]> | undefined;
  }
>;

/** Where a command writes, and what it reads from its environment. Injected in tests. */
export interface CliIO {
  /** Write raw text (include your own '\n'). */
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: Record<string, string | undefined>;
  isTTY: boolean;
}

export interface CommandContext<F extends Record<string, FlagSpec>> {
  flags: FlagValues<F>;
  positionals: string[];
  io: CliIO;
  /** Aborted on the first SIGINT/SIGTERM; long-running commands shut down when it fires. */
  signal: AbortSignal;
}

export interface CommandSpec<F extends Record<string, FlagSpec>> {
  /** Words separated by single spaces; all but the last form its group: `'worker sim'`. */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Paragraphs (separated by blank lines) for `--help`. */
  description?: string;
  /** Keyed by kebab-case flag name. `help` and `-h` are reserved. */
  flags: F;
  positionals?: PositionalSpec[];
  /** Full command lines (`switchyard worker sim --port 8000`); at least one. */
  examples: string[];
  /** Returns the exit code (void = 0). Throw SwitchyardError for failures, UsageError for misuse. */
  run(ctx: CommandContext<F>): Promise<number | void>;
}

/** A command of any flag shape, for command lists. */
export type AnyCommand = CommandSpec<Record<string, FlagSpec>>;

/**
 * Misuse of the command line: bad flag, missing argument, unknown command. runCli prints it
 * prefixed with the command name plus a pointer to `--help`, and exits with code 2. Commands
 * may throw it too, e.g. for mutually exclusive flags.
 */
export class UsageError extends SwitchyardError {
  constructor(message: string, param?: string) {
    super('invalid_argument', message, { param: param ?? null });
    this.name = 'UsageError';
  }
}

/** Exit codes used by runCli. */
export const ExitCode = { ok: 0, error: 1, usage: 2, interrupted: 130 } as const;

/** Runtime twin of CamelCase<S>. */
export function toCamelCase(kebab: string): string {
  return kebab.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
