/** `switchyard apply -f FILE|DIR|-`: create or update resources from manifests, all-or-nothing. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseManifests, type ApplyResult } from '../../api/index.js';
import { SwitchyardError } from '../../core/index.js';
import { clientFlags, printError, ref, withClient } from '../client-flags.js';
import { defineCommand, ExitCode, UsageError } from '../framework.js';

const MANIFEST_EXT = /\.(ya?ml|json)$/i;

export interface ManifestSource {
  /** File path, or 'stdin'. */
  label: string;
  text: string;
}

export const applyCommand = defineCommand({
  name: 'apply',
  summary: 'Create or update resources from YAML/JSON manifests (all-or-nothing)',
  description: [
    'Reads every file given with -f (a directory means each *.yaml, *.yml and *.json file in it, sorted',
    "by name; '-' reads standard input), checks each manifest locally (errors name the file, document,",
    'field and line), then sends them all in one request: the server applies every resource or none.',
    '',
    'Prints one line per resource: created, configured or unchanged. With --dry-run nothing is',
    'written and the diff of each resource\'s manifest is printed.',
  ].join('\n'),
  flags: {
    ...clientFlags,
    filename: { type: 'list', short: 'f', description: "Manifest file, directory, or '-' for stdin (repeatable)", placeholder: 'file' },
    'dry-run': { type: 'bool', description: 'Show what would change (with diffs) without writing anything' },
  },
  examples: [
    'switchyard apply -f llama-8b.yaml',
    'switchyard apply -f clusters/ -f functions/',
    'switchyard apply -f llama-8b.yaml --dry-run',
    'switchyard get function llama-8b -o yaml | switchyard apply -f -',
  ],
  async run({ flags, io }) {
    if (flags.filename.length === 0) throw new UsageError("give at least one manifest with -f FILE (a directory, or '-' for stdin)", '--filename');
    const sources = await readSources(flags.filename, readStdin);
    const problems = checkManifests(sources);
    if (problems.length > 0) {
      for (const p of problems) printError(io, p);
      return ExitCode.error;
    }
    const text = joinManifests(sources);
    const source = sources.map((s) => s.label).join(', ');
    return withClient(flags, io, async (client) => {
      const result = await client.apply(text, { dryRun: flags.dryRun, source: source.length > 200 ? `${sources.length} files` : source });
      io.stdout(formatApplyResult(result, { color: io.isTTY && io.env['NO_COLOR'] === undefined }));
      return 0;
    });
  },
});

/** Expand -f values into texts: files, directories (sorted manifest files), '-' (stdin, once). */
export async function readSources(specs: readonly string[], stdin: () => Promise<string>): Promise<ManifestSource[]> {
  const out: ManifestSource[] = [];
  let stdinUsed = false;
  for (const spec of specs) {
    if (spec === '-') {
      if (stdinUsed) throw new UsageError("'-f -' (stdin) can be given only once", '--filename');
      stdinUsed = true;
      out.push({ label: 'stdin', text: await stdin() });
      continue;
    }
    let isDir: boolean;
    try {
      isDir = statSync(spec).isDirectory();
    } catch (e) {
      throw fileError(spec, e);
    }
    const files = isDir
      ? readdirSync(spec, { withFileTypes: true })
          .filter((d) => d.isFile() && MANIFEST_EXT.test(d.name))
          .map((d) => path.join(spec, d.name))
          .sort()
      : [spec];
    if (isDir && files.length === 0) throw new SwitchyardError('invalid_argument', `${spec}: no *.yaml, *.yml or *.json files in this directory`, { param: '--filename' });
    for (const file of files) {
      try {
        out.push({ label: file, text: readFileSync(file, 'utf8') });
      } catch (e) {
        throw fileError(file, e);
      }
    }
  }
  return out;
}

/** Validate each source on its own so errors name the file; returns the error messages (empty when all are valid). */
export function checkManifests(sources: readonly ManifestSource[]): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const s of sources) {
    try {
      for (const m of parseManifests(s.text, s.label)) {
        const key = `${m.kind}/${m.metadata.name}`;
        const other = seen.get(key);
        if (other !== undefined) problems.push(`${s.label}: ${key} is also defined in ${other}; each resource may appear once per apply`);
        else seen.set(key, s.label);
      }
    } catch (e) {
      if (e instanceof SwitchyardError) problems.push(e.message);
      else throw e;
    }
  }
  return problems;
}

/** One multi-document YAML text. */
export function joinManifests(sources: readonly ManifestSource[]): string {
  return sources.map((s) => (s.text.endsWith('\n') ? s.text : `${s.text}\n`)).join('---\n');
}

/** `function/llama-8b created` per resource; with dry run, ` (dry run)` and the diff. */
export function formatApplyResult(result: ApplyResult, opts: { color?: boolean } = {}): string {
  let out = '';
  for (const r of result.results) {
    out += `${ref(r.kind, r.name)} ${r.action}${result.dryRun ? ' (dry run)' : ''}\n`;
    if (result.dryRun && r.action !== 'unchanged' && r.diff) out += colorDiff(r.diff.endsWith('\n') ? r.diff : `${r.diff}\n`, opts.color === true);
  }
  return out;
}

function colorDiff(diff: string, color: boolean): string {
  if (!color) return diff;
  return diff
    .split('\n')
    .map((l) => (l.startsWith('+++') || l.startsWith('---') ? `\x1b[1m${l}\x1b[0m` : l.startsWith('+') ? `\x1b[32m${l}\x1b[0m` : l.startsWith('-') ? `\x1b[31m${l}\x1b[0m` : l))
    .join('\n');
}

function fileError(file: string, e: unknown): SwitchyardError {
  const code = (e as { code?: unknown }).code;
  const why = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : e instanceof Error ? e.message : String(e);
  return new SwitchyardError('invalid_argument', `cannot read ${file}: ${why}`, { param: '--filename' });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
