/** ConfigError: every problem found in one config source, each with a path and a fix-it message. */
import { SwitchyardError } from '../core/index.js';

/** One problem in a config source. */
export interface ConfigIssue {
  /** Where, as users write it: `backends[2].endpoints[0].url`; '' for the whole document. */
  path: string;
  /** What is wrong, phrased as "expected X, got Y" where possible. */
  message: string;
  /** How to fix it, e.g. `did you mean 'timeout'?`. */
  hint?: string;
  /** 1-based line in the source text, when known. */
  line?: number;
  /** 1-based column in the source text, when known. */
  column?: number;
}

/**
 * Thrown by loadConfig (code `invalid_config`). `message` lists every issue, one per line:
 * `config.yaml: gateway.port: expected an integer <= 65535, got 70000 (line 3)`.
 */
export class ConfigError extends SwitchyardError {
  /** Label of the source: the file path as given, or the `name` passed to loadConfig. */
  readonly source: string;
  readonly issues: readonly ConfigIssue[];

  constructor(source: string, issues: readonly ConfigIssue[]) {
    super('invalid_config', issues.map((issue) => formatConfigIssue(source, issue)).join('\n'), {
      param: issues[0]?.path ? issues[0].path : null,
      detail: { source, issues },
    });
    this.name = 'ConfigError';
    this.source = source;
    this.issues = issues;
  }
}

/** Render one issue as a line of ConfigError's message. */
export function formatConfigIssue(source: string, issue: ConfigIssue): string {
  let where = '';
  if (issue.path) where = `${issue.path}: `;
  else if (issue.line !== undefined) where = `line ${issue.line}${issue.column !== undefined ? `, column ${issue.column}` : ''}: `;
  const hint = issue.hint ? ` — ${issue.hint}` : '';
  const line = issue.path && issue.line !== undefined ? ` (line ${issue.line})` : '';
  return `${source}: ${where}${issue.message}${hint}${line}`;
}
