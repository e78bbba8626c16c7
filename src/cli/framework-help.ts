/** Help screens: the command list, a group's subcommands, and one command's usage. */
import type { AnyCommand, FlagSpec } from './framework-types.js';
import { showDefault } from './framework-values.js';

const WIDTH = 100;

export interface ProgramInfo {
  name: string;
  version: string;
  description?: string;
}

/** `switchyard --help`: top-level commands, then one section per group. */
export function renderGlobalHelp(program: ProgramInfo, commands: readonly AnyCommand[]): string {
  const out = [
    `${program.name} ${program.version}`,
    ...(program.description ? [wrap(program.description, 0)] : []),
    '',
    'Usage:',
    ...table([
      [`${program.name} <command> [flags] [arguments]`, ''],
      [`${program.name} <command> --help`, "Show a command's flags and examples"],
      [`${program.name} --help`, 'Show this list'],
      [`${program.name} --version`, 'Print the version'],
    ]),
  ];
  const groups = new Map<string, AnyCommand[]>();
  for (const cmd of commands) {
    const space = cmd.name.indexOf(' ');
    const group = space < 0 ? '' : cmd.name.slice(0, space);
    groups.set(group, [...(groups.get(group) ?? []), cmd]);
  }
  const top = groups.get('') ?? [];
  if (top.length > 0) out.push('', 'Commands:', ...commandRows(top));
  for (const [group, cmds] of groups) {
    if (group !== '') out.push('', `${group[0]!.toUpperCase()}${group.slice(1)} commands:`, ...commandRows(cmds));
  }
  out.push('', `Run '${program.name} <command> --help' for details on a command.`);
  return `${out.join('\n')}\n`;
}

/** `switchyard worker --help`: the subcommands of one group. */
export function renderGroupHelp(program: ProgramInfo, group: string, commands: readonly AnyCommand[]): string {
  const out = [
    `Usage: ${program.name} ${group} <command> [flags] [arguments]`,
    '',
    'Commands:',
    ...commandRows(commands),
    '',
    `Run '${program.name} ${group} <command> --help' for details on a command.`,
  ];
  return `${out.join('\n')}\n`;
}

/** `switchyard <cmd> --help`: usage line, description, arguments, flags table, examples. */
export function renderCommandHelp(program: ProgramInfo, cmd: AnyCommand): string {
  const flags = Object.entries(cmd.flags).filter(([, spec]) => !spec.hidden);
  const positionals = cmd.positionals ?? [];
  const args = positionals.map((p) => {
    const inner = `<${p.name}>${p.variadic ? '...' : ''}`;
    return p.required ? inner : `[${inner}]`;
  });
  const required = flags.filter(([, s]) => s.required).map(([n, s]) => `--${n} ${placeholder(s)}`);
  const usage = [program.name, cmd.name, ...required, flags.length > required.length ? '[flags]' : '', ...args].filter(Boolean).join(' ');

  const out = [wrap(`Usage: ${usage}`, 7), '', wrap(cmd.summary, 0)];
  if (cmd.description) for (const para of cmd.description.trim().split(/\n\s*\n/)) out.push('', wrap(para.replace(/\s*\n\s*/g, ' '), 0));
  if (positionals.length > 0) {
    out.push('', 'Arguments:', ...table(positionals.map((p) => [`<${p.name}>${p.variadic ? '...' : ''}`, `${p.description}${p.required ? ' (required)' : ''}`])));
  }
  const rows = flags.map(([name, spec]) => [flagLabel(name, spec), flagDescription(spec)] as [string, string]);
  rows.push(['-h, --help', 'Show this help']);
  out.push('', 'Flags:', ...table(rows));
  out.push('', 'Examples:', ...cmd.examples.map((e) => `  ${e}`));
  return `${out.join('\n')}\n`;
}

function commandRows(commands: readonly AnyCommand[]): string[] {
  return table(commands.map((c) => [c.name, c.summary]));
}

function placeholder(spec: FlagSpec): string {
  if (spec.placeholder) return `<${spec.placeholder.replace(/^<|>$/g, '')}>`;
  if (spec.type === 'enum') {
    const joined = (spec.values ?? []).join('|');
    return joined.length <= 24 ? `<${joined}>` : '<value>';
  }
  if (spec.type === 'list') return '<a,b,...>';
  return `<${spec.type}>`;
}

function flagLabel(name: string, spec: FlagSpec): string {
  const short = spec.short ? `-${spec.short}, ` : '    ';
  if (spec.type === 'bool') return `${short}--${spec.default === true ? `[no-]${name}` : name}`;
  return `${short}--${name} ${placeholder(spec)}`;
}

function flagDescription(spec: FlagSpec): string {
  const notes: string[] = [];
  if (spec.required) notes.push('required');
  if (spec.type === 'enum' && placeholder(spec) === '<value>') notes.push(`one of: ${(spec.values ?? []).join(', ')}`);
  if (spec.type === 'list') notes.push('repeatable');
  const def = showDefault(spec);
  if (def !== undefined) notes.push(`default: ${def}`);
  if (spec.env) notes.push(`env: ${spec.env}`);
  return notes.length === 0 ? spec.description : `${spec.description} (${notes.join('; ')})`;
}

/** Two aligned columns; a long first column puts the second on the next line. */
function table(rows: readonly (readonly [string, string])[]): string[] {
  const widest = Math.max(0, ...rows.map(([a]) => a.length));
  const col = Math.min(widest, 34) + 4;
  const out: string[] = [];
  for (const [a, b] of rows) {
    if (b === '') out.push(`  ${a}`);
    else if (a.length + 4 > col) out.push(`  ${a}`, wrap(`${' '.repeat(col)}${b}`, col));
    else out.push(wrap(`  ${a.padEnd(col - 2)}${b}`, col));
  }
  return out;
}

/** Word-wrap to WIDTH with a hanging indent for continuation lines. */
function wrap(text: string, indent: number): string {
  if (text.length <= WIDTH) return text;
  const lead = /^\s*/.exec(text)![0];
  const words = text.slice(lead.length).split(' ');
  const lines: string[] = [];
  let line = lead;
  for (const word of words) {
    if (line.trim().length > 0 && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = `${' '.repeat(indent)}${word}`;
    } else {
      line = line.trim().length === 0 ? `${line}${word}` : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines.join('\n');
}
