/**
 * argv → typed flags and positionals for one command.
 *
 * `--name value`, `--name=value`, `-x value`, `-xvalue`, `-abc` (bool shorts), bool
 * `--flag` / `--no-flag` / `--flag=false`, `--` ends flags. A repeated scalar flag keeps the
 * last value; list flags accumulate and split on commas. Absent flags fall back to their env
 * var, then their default. `--help`/`-h` anywhere before `--` asks for help.
 */
import { closestMatch } from '../config/index.js';
import type { AnyCommand, FlagSpec } from './framework-types.js';
import { toCamelCase, UsageError } from './framework-types.js';
import type { FlagRuntimeValue } from './framework-values.js';
import { convertFlagValue, defaultValue, expectation } from './framework-values.js';

export interface ParsedArgs {
  /** Keyed by camelCase flag name. */
  flags: Record<string, FlagRuntimeValue | undefined>;
  positionals: string[];
  help: boolean;
}

const NUMBER_LIKE = /^-(\d|\.\d)/;

/** True for tokens that are flags rather than values (`-5` and `-` are values). */
export function isFlagToken(token: string): boolean {
  return token.startsWith('-') && token.length > 1 && !NUMBER_LIKE.test(token);
}

/** Parse the arguments after the command name. @throws UsageError */
export function parseArgs(cmd: AnyCommand, argv: readonly string[], env: Record<string, string | undefined>): ParsedArgs {
  const dashDash = argv.indexOf('--');
  const flagPart = dashDash < 0 ? argv : argv.slice(0, dashDash);
  if (flagPart.includes('--help') || flagPart.includes('-h')) return { flags: {}, positionals: [], help: true };

  const longs = new Map<string, FlagSpec>(Object.entries(cmd.flags));
  const shorts = new Map<string, string>();
  for (const [name, spec] of longs) if (spec.short) shorts.set(spec.short, name);

  const values = new Map<string, FlagRuntimeValue>();
  const positionals: string[] = [];
  const set = (name: string, spec: FlagSpec, raw: string, origin: string): void => {
    const v = convertFlagValue(spec, raw, origin);
    const prev = values.get(name);
    values.set(name, spec.type === 'list' && Array.isArray(prev) && Array.isArray(v) ? [...prev, ...v] : v);
  };

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (i === dashDash) {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!isFlagToken(token)) {
      positionals.push(token);
      continue;
    }
    // Returns the value for a non-bool flag: inline, or the next token.
    const takeValue = (inline: string | undefined, origin: string, spec: FlagSpec): string => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || i + 1 === dashDash || isFlagToken(next)) {
        throw new UsageError(`flag ${origin} needs a value: ${expectation(spec)}`, origin);
      }
      i++;
      return next;
    };

    if (token.startsWith('--')) {
      const eq = token.indexOf('=');
      const name = eq < 0 ? token.slice(2) : token.slice(2, eq);
      const inline = eq < 0 ? undefined : token.slice(eq + 1);
      const spec = longs.get(name);
      if (spec) {
        const origin = `--${name}`;
        if (spec.type === 'bool') set(name, spec, inline ?? 'true', origin);
        else set(name, spec, takeValue(inline, origin, spec), origin);
        continue;
      }
      const negated = name.startsWith('no-') ? longs.get(name.slice(3)) : undefined;
      if (negated?.type === 'bool') {
        if (inline !== undefined) throw new UsageError(`flag --${name} takes no value`, `--${name}`);
        values.set(name.slice(3), false);
        continue;
      }
      throw unknownFlag(`--${name}`, cmd);
    }

    // Short flags: -p 8000, -p8000, -p=8000, -abc (all bool).
    const letter = token[1]!;
    const name = shorts.get(letter);
    const spec = name === undefined ? undefined : longs.get(name);
    if (name === undefined || spec === undefined) throw unknownFlag(`-${letter}`, cmd);
    const origin = `-${letter}`;
    const rest = token.slice(2);
    if (spec.type !== 'bool') {
      set(name, spec, takeValue(rest === '' ? undefined : rest.replace(/^=/, ''), origin, spec), origin);
      continue;
    }
    if (rest.startsWith('=')) {
      set(name, spec, rest.slice(1), origin);
      continue;
    }
    values.set(name, true);
    for (const other of rest) {
      const otherName = shorts.get(other);
      if (otherName === undefined || longs.get(otherName)?.type !== 'bool') {
        throw new UsageError(`cannot combine -${other} in '${token}': only boolean short flags can be grouped`, token);
      }
      values.set(otherName, true);
    }
  }

  return { flags: finishFlags(cmd, values, env), positionals: checkPositionals(cmd, positionals), help: false };
}

/** Apply env vars and defaults, check required flags, and camelCase the keys. */
function finishFlags(cmd: AnyCommand, values: Map<string, FlagRuntimeValue>, env: Record<string, string | undefined>): ParsedArgs['flags'] {
  const out: ParsedArgs['flags'] = {};
  for (const [name, spec] of Object.entries(cmd.flags)) {
    let value = values.get(name);
    if (value === undefined && spec.env !== undefined) {
      const fromEnv = env[spec.env];
      if (fromEnv !== undefined && fromEnv !== '') value = convertFlagValue(spec, fromEnv, `--${name} (from $${spec.env})`);
    }
    value ??= defaultValue(spec, `--${name}`);
    if (value === undefined && spec.required) {
      const alt = spec.env === undefined ? '' : ` (or set $${spec.env})`;
      throw new UsageError(`missing required flag --${name}${alt}: ${spec.description}`, `--${name}`);
    }
    out[toCamelCase(name)] = value;
  }
  return out;
}

function checkPositionals(cmd: AnyCommand, given: string[]): string[] {
  const specs = cmd.positionals ?? [];
  specs.forEach((p, i) => {
    if (p.required && given.length <= i) throw new UsageError(`missing required argument <${p.name}>: ${p.description}`, p.name);
  });
  const variadic = specs[specs.length - 1]?.variadic === true;
  if (!variadic && given.length > specs.length) {
    const extra = given[specs.length]!;
    throw new UsageError(`unexpected argument '${extra}'${specs.length === 0 ? ' (this command takes no arguments)' : ''}`, extra);
  }
  return given;
}

function unknownFlag(flag: string, cmd: AnyCommand): UsageError {
  const names = Object.entries(cmd.flags).flatMap(([n, s]) => (s.hidden ? [] : [n]));
  const match = flag.startsWith('--') ? closestMatch(flag.slice(2), names) : undefined;
  return new UsageError(`unknown flag ${flag}${match === undefined ? '' : ` — did you mean --${match}?`}`, flag);
}
