/** SqliteStore: the shared contract on temp files, plus SQLite specifics (pragmas, migrations, openStore). */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { describeResourceStoreContract } from './contract.js';
import { openStore, SqliteStore } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'switchyard-sqlite-'));
let n = 0;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeResourceStoreContract('sqlite', async (peer) => SqliteStore.open(peer instanceof SqliteStore ? peer.path : join(dir, `contract-${n++}.db`)));

describe('SqliteStore', () => {

  it('uses WAL and records its schema version in user_version', async () => {
    const path = join(dir, 'pragmas.db');
    const store = await SqliteStore.open(path);
    await store.commit([{ op: 'create', kind: 'K', name: 'a', body: {} }]);
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('user_version', { simple: true })).toBe(2);
    raw.close();
    await store.close();
  });

  it('refuses a database written by a newer schema version', async () => {
    const path = join(dir, 'newer.db');
    await (await SqliteStore.open(path)).close();
    const raw = new Database(path);
    raw.pragma('user_version = 99');
    raw.close();
    await expect(SqliteStore.open(path)).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('works in memory', async () => {
    const store = await SqliteStore.open(':memory:');
    expect((await store.commit([{ op: 'create', kind: 'K', name: 'a', body: { x: 1 } }]))[0]?.rv).toBe(1);
    await store.close();
  });

  it('openStore picks SQLite for no URL and sqlite: URLs, and rejects unknown schemes', async () => {
    const dataDir = join(dir, 'data');
    const byDefault = await openStore(undefined, dataDir);
    expect(byDefault.driver).toBe('sqlite');
    expect(existsSync(join(dataDir, 'switchyard.db'))).toBe(true);
    await byDefault.close();
    const explicit = await openStore(`sqlite:${join(dir, 'explicit.db')}`, dataDir);
    expect((explicit as SqliteStore).path).toBe(join(dir, 'explicit.db'));
    await explicit.close();
    await (await openStore('sqlite::memory:', dataDir)).close();
    await expect(openStore('mysql://user:secret@host/db', dataDir)).rejects.toMatchObject({ code: 'invalid_config' });
  });
});
