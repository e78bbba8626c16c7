/** PostgresStore: the shared contract (one fresh schema per test), plus LISTEN reconnection and openStore. */
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { describeWithPostgres, dropSchemas, uniqueSchema } from '../../test/helpers/postgres.js';
import { describeResourceStoreContract } from './contract.js';
import { openStore, PostgresStore } from './index.js';

describeWithPostgres('PostgresStore', (db) => {
  const schemas: string[] = [];
  const schema = (): string => {
    const name = uniqueSchema('store');
    schemas.push(name);
    return name;
  };

  afterAll(async () => dropSchemas(await db.url(), schemas));

  describeResourceStoreContract('postgres', async (peer) =>
    PostgresStore.open(await db.url(), { schema: peer instanceof PostgresStore ? peer.schema : schema(), poolSize: 4 }),
  );

  it('re-LISTENs after its listener connection is killed, and catches up', async () => {
    const url = await db.url();
    const name = schema();
    const a = await PostgresStore.open(url, { schema: name });
    const b = await PostgresStore.open(url, { schema: name });
    const seen: number[] = [];
    b.onCommit((rv) => seen.push(rv));
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const killed = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [`switchyard-listen:${name}`]);
      expect(killed.rowCount).toBe(2);
      const [x] = await a.commit([{ op: 'create', kind: 'K', name: 'x', body: {} }]);
      await expect.poll(() => seen.includes(x!.rv), { timeout: 15_000 }).toBe(true);
      const [y] = await a.commit([{ op: 'update', kind: 'K', name: 'x', body: { v: 2 } }]);
      await expect.poll(() => seen.includes(y!.rv), { timeout: 15_000 }).toBe(true);
    } finally {
      await admin.end();
      await a.close();
      await b.close();
    }
  });

  it('openStore picks PostgreSQL for postgres:// URLs, with ?schema=', async () => {
    const name = schema();
    const url = new URL(await db.url());
    url.searchParams.set('schema', name);
    const store = await openStore(url.toString(), '/nonexistent');
    expect(store.driver).toBe('postgres');
    expect((store as PostgresStore).schema).toBe(name);
    await store.close();
  });

  it('rejects an invalid schema name', async () => {
    await expect(PostgresStore.open(await db.url(), { schema: 'Robert"; DROP TABLE x' })).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});
