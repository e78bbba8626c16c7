/**
 * SqliteStore: the embedded, default ResourceStore (better-sqlite3, one database file).
 *
 * Durability: WAL journal with `synchronous=FULL`, so a commit is fsynced before commit()
 * resolves and an acknowledged write survives kill -9 and power loss. Each commit() is one
 * `BEGIN IMMEDIATE` transaction (better-sqlite3 runs it synchronously, so it never spans an
 * await). The revision counter lives in `store_state`, apart from the events table, so an rv
 * is never reused: not after deletes, not after compaction, not after a reopen.
 * Schema migrations are tracked with `PRAGMA user_version`.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { AuditEntry, AuditQuery, StoredAuditEntry, UsageAggregate, UsageQuery, UsageRecord, UsageTotals } from '../api/index.js';
import { SwitchyardError } from '../core/index.js';
import {
  aggregateOf,
  auditEntryOf,
  auditFilter,
  auditLimit,
  checkInt,
  conflict,
  gone,
  parseBody,
  prepareAudit,
  prepareOps,
  prepareUsage,
  totalsOf,
  usageRange,
  type AggregateRow,
  type AuditRow,
  type PreparedOp,
  type UsageRow,
} from './ops.js';
import type { ResourceStore, StoredObject, WatchEvent, WatchEventType, WriteOp } from './types.js';

/** Migration i takes the schema from user_version i to i + 1. Append only; never edit one. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE objects (kind TEXT NOT NULL, name TEXT NOT NULL, rv INTEGER NOT NULL, body TEXT NOT NULL,
     PRIMARY KEY (kind, name)) WITHOUT ROWID;
   CREATE TABLE events (rv INTEGER PRIMARY KEY, type TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL);
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
   CREATE TABLE store_state (id INTEGER PRIMARY KEY CHECK (id = 1), rv INTEGER NOT NULL, compacted_rv INTEGER NOT NULL);
   INSERT INTO store_state (id, rv, compacted_rv) VALUES (1, 0, 0);`,
  `CREATE TABLE usage_records (ts INTEGER NOT NULL, request_id TEXT NOT NULL, tenant TEXT NOT NULL, key TEXT NOT NULL, model TEXT NOT NULL,
     cluster TEXT NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cached_tokens INTEGER NOT NULL,
     latency_ms REAL NOT NULL, status TEXT NOT NULL, usd REAL NOT NULL, error INTEGER NOT NULL,
     PRIMARY KEY (request_id, ts)) WITHOUT ROWID;
   CREATE INDEX usage_records_ts ON usage_records (ts);
   CREATE TABLE usage_daily (tenant TEXT NOT NULL, day INTEGER NOT NULL, model TEXT NOT NULL, requests INTEGER NOT NULL,
     input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cached_tokens INTEGER NOT NULL, usd REAL NOT NULL,
     errors INTEGER NOT NULL, latency_ms REAL NOT NULL, PRIMARY KEY (tenant, day, model)) WITHOUT ROWID;
   CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL, actor TEXT NOT NULL, role TEXT, action TEXT NOT NULL,
     kind TEXT NOT NULL, name TEXT NOT NULL, before TEXT, after TEXT, note TEXT);
   CREATE INDEX audit_ts ON audit (ts);`,
];

export interface SqliteStoreOptions {
  /** How long a writer waits for another process's write lock before failing (default 5000 ms). */
  busyTimeoutMs?: number;
}

interface ObjectRow { name: string; rv: number; body: string }
interface EventRow { rv: number; type: WatchEventType; kind: string; name: string; body: string }
interface StateRow { rv: number; compacted_rv: number }
type TotalsRow = { requests: number | null; input_tokens: number | null; output_tokens: number | null; cached_tokens: number | null; usd: number | null };
type AuditDbRow = { id: number; ts: number } & Omit<AuditRow, 'ts'>;
/** A write op with its body already serialized (outside the transaction). */

/** Open stores by database file, so a commit in one instance notifies the others in this process. */
const peers = new Map<string, Set<SqliteStore>>();

