/**
 * PostgreSQL for tests: `SWITCHYARD_TEST_DATABASE_URL` when set, otherwise a private throwaway
 * server (initdb into a temp dir, listening on 127.0.0.1 and a free port). Without either,
 * PostgreSQL suites are skipped with the reason, except under CI, where they fail loudly.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { describeWithServer } from './servers.js';

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;

/** The directory holding `initdb` and `postgres`: PATH first, then /usr/lib/postgresql/<newest>/bin. */
export function findPostgresBin(): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) dirs.push(...readdirSync(root).sort((a, b) => Number(b) - Number(a)).map((v) => join(root, v, 'bin')));
  return dirs.find((d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'postgres')));
}

/** Postgres refuses to run as root: run its binaries as the `postgres` user then. */
const asPostgres = (cmd: string, args: string[]): [string, string[]] => (isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface PostgresServer {
  readonly url: string;
  stop(): Promise<void>;
}

/** Start a private PostgreSQL server in a temp dir (trust auth, user `postgres`, fsync off). */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = findPostgresBin();
  if (!bin) throw new Error('no PostgreSQL binaries (initdb, postgres) on PATH or in /usr/lib/postgresql/*/bin');
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-pg-'));
  const data = join(dir, 'data');
  try {
    if (isRoot) {
      const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
      chownSync(dir, Number(uid.stdout.trim()), Number(gid.stdout.trim()));
    }
    const [initCmd, initArgs] = asPostgres(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-N', '-E', 'UTF8', '--locale=C']);
    await run(initCmd, initArgs);
    for (let attempt = 1; ; attempt++) {
      try {
        return await launch(bin, dir, data, await freePort());
      } catch (e) {
        if (attempt >= 3 || !/could not (bind|create)/i.test(String(e))) throw e; // lost a port race: try another
      }
    }
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

async function launch(bin: string, dir: string, data: string, port: number): Promise<PostgresServer> {
  const [cmd, args] = asPostgres(join(bin, 'postgres'), ['-D', data, '-k', dir, '-h', '127.0.0.1', '-p', String(port), '-F', '-c', 'max_connections=200']);
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let alive = true;
  void exited.then(() => { alive = false; });
  const postmasterPid = (): number | undefined => {
    try {
      return Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]) || undefined;
    } catch {
      return undefined;
    }
  };
  const kill = (signal: NodeJS.Signals): void => {
    try {
      process.kill(postmasterPid() ?? child.pid!, signal);
    } catch { /* already gone */ }
  };
  const onExit = (): void => kill('SIGQUIT');
  process.once('exit', onExit);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const stop = async (): Promise<void> => {
    process.removeListener('exit', onExit);
    if (alive) {
      kill('SIGINT'); // fast shutdown
      const timer = setTimeout(() => kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (!alive) {
      process.removeListener('exit', onExit);
      throw new Error(`postgres exited during startup: ${stderr}`);
    }
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.end();
      return { url, stop };
    } catch (e) {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`postgres not ready after 60 s: ${e instanceof Error ? e.message : String(e)}\n${stderr}`);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50)); // poll interval
  }
}

/** The PostgreSQL a test file uses: available or not (and why), started lazily, stopped once. */
export interface TestPostgres {
  readonly available: boolean;
  readonly reason: string;
  url(): Promise<string>;
  stop(): Promise<void>;
}

export function testPostgres(): TestPostgres {
  const fromEnv = process.env.SWITCHYARD_TEST_DATABASE_URL;
  if (fromEnv) return { available: true, reason: 'SWITCHYARD_TEST_DATABASE_URL', url: async () => fromEnv, stop: async () => undefined };
  const bin = findPostgresBin();
  if (!bin) {
    const reason = 'no SWITCHYARD_TEST_DATABASE_URL and no PostgreSQL binaries (initdb/postgres) on PATH or in /usr/lib/postgresql/*/bin';
    return { available: false, reason, url: () => Promise.reject(new Error(reason)), stop: async () => undefined };
  }
  let server: Promise<PostgresServer> | undefined;
  return {
    available: true,
    reason: `private server from ${bin}`,
    url: async () => (await (server ??= startPostgres())).url,
    stop: async () => {
      if (server) await (await server).stop();
    },
  };
}

/** Register a suite that needs PostgreSQL (skipped locally when unavailable; failing under CI). */
export function describeWithPostgres(name: string, body: (db: TestPostgres) => void): void {
  describeWithServer('PostgreSQL', testPostgres(), name, body);
}

let schemas = 0;
/** A schema name unique to this run and process, so concurrent runs on one database never collide. */
export function uniqueSchema(tag: string): string {
  return `sy_${tag}_${process.pid}_${randomBytes(3).toString('hex')}_${schemas++}`;
}

/** Drop test schemas (a no-op for ones that were never created). */
export async function dropSchemas(url: string, names: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const name of names) await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  } finally {
    await client.end();
  }
}
