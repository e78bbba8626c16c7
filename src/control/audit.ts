/**
 * AuditLog: who did what to which object, when, with the object before and after. The admin
 * API's handlers record every action they take (resource writes, deletes and rollbacks, key
 * minting, rotation and revocation, admin tokens, cluster tokens, price changes); git history
 * keeps recording spec changes as before. The entry is appended after the action succeeded;
 * a failure to append is logged and does not fail the action (it already happened).
 *
 * No secret is ever recorded: objects are manifests (an ApiKey's holds its hash and prefix),
 * tokens are their listed info (name, role, prefix), and as a last guard every string that
 * looks like a Switchyard secret is replaced by `[REDACTED]`.
 */
import type { AuditEntry, AuditObject, AuditQuery, Kind, StoredAuditEntry } from '../api/index.js';
import type { Clock } from '../core/index.js';
import type { Logger } from '../observability/index.js';
import type { ResourceStore } from '../store/index.js';
import { manifestOf, type Actor, type ApplyOutcome, type ResourceService } from './resources.js';
import type { Principal } from './tokens.js';

/** Who acted: the actor as history records it, and the role of their token. */
export interface AuditWho {
  readonly actor: string;
  readonly role?: string;
}

/** What was done, to which object. */
export interface AuditWhat {
  readonly action: string;
  readonly kind: string;
  readonly name: string;
  readonly note?: string;
}

export function whoOf(actor: Actor, p: Principal): AuditWho {
  return { actor: actor.name, role: p.kind === 'agent' ? 'agent' : p.role };
}

/** `apikey.revoke` from ('ApiKey', 'revoke'). */
export const actionOf = (kind: string, verb: string): string => `${kind.toLowerCase()}.${verb}`;

const SECRETS = [
  /sk-sy-[A-Za-z0-9_-]{43}/g, // API keys
  /sy-token-[a-z0-9-]{1,63}\.[A-Za-z0-9_-]{43}/g, // named admin tokens
  /sy-(?:admin|internal)-[A-Za-z0-9]{20,}/g, // generated admin and in-process tokens
  /sy-agent-[a-z0-9-]+\.[A-Za-z0-9]{20,}/g, // cluster agent tokens
];

/** A deep copy with every string that looks like a secret replaced by `[REDACTED]`. */
export function scrub<T>(v: T): T {
  if (typeof v === 'string') return SECRETS.reduce<string>((s, re) => s.replace(re, '[REDACTED]'), v) as T;
  if (Array.isArray(v)) return v.map((x: unknown) => scrub(x)) as T;
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, scrub(x)])) as T;
  return v;
}

export class AuditLog {
  constructor(
    private readonly store: Pick<ResourceStore, 'appendAudit' | 'queryAudit'>,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Append entries (now). Never throws: a failure is logged. */
  async record(who: AuditWho, ...entries: (AuditWhat & { before: AuditObject | null; after: AuditObject | null })[]): Promise<void> {
    if (entries.length === 0) return;
    const ts = this.clock.epochMs();
    const rows: AuditEntry[] = entries.map((e) =>
      scrub({ ts, actor: who.actor, ...(who.role ? { role: who.role } : {}), action: e.action, kind: e.kind, name: e.name, before: e.before, after: e.after, ...(e.note ? { note: e.note } : {}) }),
    );
    try {
      await this.store.appendAudit(rows);
    } catch (e) {
      this.logger.error({ err: e, actions: rows.map((r) => `${r.action} ${r.kind}/${r.name}`), actor: who.actor }, 'audit: appending entries failed (the actions themselves succeeded)');
    }
  }

  query(q: AuditQuery): Promise<StoredAuditEntry[]> {
    return this.store.queryAudit(q);
  }

  /**
   * Run a write of one resource and record it, with the resource's manifest before and after
   * (null where it does not exist).
   */
  async resourceWrite<T>(service: ResourceService, who: AuditWho, what: AuditWhat & { kind: Kind }, write: () => Promise<T>): Promise<T> {
    const before = await snapshot(service, what.kind, what.name);
    const out = await write();
    await this.record(who, { ...what, before, after: await snapshot(service, what.kind, what.name) });
    return out;
  }

  /** Run an apply of many manifests and record each object it created or changed. */
  async resourceApply(service: ResourceService, who: AuditWho, targets: readonly { kind: Kind; name: string }[], apply: () => Promise<ApplyOutcome[]>): Promise<ApplyOutcome[]> {
    const before = new Map<string, AuditObject | null>();
    for (const t of targets) before.set(`${t.kind}/${t.name}`, await snapshot(service, t.kind, t.name));
    const outcomes = await apply();
    const entries = [];
    for (const o of outcomes) {
      if (o.action === 'unchanged') continue;
      const verb = o.action === 'created' ? 'create' : 'update';
      entries.push({ action: actionOf(o.kind, verb), kind: o.kind, name: o.name, before: before.get(`${o.kind}/${o.name}`) ?? null, after: await snapshot(service, o.kind, o.name) });
    }
    await this.record(who, ...entries);
    return outcomes;
  }

  /**
   * Run a delete and record it; with `cascade`, also every Deployment and ApiKey that went with
   * it (noted `cascade from Kind/name`).
   */
  async resourceDelete<T>(service: ResourceService, who: AuditWho, target: { kind: Kind; name: string; cascade: boolean }, remove: () => Promise<T>): Promise<T> {
    const before = await snapshot(service, target.kind, target.name);
    const dependents = target.cascade ? await snapshots(service, ['Deployment', 'ApiKey']) : [];
    const out = await remove();
    const gone = [];
    for (const d of dependents) if (!(await service.find(d.kind, d.name))) gone.push(d);
    const note = `cascade from ${target.kind}/${target.name}`;
    await this.record(
      who,
      ...gone.map((d) => ({ action: actionOf(d.kind, 'delete'), kind: d.kind, name: d.name, note, before: d.manifest, after: null })),
      { action: actionOf(target.kind, 'delete'), kind: target.kind, name: target.name, before, after: null },
    );
    return out;
  }
}

/** A resource's manifest (what history records: kind, metadata name/labels/annotations, spec), or null. */
export async function snapshot(service: ResourceService, kind: Kind, name: string): Promise<AuditObject | null> {
  const r = await service.find(kind, name);
  return r ? manifestOf(r) : null;
}

async function snapshots(service: ResourceService, kinds: readonly Kind[]): Promise<{ kind: Kind; name: string; manifest: AuditObject }[]> {
  const out = [];
  for (const kind of kinds) for (const r of (await service.list(kind)).items) out.push({ kind, name: r.metadata.name, manifest: manifestOf(r) });
  return out;
}
