/**
 * Manifests: parse multi-document YAML (or JSON objects) and validate every document against
 * its kind's schema. Errors name the document, the path and the line; nothing is returned
 * unless every document is valid, so callers can apply all-or-nothing.
 */
import { SwitchyardError } from '../core/index.js';
import { boundIssues, clip, closestMatch, ConfigError, MAX_LISTED_ISSUES, describeValue, parsePath, parseYamlDocuments, validateConfig, type ConfigIssue, type Locator } from '../config/index.js';
import { KIND_NAMES, manifestSchema, type Kind } from './kinds.js';
import { API_VERSION, type ManifestMeta } from './meta.js';

/** A validated manifest, defaults applied. */
export interface Manifest<K extends Kind = Kind> {
  readonly kind: K;
  readonly metadata: ManifestMeta;
  readonly spec: unknown;
}

export interface ManifestDocumentError {
  readonly index: number;
  readonly label: string;
  readonly issues: readonly ConfigIssue[];
}

/** Every problem in a set of manifests (code `invalid_config`, HTTP 400). */
export class ManifestError extends SwitchyardError {
  readonly documents: readonly ManifestDocumentError[];
  constructor(documents: readonly ManifestDocumentError[]) {
    // Bounded like ConfigError: the first documents' issues, the rest counted.
    const listed = documents.slice(0, MAX_LISTED_ISSUES).map((d) => ({ ...d, label: clip(d.label, 200), issues: boundIssues(d.issues) }));
    const lines = listed.flatMap((d) => new ConfigError(d.label, d.issues).message.split('\n'));
    if (documents.length > listed.length) lines.push(`… and ${documents.length - listed.length} more invalid documents`);
    const first = documents[0]?.issues[0];
    super('invalid_config', `${documents.length === 1 ? '1 invalid manifest' : `${documents.length} invalid manifests`}; nothing was applied:\n${lines.join('\n')}`, {
      param: first?.path ? clip(first.path, 300) : null,
      detail: { documents: listed },
    });
    this.name = 'ManifestError';
    this.documents = documents;
  }
}

/** Parse YAML text (one or more `---` separated documents) into validated manifests. @throws ManifestError or ConfigError (YAML syntax). */
export function parseManifests(text: string, source = 'manifest'): Manifest[] {
  const docs = parseYamlDocuments(text, source);
  if (docs.length === 0) throw new ManifestError([{ index: 0, label: source, issues: [{ path: '', message: 'no documents found' }] }]);
  return validateDocuments(docs, source);
}

/** Validate already-parsed manifest objects (e.g. a JSON request body). @throws ManifestError. */
export function validateManifests(values: readonly unknown[], source = 'request'): Manifest[] {
  return validateDocuments(values.map((value) => ({ value, locate: () => undefined })), source);
}

function validateDocuments(docs: readonly { value: unknown; locate: Locator }[], source: string): Manifest[] {
  const out: Manifest[] = [];
  const errors: ManifestDocumentError[] = [];
  const seen = new Map<string, number>();
  docs.forEach((doc, index) => {
    const label = docLabel(source, index, docs.length, doc.value);
    const fail = (issues: ConfigIssue[]) => errors.push({ index, label, issues: issues.map((i) => locateIssue(i, doc.locate)) });
    const v = doc.value;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return fail([{ path: '', message: 'expected a mapping with apiVersion, kind, metadata and spec' }]);
    const rec = v as Record<string, unknown>;
    if (rec.apiVersion !== API_VERSION) {
      return fail([{ path: 'apiVersion', message: rec.apiVersion === undefined ? `missing required field; expected '${API_VERSION}'` : `expected '${API_VERSION}', got ${describeValue(rec.apiVersion)}` }]);
    }
    const kind = KIND_NAMES.find((k) => k === rec.kind);
    if (!kind) {
      const hint = typeof rec.kind === 'string' ? closestMatch(rec.kind, KIND_NAMES) : undefined;
      return fail([{ path: 'kind', message: `expected one of ${KIND_NAMES.map((k) => `'${k}'`).join(', ')}, got ${describeValue(rec.kind)}`, ...(hint ? { hint: `did you mean '${hint}'?` } : {}) }]);
    }
    try {
      const m = validateConfig(manifestSchema(kind), v, { label, locate: doc.locate });
      const key = `${kind}/${m.metadata.name}`;
      const dup = seen.get(key);
      if (dup !== undefined) return fail([{ path: 'metadata.name', message: `${key} is also defined in document ${dup + 1}` }]);
      seen.set(key, index);
      out.push({ kind, metadata: m.metadata, spec: m.spec });
    } catch (e) {
      if (e instanceof ConfigError) return fail([...e.issues]);
      throw e;
    }
  });
  if (errors.length > 0) throw new ManifestError(errors);
  return out;
}

function docLabel(source: string, index: number, count: number, value: unknown): string {
  const rec = value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  const meta = rec.metadata !== null && typeof rec.metadata === 'object' ? (rec.metadata as Record<string, unknown>) : {};
  const what = typeof rec.kind === 'string' && typeof meta.name === 'string' ? ` ${clip(rec.kind)}/${clip(meta.name)}` : '';
  return count > 1 ? `${source} (document ${index + 1}${what})` : `${source}${what ? ` (${what.trim()})` : ''}`;
}

function locateIssue(issue: ConfigIssue, locate: Locator): ConfigIssue {
  if (issue.line !== undefined || !issue.path) return issue;
  const pos = locate(parsePath(issue.path));
  return pos ? { ...issue, line: pos.line, column: pos.column } : issue;
}
