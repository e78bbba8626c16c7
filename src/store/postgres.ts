/**
 * PostgresStore: the ResourceStore for scaled-out control planes (several replicas, one database).
 *
 * Every commit is one READ COMMITTED transaction that first bumps the single-row revision
 * counter (`UPDATE store_state SET rv = rv + n ... RETURNING rv`). That row lock serializes
 * writers across all replicas, so two replicas can never both succeed on the same expectRv,
 * rvs are strictly increasing and gap-free, and commits become visible in rv order (a watcher
 * that has seen rv N has seen everything up to N). A rolled-back batch rolls the counter back.
 * Each commit sends NOTIFY (payload: the new rv) on a per-schema channel; a dedicated LISTEN
 * connection delivers other replicas' commits to onCommit and reconnects with backoff.
 */
import pg from 'pg';
import type { PoolClient } from 'pg';
import { SwitchyardError } from '../core/index.js';
import type { AuditEntry, AuditQuery, StoredAuditEntry, UsageAggregate, UsageQuery, UsageRecord, UsageTotals } from '../api/index.js';
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
} from './ops.js';
import type { ResourceStore, StoredObject, WatchEvent, WatchEventType, WriteOp } from './types.js';

export interface PostgresStoreOptions {
  /** Schema holding the store's tables (created if missing). Default `switchyard`. */
  schema?: string;
  /** Maximum pooled connections, besides the LISTEN connection (default 10). */
  poolSize?: number;
}

const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,47}$/;
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5000;

/** Migration i takes the schema from version i to i + 1 (store_state.version). Append only. */
const migrations = (s: string): string[] => [
  `CREATE TABLE ${s}.objects (kind text NOT NULL, name text COLLATE "C" NOT NULL, rv bigint NOT NULL, body json NOT NULL,
     PRIMARY KEY (kind, name));
   CREATE TABLE ${s}.events (rv bigint PRIMARY KEY, type text NOT NULL, kind text NOT NULL, name text NOT NULL, body json NOT NULL);
   CREATE TABLE ${s}.meta (key text PRIMARY KEY, value text NOT NULL);
   CREATE TABLE ${s}.store_state (id int PRIMARY KEY CHECK (id = 1), rv bigint NOT NULL, compacted_rv bigint NOT NULL, version int NOT NULL);
   INSERT INTO ${s}.store_state (id, rv, compacted_rv, version) VALUES (1, 0, 0, 0);`,
  `CREATE TABLE ${s}.usage_records (ts bigint NOT NULL, request_id text NOT NULL, tenant text NOT NULL, key text NOT NULL, model text NOT NULL,
     cluster text NOT NULL, input_tokens bigint NOT NULL, output_tokens bigint NOT NULL, cached_tokens bigint NOT NULL,
     latency_ms double precision NOT NULL, status text NOT NULL, usd double precision NOT NULL, error smallint NOT NULL,
     PRIMARY KEY (request_id, ts));
   CREATE INDEX usage_records_ts ON ${s}.usage_records (ts);
   CREATE TABLE ${s}.usage_daily (tenant text COLLATE "C" NOT NULL, day bigint NOT NULL, model text COLLATE "C" NOT NULL, requests bigint NOT NULL,
     input_tokens bigint NOT NULL, output_tokens bigint NOT NULL, cached_tokens bigint NOT NULL, usd double precision NOT NULL,
     errors bigint NOT NULL, latency_ms double precision NOT NULL, PRIMARY KEY (tenant, day, model));
   CREATE TABLE ${s}.audit (id bigserial PRIMARY KEY, ts bigint NOT NULL, actor text NOT NULL, role text, action text NOT NULL,
     kind text NOT NULL, name text NOT NULL, before json, after json, note text);
   CREATE INDEX audit_ts ON ${s}.audit (ts);`,
];

interface EventRow { compacted_rv: string; rv: string | null; type: WatchEventType; kind: string; name: string; body: string }