function statements(db: Database.Database) {
  return {
    get: db.prepare<[string, string], ObjectRow>('SELECT name, rv, body FROM objects WHERE kind = ? AND name = ?'),
    list: db.prepare<[string], ObjectRow>('SELECT name, rv, body FROM objects WHERE kind = ? ORDER BY name'),
    insert: db.prepare<[string, string, number, string]>('INSERT INTO objects (kind, name, rv, body) VALUES (?, ?, ?, ?)'),
    update: db.prepare<[number, string, string, string]>('UPDATE objects SET rv = ?, body = ? WHERE kind = ? AND name = ?'),
    remove: db.prepare<[string, string]>('DELETE FROM objects WHERE kind = ? AND name = ?'),
    event: db.prepare<[number, WatchEventType, string, string, string]>('INSERT INTO events (rv, type, kind, name, body) VALUES (?, ?, ?, ?, ?)'),
    events: db.prepare<[number, number], EventRow>('SELECT rv, type, kind, name, body FROM events WHERE rv > ? ORDER BY rv LIMIT ?'),
    state: db.prepare<[], StateRow>('SELECT rv, compacted_rv FROM store_state WHERE id = 1'),
    setRv: db.prepare<[number]>('UPDATE store_state SET rv = ? WHERE id = 1'),
    compact: db.prepare<[number]>('DELETE FROM events WHERE rv <= ?'),
    setCompacted: db.prepare<[number]>('UPDATE store_state SET compacted_rv = ? WHERE id = 1'),
    getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare<[string, string]>('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    usageInsert: db.prepare<UsageRow>(
      `INSERT OR IGNORE INTO usage_records (ts, request_id, tenant, key, model, cluster, input_tokens, output_tokens, cached_tokens, latency_ms, status, usd, error)
       VALUES (@ts, @requestId, @tenant, @key, @model, @cluster, @inputTokens, @outputTokens, @cachedTokens, @latencyMs, @status, @usd, @error)`,
    ),
    dailyUpsert: db.prepare<UsageRow>(
      `INSERT INTO usage_daily (tenant, day, model, requests, input_tokens, output_tokens, cached_tokens, usd, errors, latency_ms)
       VALUES (@tenant, @day, @model, 1, @inputTokens, @outputTokens, @cachedTokens, @usd, @error, @latencyMs)
       ON CONFLICT (tenant, day, model) DO UPDATE SET requests = requests + 1, input_tokens = input_tokens + excluded.input_tokens,
         output_tokens = output_tokens + excluded.output_tokens, cached_tokens = cached_tokens + excluded.cached_tokens, usd = usd + excluded.usd,
         errors = errors + excluded.errors, latency_ms = latency_ms + excluded.latency_ms`,
    ),
    usageTotals: db.prepare<[string, number], TotalsRow>(
      `SELECT sum(requests) AS requests, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, sum(cached_tokens) AS cached_tokens, sum(usd) AS usd
       FROM usage_daily WHERE tenant = ? AND day >= ?`,
    ),
    pruneUsage: db.prepare<[number]>('DELETE FROM usage_records WHERE ts < ?'),
    auditInsert: db.prepare<AuditRow>(
      'INSERT INTO audit (ts, actor, role, action, kind, name, before, after, note) VALUES (@ts, @actor, @role, @action, @kind, @name, @before, @after, @note)',
    ),
  };
}

/** The SQLite ResourceStore. Open with `SqliteStore.open(path)`; `':memory:'` gives a private in-memory store. */
export class SqliteStore implements ResourceStore {
  readonly driver = 'sqlite';
  private readonly s: ReturnType<typeof statements>;
  private readonly commitTx: Database.Transaction<(prepared: readonly PreparedOp[]) => StoredObject[]>;
  private readonly listeners = new Set<(rv: number) => void>();
  private lastDelivered = 0;
  private closed = false;

  private constructor(
    private readonly db: Database.Database,
    /** Absolute path of the database file, or ':memory:'. */
    readonly path: string,
  ) {
    this.s = statements(db);
    this.commitTx = db.transaction((prepared: readonly PreparedOp[]) => this.apply(prepared));
    if (path !== ':memory:') {
      const group = peers.get(path) ?? new Set<SqliteStore>();
      group.add(this);
      peers.set(path, group);
    }
  }

