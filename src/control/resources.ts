/**
 * ResourceService: every resource kind on top of the store. It owns everything the store does
 * not: validation results → stored documents, generations, uids, timestamps, optimistic
 * concurrency, admission checks (e.g. GPU quotas), all-or-nothing apply with diffs, cascading
 * deletes and status-only updates. Spec changes are reported to `onSpecChange` (git history).
 */
import { stringify } from 'yaml';
import { API_VERSION, KINDS, type AnyResource, type Kind, type Manifest, type Resource } from '../api/index.js';
import { randomId, SwitchyardError, type Clock } from '../core/index.js';
import type { JsonObject, ResourceStore, StoredObject, WriteOp } from '../store/index.js';
import { unifiedDiff } from './diff.js';

/** Who made a change (recorded as the git author). */
export interface Actor {
  readonly name: string;
}

export interface SpecChange {
  readonly kind: Kind;
  readonly name: string;
  readonly action: 'created' | 'configured' | 'deleted';
  readonly actor: Actor;
  /** The manifest as it now stands (apiVersion, kind, metadata name/labels/annotations, spec); null when deleted. */
  readonly manifest: JsonObject | null;
  readonly generation: number;
  /** Free text for the commit message, e.g. 'rollback to 1a2b3c4'. */
  readonly note?: string;
}

export interface ApplyOutcome {
  readonly kind: Kind;
  readonly name: string;
  readonly action: 'created' | 'configured' | 'unchanged';
  readonly diff?: string;
  readonly resourceVersion?: string;
}

/** One write of an apply, as admission checks see it (defaults applied). */
export interface PendingWrite {
  readonly kind: Kind;
  readonly name: string;
  readonly spec: unknown;
}

/**
 * A check run before an apply commits, with the store still as it was: throw a
 * SwitchyardError to refuse the whole apply (dry runs are checked too). Applies are
 * serialised in this process, so a check and the commit it guards do not interleave with
 * another apply's.
 */
export type AdmissionCheck = (writes: readonly PendingWrite[], service: ResourceService) => Promise<void>;

/** What refers to a resource and goes with it on a cascading delete: kind → the spec field naming it. */
const DEPENDENTS: Partial<Record<Kind, readonly { kind: Kind; field: string }[]>> = {
  Function: [{ kind: 'Deployment', field: 'function' }],
  Cluster: [{ kind: 'Deployment', field: 'cluster' }],
  Tenant: [{ kind: 'ApiKey', field: 'tenant' }],
};

export interface ApplyOptions {
  readonly actor: Actor;
  readonly dryRun?: boolean;
  /** 'apply' creates or updates; 'create' fails if it exists; 'replace' fails if it does not. */
  readonly mode?: 'apply' | 'create' | 'replace';
  readonly note?: string;
}

const canonical = (v: unknown): string => JSON.stringify(sortKeys(v));
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}

/** The part of a resource users own: what apply compares, history records and rollback restores. */
export function manifestOf(r: Pick<AnyResource, 'kind' | 'metadata' | 'spec'>): JsonObject {
  const metadata: JsonObject = { name: r.metadata.name };
  if (Object.keys(r.metadata.labels).length) metadata.labels = r.metadata.labels;
  if (Object.keys(r.metadata.annotations).length) metadata.annotations = r.metadata.annotations;
  return { apiVersion: API_VERSION, kind: r.kind, metadata, spec: r.spec };
}

export class ResourceService {
  private readonly listeners = new Set<(changes: readonly SpecChange[]) => void>();
  private readonly checks = new Set<AdmissionCheck>();
  private applying: Promise<unknown> = Promise.resolve();

  constructor(
    readonly store: ResourceStore,
    private readonly clock: Clock,
  ) {}