/** The PostgreSQL ResourceStore. Open with `PostgresStore.open(databaseUrl, { schema })`. */
export class PostgresStore implements ResourceStore {
  readonly driver = 'postgres';
  private readonly t: string;
  private readonly channel: string;
  private readonly listeners = new Set<(rv: number) => void>();
  private lastDelivered = 0;
  private listener: pg.Client | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private backoffMs = RECONNECT_MIN_MS;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly url: string,
    /** The schema holding this store's tables. */
    readonly schema: string,
  ) {
    this.t = `"${schema}"`;
    this.channel = `${schema}_commit`;
  }

  /** Connect, create or migrate the schema, and start listening for other replicas' commits. */
  static async open(databaseUrl: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const schema = options.schema ?? 'switchyard';
    if (!SCHEMA_RE.test(schema)) throw new SwitchyardError('invalid_argument', `schema '${schema}' must match ${String(SCHEMA_RE)}`, { param: 'schema' });
    const pool = new pg.Pool({ connectionString: databaseUrl, max: options.poolSize ?? 10, connectionTimeoutMillis: 10_000 });
    pool.on('error', () => {
      // An idle pooled connection died (e.g. the server restarted); the pool drops it.
    });
    const store = new PostgresStore(pool, databaseUrl, schema);
    try {
      await store.tx(async (c) => store.migrate(c));
      await store.listen();
    } catch (e) {
      await store.close();
      throw wrap(e);
    }
    return store;
  }

  async get(kind: string, name: string): Promise<StoredObject | undefined> {
    const row = (await this.query<{ rv: string; body: string }>(`SELECT rv, body::text AS body FROM ${this.t}.objects WHERE kind = $1 AND name = $2`, [kind, name]))[0];
    return row && { kind, name, rv: Number(row.rv), body: parseBody(row.body) };
  }

  async list(kind: string): Promise<StoredObject[]> {
    const rows = await this.query<{ name: string; rv: string; body: string }>(`SELECT name, rv, body::text AS body FROM ${this.t}.objects WHERE kind = $1 ORDER BY name`, [kind]);
    return rows.map((r) => ({ kind, name: r.name, rv: Number(r.rv), body: parseBody(r.body) }));
  }

  async commit(ops: readonly WriteOp[]): Promise<StoredObject[]> {
    const prepared = prepareOps(ops);
    if (prepared.length === 0) return [];
    const out = await this.tx(async (c) => this.apply(c, prepared));
    this.deliver(out[out.length - 1]!.rv);
    return out;
  }

  async currentRv(): Promise<number> {
    return Number((await this.query<{ rv: string }>(`SELECT rv FROM ${this.t}.store_state WHERE id = 1`))[0]!.rv);
  }

  async eventsSince(sinceRv: number, limit = 1000): Promise<WatchEvent[]> {
    checkInt(sinceRv, 'sinceRv', 0);
    checkInt(limit, 'limit', 1);
    // One statement, so the compaction floor and the events come from the same snapshot.
    const rows = await this.query<EventRow>(
      `SELECT s.compacted_rv, e.rv, e.type, e.kind, e.name, e.body::text AS body FROM ${this.t}.store_state s
       LEFT JOIN LATERAL (SELECT * FROM ${this.t}.events WHERE rv > $1 ORDER BY rv LIMIT $2) e ON true
       WHERE s.id = 1 ORDER BY e.rv`,
      [sinceRv, limit],
    );
    const compactedRv = Number(rows[0]!.compacted_rv);
    if (sinceRv < compactedRv) {
      throw gone(sinceRv, compactedRv);
    }
    return rows.filter((r) => r.rv !== null).map((r) => ({ rv: Number(r.rv), type: r.type, kind: r.kind, name: r.name, body: parseBody(r.body) }));
  }

  async compact(keep: number): Promise<void> {
    checkInt(keep, 'keep', 0);
    await this.tx(async (c) => {
      const { rows } = await c.query<{ floor: string }>(`UPDATE ${this.t}.store_state SET compacted_rv = GREATEST(compacted_rv, rv - $1) WHERE id = 1 RETURNING compacted_rv AS floor`, [keep]);
      await c.query(`DELETE FROM ${this.t}.events WHERE rv <= $1`, [rows[0]!.floor]);
    });
  }

  onCommit(cb: (rv: number) => void): () => void {
    const listener = (rv: number): void => cb(rv);
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  async getMeta(key: string): Promise<string | undefined> {
    return (await this.query<{ value: string }>(`SELECT value FROM ${this.t}.meta WHERE key = $1`, [key]))[0]?.value;
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.query(`INSERT INTO ${this.t}.meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [key, value]);
  }

  async appendUsage(records: readonly UsageRecord[]): Promise<void> {
    const rows = prepareUsage(records);
    if (rows.length === 0) return;
    const col = <K extends keyof (typeof rows)[number]>(k: K) => rows.map((r) => r[k]);
    // One statement: the records that were not stored yet, summed into their days. Days are
    // upserted in key order, so concurrent batches from two replicas cannot deadlock on them.
    await this.query(
      `WITH ins AS (
         INSERT INTO ${this.t}.usage_records (ts, request_id, tenant, key, model, cluster, input_tokens, output_tokens, cached_tokens, latency_ms, status, usd, error)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], $10::float8[], $11::text[], $12::float8[], $13::smallint[])
         ON CONFLICT (request_id, ts) DO NOTHING
         RETURNING ts, tenant, model, input_tokens, output_tokens, cached_tokens, latency_ms, usd, error)
       INSERT INTO ${this.t}.usage_daily AS d (tenant, day, model, requests, input_tokens, output_tokens, cached_tokens, usd, errors, latency_ms)
       SELECT tenant, ts - ts % 86400000, model, count(*), sum(input_tokens), sum(output_tokens), sum(cached_tokens), sum(usd), sum(error), sum(latency_ms)
       FROM ins GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
       ON CONFLICT (tenant, day, model) DO UPDATE SET requests = d.requests + excluded.requests, input_tokens = d.input_tokens + excluded.input_tokens,
         output_tokens = d.output_tokens + excluded.output_tokens, cached_tokens = d.cached_tokens + excluded.cached_tokens, usd = d.usd + excluded.usd,
         errors = d.errors + excluded.errors, latency_ms = d.latency_ms + excluded.latency_ms`,
      [col('ts'), col('requestId'), col('tenant'), col('key'), col('model'), col('cluster'), col('inputTokens'), col('outputTokens'), col('cachedTokens'), col('latencyMs'), col('status'), col('usd'), col('error')],
    );
  }

  async queryUsage(q: UsageQuery): Promise<UsageAggregate[]> {
    const { since, until } = usageRange(q);
    const params: (string | number)[] = [since, until];
    let where = 'day >= $1 AND day < $2';
    if (q.tenant !== undefined) {
      params.push(q.tenant);
      where += ' AND tenant = $3';
    }
    const sums = 'sum(requests) AS requests, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, sum(cached_tokens) AS cached_tokens, sum(usd) AS usd, sum(errors) AS errors, sum(latency_ms) AS latency_ms';
    const sql = q.groupBy === 'day'
      ? `SELECT day, tenant, model, ${sums} FROM ${this.t}.usage_daily WHERE ${where} GROUP BY day, tenant, model ORDER BY day, tenant, model`
      : `SELECT tenant, model, ${sums} FROM ${this.t}.usage_daily WHERE ${where} GROUP BY tenant, model ORDER BY tenant, model`;
    return (await this.query<AggregateRow>(sql, params)).map(aggregateOf);
  }

  async usageTotals(tenant: string, sinceMs: number): Promise<UsageTotals> {
    const { since } = usageRange({ since: sinceMs, groupBy: 'none' });
    const rows = await this.query<{ requests: string | null; input_tokens: string | null; output_tokens: string | null; cached_tokens: string | null; usd: number | null }>(
      `SELECT sum(requests) AS requests, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, sum(cached_tokens) AS cached_tokens, sum(usd) AS usd
       FROM ${this.t}.usage_daily WHERE tenant = $1 AND day >= $2`,
      [tenant, since],
    );
    return totalsOf(rows[0]);
  }

  async pruneUsage(beforeMs: number): Promise<number> {
    checkInt(beforeMs, 'beforeMs', 0);
    const rows = await this.query<{ n: string }>(`WITH d AS (DELETE FROM ${this.t}.usage_records WHERE ts < $1 RETURNING 1) SELECT count(*) AS n FROM d`, [beforeMs]);
    return Number(rows[0]?.n ?? 0);
  }

  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    const rows = prepareAudit(entries);
    if (rows.length === 0) return;
    const col = <K extends keyof AuditRow>(k: K) => rows.map((r) => r[k]);
    // unnest keeps the array order, and bigserial numbers the rows in it.
    await this.query(
      `INSERT INTO ${this.t}.audit (ts, actor, role, action, kind, name, before, after, note)
       SELECT ts, actor, role, action, kind, name, before, after, note
       FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::json[], $8::json[], $9::text[]) WITH ORDINALITY AS u(ts, actor, role, action, kind, name, before, after, note, n)
       ORDER BY n`,
      [col('ts'), col('actor'), col('role'), col('action'), col('kind'), col('name'), col('before'), col('after'), col('note')],
    );
  }

  async queryAudit(q: AuditQuery): Promise<StoredAuditEntry[]> {
    const limit = auditLimit(q);
    let n = 0;
    const { where, params } = auditFilter(q, () => `$${++n}`, (p) => `strpos(actor, ${p}) > 0`);
    const rows = await this.query<{ id: string; ts: string } & Omit<AuditRow, 'ts'>>(
      `SELECT id, ts, actor, role, action, kind, name, before::text AS before, after::text AS after, note FROM ${this.t}.audit ${where} ORDER BY id DESC LIMIT $${n + 1}`,
      [...params, limit],
    );
    return rows.reverse().map(auditEntryOf);
  }

  async close(): Promise<void> {
    this.closing ??= (async () => {
      this.listeners.clear();
      clearTimeout(this.reconnectTimer);
      const listener = this.listener;
      this.listener = undefined;
      await listener?.end().catch(() => undefined);
      await this.pool.end();
    })();
    return this.closing;
  }

  /** Runs inside the commit transaction; any throw rolls the batch (and the counter) back. */
  private async apply(c: PoolClient, prepared: readonly PreparedOp[]): Promise<StoredObject[]> {
    const bumped = await c.query<{ rv: string }>(`UPDATE ${this.t}.store_state SET rv = rv + $1 WHERE id = 1 RETURNING rv`, [prepared.length]);
    let rv = Number(bumped.rows[0]!.rv) - prepared.length;
    const out: StoredObject[] = [];
    for (const { op, json } of prepared) {
      rv += 1;
      const { kind, name } = op;
      const current = (await c.query<{ rv: string; body: string }>(`SELECT rv, body::text AS body FROM ${this.t}.objects WHERE kind = $1 AND name = $2`, [kind, name])).rows[0];
      const event = (type: WatchEventType, body: string) => `INSERT INTO ${this.t}.events (rv, type, kind, name, body) VALUES ($3, '${type}', $1, $2, ${body})`;
      if (op.op === 'create') {
        if (current) throw new SwitchyardError('already_exists', `${kind} '${name}' already exists`);
        await c.query(`WITH w AS (INSERT INTO ${this.t}.objects (kind, name, rv, body) VALUES ($1, $2, $3, $4::json)) ${event('ADDED', '$4::json')}`, [kind, name, rv, json]);
        out.push({ kind, name, rv, body: parseBody(json!) });
        continue;
      }
      if (!current) throw new SwitchyardError('not_found', `${kind} '${name}' not found`);
      const actual = Number(current.rv);
      if (op.expectRv !== undefined && op.expectRv !== actual) {
        throw conflict(op, actual);
      }
      if (op.op === 'update') {
        await c.query(`WITH w AS (UPDATE ${this.t}.objects SET rv = $3, body = $4::json WHERE kind = $1 AND name = $2) ${event('MODIFIED', '$4::json')}`, [kind, name, rv, json]);
        out.push({ kind, name, rv, body: parseBody(json!) });
      } else {
        await c.query(`WITH w AS (DELETE FROM ${this.t}.objects WHERE kind = $1 AND name = $2) ${event('DELETED', '$4::json')}`, [kind, name, rv, current.body]);
        out.push({ kind, name, rv, body: parseBody(current.body) });
      }
    }
    await c.query('SELECT pg_notify($1, $2)', [this.channel, String(rv)]);
    return out;
  }

  private async migrate(c: PoolClient): Promise<void> {
    await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`switchyard-store:${this.schema}`]);
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${this.t}`);
    const exists = (await c.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [`${this.t}.store_state`])).rows[0]?.t;
    let version = exists ? Number((await c.query<{ version: number }>(`SELECT version FROM ${this.t}.store_state WHERE id = 1`)).rows[0]!.version) : 0;
    const all = migrations(this.t);
    if (version > all.length) throw new SwitchyardError('unavailable', `store schema '${this.schema}' is at version ${version}, newer than this Switchyard (${all.length}); upgrade Switchyard`);
    for (; version < all.length; version++) {
      await c.query(all[version]!);
      await c.query(`UPDATE ${this.t}.store_state SET version = $1 WHERE id = 1`, [version + 1]);
    }
  }

  /** Open the dedicated LISTEN connection. On error it is dropped and reopened with backoff. */
  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, application_name: `switchyard-listen:${this.schema}`, connectionTimeoutMillis: 10_000 });
    let failed = false;
    const fail = (): void => {
      if (failed) return;
      failed = true;
      client.end().catch(() => undefined);
      if (this.listener !== client) return;
      this.listener = undefined;
      this.scheduleReconnect();
    };
    client.on('error', fail);
    client.on('end', fail);
    client.on('notification', (n) => {
      const rv = Number(n.payload);
      if (n.channel === this.channel && Number.isSafeInteger(rv)) this.deliver(rv);
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel}"`);
    } catch (e) {
      fail();
      throw e;
    }
    if (this.closing || failed) {
      fail();
      if (this.closing) return;
      throw new SwitchyardError('unavailable', 'the LISTEN connection closed while starting');
    }
    this.listener = client;
  }

  private scheduleReconnect(): void {
    if (this.closing || this.reconnectTimer) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, RECONNECT_MAX_MS);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.reconnect();
    }, delay);
    this.reconnectTimer.unref();
  }

  private async reconnect(): Promise<void> {
    if (this.closing) return;
    try {
      await this.listen();
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.backoffMs = RECONNECT_MIN_MS;
    // Notifications sent while we were disconnected are lost: catch up with the current rv.
    this.deliver(await this.currentRv().catch(() => 0));
  }

  private deliver(rv: number): void {
    if (this.closing || rv <= this.lastDelivered) return;
    this.lastDelivered = rv;
    for (const cb of [...this.listeners]) {
      try {
        cb(rv);
      } catch {
        // A failing listener must not fail the commit that has already happened.
      }
    }
  }

  private async query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    this.assertOpen();
    try {
      return (await this.pool.query<R>(sql, params)).rows;
    } catch (e) {
      throw wrap(e);
    }
  }

  /** Run `fn` in a transaction on one pooled connection; a connection that failed mid-way is discarded. */
  private async tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    this.assertOpen();
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw wrap(e);
    }
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw wrap(e);
    } finally {
      client.release(broken);
    }
  }

  private assertOpen(): void {
    if (this.closing) throw new SwitchyardError('unavailable', 'the PostgreSQL store is closed');
  }
}

/**
 * PostgreSQL errors become SwitchyardErrors: lost connections, shutdowns and resource
 * exhaustion are `unavailable` (retryable); a duplicate key is `already_exists`.
 */
function wrap(e: unknown): SwitchyardError {
  if (e instanceof SwitchyardError) return e;
  const code = (e as { code?: unknown }).code;
  const message = e instanceof Error ? e.message : String(e);
  if (code === '23505') return new SwitchyardError('already_exists', message, { cause: e });
  if (e instanceof pg.DatabaseError && typeof code === 'string' && !/^(08|53|57)/.test(code)) {
    return new SwitchyardError('internal_error', `PostgreSQL: ${message}`, { cause: e, detail: { sqlstate: code } });
  }
  return new SwitchyardError('unavailable', `PostgreSQL unavailable: ${message}`, { cause: e });
}