  /** Open (creating and migrating if needed) the database at `path`; parent directories are created. */
  static async open(path: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
    const memory = path === ':memory:';
    const file = memory ? path : resolve(path);
    if (!memory) mkdirSync(dirname(file), { recursive: true });
    const db = new Database(file);
    try {
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      migrate(db);
    } catch (e) {
      db.close();
      throw wrap(e);
    }
    return new SqliteStore(db, file);
  }

  async get(kind: string, name: string): Promise<StoredObject | undefined> {
    const row = this.run(() => this.s.get.get(kind, name));
    return row && { kind, name, rv: row.rv, body: parseBody(row.body) };
  }

  async list(kind: string): Promise<StoredObject[]> {
    return this.run(() => this.s.list.all(kind)).map((r) => ({ kind, name: r.name, rv: r.rv, body: parseBody(r.body) }));
  }

  async commit(ops: readonly WriteOp[]): Promise<StoredObject[]> {
    const prepared = prepareOps(ops);
    if (prepared.length === 0) return [];
    const out = this.run(() => this.commitTx.immediate(prepared));
    this.publish(out[out.length - 1]!.rv);
    return out;
  }

  async currentRv(): Promise<number> {
    return this.run(() => this.s.state.get()!.rv);
  }

  async eventsSince(sinceRv: number, limit = 1000): Promise<WatchEvent[]> {
    checkInt(sinceRv, 'sinceRv', 0);
    checkInt(limit, 'limit', 1);
    const rows = this.run(() => this.db.transaction(() => {
      const state = this.s.state.get()!;
      if (sinceRv < state.compacted_rv) throw gone(sinceRv, state.compacted_rv);
      return this.s.events.all(sinceRv, limit);
    }).deferred());
    return rows.map((r) => ({ rv: r.rv, type: r.type, kind: r.kind, name: r.name, body: parseBody(r.body) }));
  }

  async compact(keep: number): Promise<void> {
    checkInt(keep, 'keep', 0);
    this.run(() => this.db.transaction(() => {
      const state = this.s.state.get()!;
      const floor = state.rv - keep;
      if (floor <= state.compacted_rv) return;
      this.s.compact.run(floor);
      this.s.setCompacted.run(floor);
    }).immediate());
  }

  onCommit(cb: (rv: number) => void): () => void {
    const listener = (rv: number): void => cb(rv);
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  async getMeta(key: string): Promise<string | undefined> {
    return this.run(() => this.s.getMeta.get(key))?.value;
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.run(() => this.s.setMeta.run(key, value));
  }

  async appendUsage(records: readonly UsageRecord[]): Promise<void> {
    const rows = prepareUsage(records);
    if (rows.length === 0) return;
    this.run(() => this.db.transaction(() => {
      for (const row of rows) if (this.s.usageInsert.run(row).changes === 1) this.s.dailyUpsert.run(row);
    }).immediate());
  }

  async queryUsage(q: UsageQuery): Promise<UsageAggregate[]> {
    const { since, until } = usageRange(q);
    const where = ['day >= ?', 'day < ?'];
    const params: (string | number)[] = [since, until];
    if (q.tenant !== undefined) {
      where.push('tenant = ?');
      params.push(q.tenant);
    }
    const sums = 'sum(requests) AS requests, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, sum(cached_tokens) AS cached_tokens, sum(usd) AS usd, sum(errors) AS errors, sum(latency_ms) AS latency_ms';
    const sql = q.groupBy === 'day'
      ? `SELECT day, tenant, model, ${sums} FROM usage_daily WHERE ${where.join(' AND ')} GROUP BY day, tenant, model ORDER BY day, tenant, model`
      : `SELECT tenant, model, ${sums} FROM usage_daily WHERE ${where.join(' AND ')} GROUP BY tenant, model ORDER BY tenant, model`;
    return this.run(() => this.db.prepare<(string | number)[], AggregateRow>(sql).all(...params)).map(aggregateOf);
  }

  async usageTotals(tenant: string, sinceMs: number): Promise<UsageTotals> {
    const { since } = usageRange({ since: sinceMs, groupBy: 'none' });
    return totalsOf(this.run(() => this.s.usageTotals.get(tenant, since)));
  }

  async pruneUsage(beforeMs: number): Promise<number> {
    checkInt(beforeMs, 'beforeMs', 0);
    return this.run(() => this.s.pruneUsage.run(beforeMs).changes);
  }

  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    const rows = prepareAudit(entries);
    if (rows.length === 0) return;
    this.run(() => this.db.transaction(() => {
      for (const row of rows) this.s.auditInsert.run(row);
    }).immediate());
  }

