/** ConfigError: every problem found in one config source, each with a path and a fix-it message. */
import { SwitchyardError } from '../core/index.js';
import { clip } from './path.js';

/** Issues listed in a ConfigError (the rest are counted): a hostile input cannot make an error response huge. */
export const MAX_LISTED_ISSUES = 20;
/** Characters kept of an issue's path and message. */
const MAX_ISSUE_TEXT = 300;

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
    const label = clip(source, MAX_ISSUE_TEXT);
    const listed = boundIssues(issues);
    const more = issues.length - listed.length;
    const lines = listed.map((issue) => formatConfigIssue(label, issue));
    if (more > 0) lines.push(`${label}: … and ${more} more ${more === 1 ? 'problem' : 'problems'}`);
    super('invalid_config', lines.join('\n'), {
      param: listed[0]?.path ? listed[0].path : null,
      detail: { source: label, issues: listed, ...(more > 0 ? { unlisted: more } : {}) },
    });
    this.name = 'ConfigError';
    this.source = source;
    this.issues = issues;
  }
}

/** The first MAX_LISTED_ISSUES issues, their texts clipped. */
export function boundIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  return issues.slice(0, MAX_LISTED_ISSUES).map((i) => {
    const out: ConfigIssue = { ...i, path: clip(i.path, MAX_ISSUE_TEXT), message: clip(i.message, MAX_ISSUE_TEXT) };
    if (i.hint !== undefined) out.hint = clip(i.hint, MAX_ISSUE_TEXT);
    return out;
  });
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
