/**
 * The resource store: one small interface, two implementations (embedded SQLite by default,
 * PostgreSQL when scaled out), one contract suite (./contract.ts) that both pass.
 *
 * The store is deliberately dumb about resources: it keeps JSON documents keyed by
 * (kind, name), stamps every write with a global, strictly increasing revision (`rv`, like
 * etcd's revision or Kubernetes' resourceVersion), and keeps an ordered event log so that
 * watchers can resume from any revision they saw. Validation, defaults, generations and
 * history live above it, in src/control.
 *
 * Besides resources it keeps two append-only logs that are not resources (not versioned, not
 * watched): usage records with their daily aggregates (usage metering), and the audit log.
 */
import type { AuditEntry, AuditQuery, StoredAuditEntry, UsageAggregate, UsageQuery, UsageRecord, UsageTotals } from '../api/index.js';

/** A JSON object as stored. */
export type JsonObject = { [key: string]: unknown };

export interface StoredObject {
  readonly kind: string;
  readonly name: string;
  /** Revision of the write that produced this version of the object (global, strictly increasing). */
  readonly rv: number;
  /** The document exactly as last written (the store never edits it). */
  readonly body: JsonObject;
}

/**
 * One write in an atomic batch. `expectRv` is an optimistic-concurrency precondition: the
 * object's current rv must equal it, or the whole batch fails with a `conflict` error.
 */
export type WriteOp =
  | { readonly op: 'create'; readonly kind: string; readonly name: string; readonly body: JsonObject }
  | { readonly op: 'update'; readonly kind: string; readonly name: string; readonly body: JsonObject; readonly expectRv?: number }
  | { readonly op: 'delete'; readonly kind: string; readonly name: string; readonly expectRv?: number };

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent {
  readonly rv: number;
  readonly type: WatchEventType;
  readonly kind: string;
  readonly name: string;
  /** The object after the write; for DELETED, the last body before deletion. */
  readonly body: JsonObject;
}

export interface ResourceStore {
  /** 'sqlite' or 'postgres', for logs and /metrics. */
  readonly driver: string;
  get(kind: string, name: string): Promise<StoredObject | undefined>;
  /** All objects of a kind, sorted by name. */
  list(kind: string): Promise<StoredObject[]>;
  /**
   * Apply every op in one transaction, in order; either all take effect or none does.
   * Each op gets its own new rv (consecutive within the batch). Returns one StoredObject per op,
   * in op order (for a delete: the deleted body, stamped with the delete's rv).
   * Errors (SwitchyardError): `already_exists` (create of an existing object), `not_found`
   * (update/delete of a missing one), `conflict` (expectRv mismatch). Resolves only after the
   * transaction is durable (committed and synced), so an acknowledged write survives kill -9.
   */
  commit(ops: readonly WriteOp[]): Promise<StoredObject[]>;
  /** The newest rv (0 for an empty store). */
  currentRv(): Promise<number>;
  /**
   * Events with rv > `sinceRv`, oldest first, at most `limit` (default 1000). Throws `gone`
   * (HTTP 410) when events after `sinceRv` were already compacted away: the watcher must re-list.
   */
  eventsSince(sinceRv: number, limit?: number): Promise<WatchEvent[]>;
  /** Drop events older than the newest `keep` (objects themselves are never compacted). */
  compact(keep: number): Promise<void>;
  /**
   * Called after commits, including commits made by other processes sharing the database
   * (Postgres: LISTEN/NOTIFY; SQLite: this process only). Receives the new current rv; read
   * the events with eventsSince. Returns an unsubscribe function.
   */
  onCommit(cb: (rv: number) => void): () => void;
  /** Small out-of-band values (token hashes, bootstrap state). Not versioned, not watched. */
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;
  /**
   * Store usage records, in one transaction, and add them to the daily aggregates
   * (tenant × model × UTC day). Idempotent per (requestId, ts) while the raw record is kept:
   * a record already stored is skipped, so a retried batch is not counted twice. `usd`
   * absent counts as 0.
   */
  appendUsage(records: readonly UsageRecord[]): Promise<void>;
  /**
   * Aggregates from the daily table, sorted by day (groupBy 'day'), tenant and model. `since` is
   * rounded down to its UTC day; a day is included when it starts before `until`.
   */
  queryUsage(q: UsageQuery): Promise<UsageAggregate[]>;
  /** A tenant's totals over the days from `sinceMs` (rounded down to its UTC day), e.g. this month. */
  usageTotals(tenant: string, sinceMs: number): Promise<UsageTotals>;
  /** Delete raw usage records older than `beforeMs` (the daily aggregates stay). Returns how many. */
  pruneUsage(beforeMs: number): Promise<number>;
  /** Append audit entries (in order, one transaction). */
  appendAudit(entries: readonly AuditEntry[]): Promise<void>;
  /** The newest `limit` matching entries, oldest first. */
  queryAudit(q: AuditQuery): Promise<StoredAuditEntry[]>;
  close(): Promise<void>;
}