  async queryAudit(q: AuditQuery): Promise<StoredAuditEntry[]> {
    const limit = auditLimit(q);
    const { where, params } = auditFilter(q, () => '?', (p) => `instr(actor, ${p}) > 0`);
    const sql = `SELECT id, ts, actor, role, action, kind, name, before, after, note FROM audit ${where} ORDER BY id DESC LIMIT ?`;
    const rows = this.run(() => this.db.prepare<(string | number)[], AuditDbRow>(sql).all(...params, limit));
    return rows.reverse().map(auditEntryOf);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    const group = peers.get(this.path);
    group?.delete(this);
    if (group?.size === 0) peers.delete(this.path);
    this.db.close();
  }

  /** Runs inside the write transaction: any throw rolls the whole batch back. */
  private apply(prepared: readonly PreparedOp[]): StoredObject[] {
    let rv = this.s.state.get()!.rv;
    const out: StoredObject[] = [];
    for (const { op, json } of prepared) {
      rv += 1;
      const { kind, name } = op;
      const current = this.s.get.get(kind, name);
      if (op.op === 'create') {
        if (current) throw new SwitchyardError('already_exists', `${kind} '${name}' already exists`);
        this.s.insert.run(kind, name, rv, json!);
        this.s.event.run(rv, 'ADDED', kind, name, json!);
        out.push({ kind, name, rv, body: parseBody(json!) });
        continue;
      }
      if (!current) throw new SwitchyardError('not_found', `${kind} '${name}' not found`);
      if (op.expectRv !== undefined && op.expectRv !== current.rv) throw conflict(op, current.rv);
      if (op.op === 'update') {
        this.s.update.run(rv, json!, kind, name);
        this.s.event.run(rv, 'MODIFIED', kind, name, json!);
        out.push({ kind, name, rv, body: parseBody(json!) });
      } else {
        this.s.remove.run(kind, name);
        this.s.event.run(rv, 'DELETED', kind, name, current.body);
        out.push({ kind, name, rv, body: parseBody(current.body) });
      }
    }
    this.s.setRv.run(rv);
    return out;
  }

  /** Tell every open store on this database file (in this process) about a new rv. */
  private publish(rv: number): void {
    const group = peers.get(this.path);
    for (const store of group ?? [this]) store.deliver(rv);
  }

  private deliver(rv: number): void {
    if (rv <= this.lastDelivered) return;
    this.lastDelivered = rv;
    for (const cb of [...this.listeners]) {
      try {
        cb(rv);
      } catch {
        // A failing listener must not fail the commit that has already happened.
      }
    }
  }

  private run<T>(fn: () => T): T {
    if (this.closed) throw new SwitchyardError('unavailable', 'the SQLite store is closed');
    try {
      return fn();
    } catch (e) {
      throw wrap(e);
    }
  }
}

function migrate(db: Database.Database): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new SwitchyardError('unavailable', `database schema version ${version} is newer than this Switchyard (${MIGRATIONS.length}); upgrade Switchyard`);
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }
  }).immediate();
}

/** SQLite errors become SwitchyardErrors: a busy database is `unavailable` (retryable). */
function wrap(e: unknown): SwitchyardError {
  if (e instanceof SwitchyardError) return e;
  const code = (e as { code?: unknown }).code;
  const message = e instanceof Error ? e.message : String(e);
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return new SwitchyardError('unavailable', `SQLite database is busy: ${message}`, { cause: e });
  return new SwitchyardError('internal_error', `SQLite: ${message}`, { cause: e });
}
