/** defineCommand and the checks that catch malformed command specs at startup. */
import type { AnyCommand, CommandSpec, FlagSpec } from './framework-types.js';
import { defaultValue } from './framework-values.js';

const COMMAND_NAME = /^[a-z][a-z0-9-]*( [a-z][a-z0-9-]*)*$/;
const FLAG_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/**
 * Declare a command. The `const` type parameter keeps literal flag types so `ctx.flags` is
 * precisely typed (enum flags become the union of their values).
 * @throws Error when the spec is malformed (a programming error, caught by any test that loads it).
 */
export function defineCommand<const F extends Record<string, FlagSpec>>(spec: CommandSpec<F>): CommandSpec<F> {
  validateCommand(spec as unknown as AnyCommand);
  return spec;
}

/** Throw on a malformed spec. */
export function validateCommand(cmd: AnyCommand): void {
  const fail = (what: string): never => {
    throw new Error(`defineCommand('${cmd.name}'): ${what}`);
  };
  if (!COMMAND_NAME.test(cmd.name)) fail('name must be lowercase words separated by single spaces');
  if (cmd.name.split(' ').includes('help')) fail("'help' is reserved");
  if (cmd.examples.length === 0) fail('give at least one example');
  const shorts = new Set<string>();
  for (const [name, spec] of Object.entries(cmd.flags)) {
    if (!FLAG_NAME.test(name)) fail(`flag '${name}' must be kebab-case, e.g. 'kv-events-endpoint'`);
    if (name === 'help') fail("flag 'help' is reserved");
    if (name.startsWith('no-') && cmd.flags[name.slice(3)]?.type === 'bool') fail(`flag '${name}' clashes with --no- form of '${name.slice(3)}'`);
    if (spec.short !== undefined) {
      if (!/^[a-zA-Z]$/.test(spec.short)) fail(`short alias of '${name}' must be one letter`);
      if (spec.short === 'h') fail("short alias 'h' is reserved for --help");
      if (shorts.has(spec.short)) fail(`short alias '${spec.short}' is used twice`);
      shorts.add(spec.short);
    }
    if (spec.type === 'enum' && (spec.values ?? []).length === 0) fail(`enum flag '${name}' needs values`);
    if (spec.min !== undefined && spec.max !== undefined && spec.min > spec.max) fail(`flag '${name}' has min > max`);
    if (spec.required && spec.default !== undefined) fail(`flag '${name}' is required and has a default`);
    try {
      defaultValue(spec, `--${name}`);
    } catch (e) {
      fail(`bad default for '${name}': ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const positionals = cmd.positionals ?? [];
  positionals.forEach((p, i) => {
    if (p.variadic && i !== positionals.length - 1) fail(`only the last positional may be variadic ('${p.name}')`);
    if (p.required && i > 0 && !positionals[i - 1]!.required) fail(`required positional '${p.name}' follows an optional one`);
  });
}

/** Throw when two commands share a name. (A command may share its name with a group: longest match wins.) */
export function validateCommandList(commands: readonly AnyCommand[]): void {
  const names = new Set<string>();
  for (const cmd of commands) {
    if (names.has(cmd.name)) throw new Error(`command '${cmd.name}' is defined twice`);
    names.add(cmd.name);
  }
}
