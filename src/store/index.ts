/**
 * The resource store: JSON documents keyed by (kind, name), a global revision, and an event
 * log for watchers. SQLite (embedded, the default) and PostgreSQL (scaled out) implement the
 * same ResourceStore interface and pass the same contract suite (./contract.ts, tests only).
 */
import { join } from 'node:path';
import { SwitchyardError } from '../core/index.js';
import { PostgresStore } from './postgres.js';
import { SqliteStore } from './sqlite.js';
import type { ResourceStore } from './types.js';

export * from './types.js';
export { SqliteStore } from './sqlite.js';
export type { SqliteStoreOptions } from './sqlite.js';
export { PostgresStore } from './postgres.js';
export type { PostgresStoreOptions } from './postgres.js';

/** File name of the default SQLite database inside the data directory. */
export const DEFAULT_SQLITE_FILE = 'switchyard.db';

/**
 * Open the store a URL names:
 * - `undefined` or `''`: SQLite at `<dataDir>/switchyard.db`;
 * - `sqlite:PATH` (also `sqlite://PATH`): SQLite at PATH, relative to the working directory
 *   (`sqlite::memory:` for a private in-memory store; an empty PATH means the default file);
 * - `postgres://...` or `postgresql://...`: PostgreSQL; an optional `?schema=NAME` query
 *   parameter picks the schema (default `switchyard`) and is not passed to the driver.
 */
export async function openStore(url: string | undefined, dataDir: string): Promise<ResourceStore> {
  if (url === undefined || url === '') return SqliteStore.open(join(dataDir, DEFAULT_SQLITE_FILE));
  if (url.startsWith('sqlite:')) {
    let path = url.slice('sqlite:'.length);
    if (path.startsWith('//')) path = path.slice(2);
    if (path === '') return SqliteStore.open(join(dataDir, DEFAULT_SQLITE_FILE));
    return SqliteStore.open(path);
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const parsed = new URL(url);
    const schema = parsed.searchParams.get('schema') ?? undefined;
    parsed.searchParams.delete('schema');
    return PostgresStore.open(parsed.toString(), { schema });
  }
  throw new SwitchyardError('invalid_config', `unsupported store URL '${url.replace(/\/\/[^@/]*@/, '//***@')}': use sqlite:PATH, postgres://... or postgresql://...`, { param: 'store' });
}