  /** Subscribe to committed spec changes (not status). */
  onSpecChange(cb: (changes: readonly SpecChange[]) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** Add a check run before every apply commits. Returns a function that removes it. */
  addAdmissionCheck(check: AdmissionCheck): () => void {
    this.checks.add(check);
    return () => this.checks.delete(check);
  }

  async find<K extends Kind>(kind: K, name: string): Promise<Resource<K> | undefined> {
    const o = await this.store.get(kind, name);
    return o ? toResource<K>(o) : undefined;
  }

  async get<K extends Kind>(kind: K, name: string): Promise<Resource<K>> {
    const r = await this.find(kind, name);
    if (!r) throw new SwitchyardError('not_found', `${kind} '${name}' not found`, { param: 'name' });
    return r;
  }

  async list<K extends Kind>(kind: K): Promise<{ items: Resource<K>[]; resourceVersion: string }> {
    const rv = await this.store.currentRv();
    const items = (await this.store.list(kind)).map((o) => toResource<K>(o));
    return { items, resourceVersion: String(rv) };
  }

  /** Create or update many resources in one transaction. Validation happened already (Manifest). */
  apply(manifests: readonly Manifest[], options: ApplyOptions): Promise<ApplyOutcome[]> {
    const run = this.applying.then(() => this.applyNow(manifests, options));
    this.applying = run.catch(() => undefined);
    return run;
  }

  private async applyNow(manifests: readonly Manifest[], options: ApplyOptions): Promise<ApplyOutcome[]> {
    const mode = options.mode ?? 'apply';
    const now = new Date(this.clock.epochMs()).toISOString();
    const ops: WriteOp[] = [];
    const outcomes: ApplyOutcome[] = [];
    const changes: SpecChange[] = [];
    for (const m of manifests) {
      const existing = await this.store.get(m.kind, m.metadata.name);
      const labels = m.metadata.labels ?? {};
      const annotations = m.metadata.annotations ?? {};
      if (existing && mode === 'create') throw new SwitchyardError('already_exists', `${m.kind} '${m.metadata.name}' already exists; use apply or replace to change it`, { param: 'metadata.name' });
      if (!existing && mode === 'replace') throw new SwitchyardError('not_found', `${m.kind} '${m.metadata.name}' not found`, { param: 'metadata.name' });
      if (!existing) {
        const metadata = { name: m.metadata.name, labels, annotations, uid: randomId(64), generation: 1, creationTimestamp: now, updateTimestamp: now };
        const body: JsonObject = { apiVersion: API_VERSION, kind: m.kind, metadata, spec: m.spec };
        ops.push({ op: 'create', kind: m.kind, name: m.metadata.name, body });
        const manifest = manifestOf(body as unknown as AnyResource);
        outcomes.push({ kind: m.kind, name: m.metadata.name, action: 'created', diff: unifiedDiff('', stringify(manifest), { from: '/dev/null', to: `${m.kind}/${m.metadata.name}` }) });
        changes.push({ kind: m.kind, name: m.metadata.name, action: 'created', actor: options.actor, manifest, generation: 1, ...(options.note ? { note: options.note } : {}) });
        continue;
      }
      const cur = toResource(existing);
      const expectRv = m.metadata.resourceVersion !== undefined ? Number(m.metadata.resourceVersion) : existing.rv;
      if (m.metadata.resourceVersion !== undefined && expectRv !== existing.rv) {
        throw new SwitchyardError('conflict', `${m.kind} '${m.metadata.name}' was changed since you read it (your resourceVersion ${m.metadata.resourceVersion}, current ${existing.rv}); get it again and reapply`, { param: 'metadata.resourceVersion' });
      }
      const specChanged = canonical(cur.spec) !== canonical(m.spec);
      const metaChanged = canonical(cur.metadata.labels) !== canonical(labels) || canonical(cur.metadata.annotations) !== canonical(annotations);
      if (!specChanged && !metaChanged) {
        outcomes.push({ kind: m.kind, name: m.metadata.name, action: 'unchanged', resourceVersion: String(existing.rv) });
        continue;
      }
      const generation = cur.metadata.generation + (specChanged ? 1 : 0);
      const metadata = { ...(existing.body.metadata as JsonObject), labels, annotations, generation, updateTimestamp: now };
      const body: JsonObject = { ...existing.body, metadata, spec: m.spec };
      ops.push({ op: 'update', kind: m.kind, name: m.metadata.name, body, expectRv });
      const before = manifestOf(cur);
      const after = manifestOf(body as unknown as AnyResource);
      outcomes.push({ kind: m.kind, name: m.metadata.name, action: 'configured', diff: unifiedDiff(stringify(before), stringify(after), { from: `${m.kind}/${m.metadata.name} (generation ${cur.metadata.generation})`, to: `${m.kind}/${m.metadata.name} (generation ${generation})` }) });
      changes.push({ kind: m.kind, name: m.metadata.name, action: 'configured', actor: options.actor, manifest: after, generation, ...(options.note ? { note: options.note } : {}) });
    }
    if (ops.length > 0 && this.checks.size > 0) {
      const writes = manifests.filter((m) => ops.some((o) => o.kind === m.kind && o.name === m.metadata.name)).map((m) => ({ kind: m.kind, name: m.metadata.name, spec: m.spec }));
      for (const check of this.checks) await check(writes, this);
    }
    if (options.dryRun || ops.length === 0) return outcomes;
    const written = await this.store.commit(ops);
    const rvByKey = new Map(written.map((w) => [`${w.kind}/${w.name}`, String(w.rv)]));
    this.emit(changes);
    return outcomes.map((o) => (o.action === 'unchanged' ? o : { ...o, resourceVersion: rvByKey.get(`${o.kind}/${o.name}`) }));
  }

  /**
   * Delete a resource. A Function or Cluster that Deployments still refer to, or a Tenant that
   * still has ApiKeys, needs `cascade` (which deletes those in the same transaction).
   */
  async delete(kind: Kind, name: string, options: { actor: Actor; cascade?: boolean }): Promise<AnyResource> {
    const existing = await this.store.get(kind, name);
    if (!existing) throw new SwitchyardError('not_found', `${kind} '${name}' not found`, { param: 'name' });
    const ops: WriteOp[] = [];
    const changes: SpecChange[] = [];
    for (const dep of DEPENDENTS[kind] ?? []) {
      const found = (await this.store.list(dep.kind)).filter((d) => (d.body.spec as Record<string, unknown>)[dep.field] === name);
      if (found.length > 0 && !options.cascade) {
        const names = found.map((d) => d.name);
        const them = names.length === 1 ? 'it' : 'them';
        throw new SwitchyardError('conflict', `${kind} '${name}' still has ${names.length} ${dep.kind}${names.length === 1 ? '' : 's'} (${names.join(', ')}); delete ${them} first, or delete with --cascade (?cascade=true) to remove ${them} too`, { param: 'cascade' });
      }
      for (const d of found) {
        ops.push({ op: 'delete', kind: dep.kind, name: d.name, expectRv: d.rv });
        changes.push({ kind: dep.kind, name: d.name, action: 'deleted', actor: options.actor, manifest: null, generation: 0, note: `cascade from ${kind}/${name}` });
      }
    }
    ops.push({ op: 'delete', kind, name, expectRv: existing.rv });
    changes.push({ kind, name, action: 'deleted', actor: options.actor, manifest: null, generation: 0 });
    const written = await this.store.commit(ops);
    this.emit(changes);
    return toResource(written[written.length - 1]!) as AnyResource;
  }

  /**
   * Replace a resource's status (read-modify-write with optimistic concurrency, retried on
   * conflict). `mutate` returns the new status, or undefined to leave it. Not recorded in history.
   * Returns false if the resource does not exist.
   */
  async updateStatus<K extends Kind>(kind: K, name: string, mutate: (current: Resource<K>) => Resource<K>['status'] | undefined): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      const existing = await this.store.get(kind, name);
      if (!existing) return false;
      const cur = toResource<K>(existing);
      const next = mutate(cur);
      if (next === undefined || canonical(next) === canonical(cur.status)) return true;
      try {
        await this.store.commit([{ op: 'update', kind, name, body: { ...existing.body, status: next }, expectRv: existing.rv }]);
        return true;
      } catch (e) {
        if (!(e instanceof SwitchyardError && (e.code === 'conflict' || e.code === 'not_found')) || attempt >= 8) throw e;
      }
    }
  }

  private emit(changes: readonly SpecChange[]): void {
    if (changes.length === 0) return;
    for (const cb of this.listeners) cb(changes);
  }
}

/** A stored document as the API returns it (resourceVersion from the store). */
export function toResource<K extends Kind = Kind>(o: StoredObject): Resource<K> {
  const body = o.body as unknown as Resource<K>;
  return { ...body, metadata: { ...body.metadata, resourceVersion: String(o.rv) } };
}

/** The plural path segment of a kind. */
export const pluralOf = (kind: Kind): string => KINDS[kind].plural;
