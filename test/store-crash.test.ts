/**
 * Crash safety: a child process commits in a loop and prints each rv once commit() has
 * resolved; we kill -9 it mid-stream, reopen the store, and check that every acknowledged
 * write is there and the store is consistent (contiguous events, further commits work).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore, SqliteStore } from '../src/store/index.js';
import type { ResourceStore } from '../src/store/index.js';
import { describeWithPostgres, dropSchemas, uniqueSchema } from './helpers/postgres.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const ACKS = 150;

/** The child: each iteration creates one object and bumps a counter (expectRv) in one batch. */
const CHILD = `
const { SqliteStore, PostgresStore } = await import(process.env.STORE_MODULE);
const { STORE_DRIVER: driver, STORE_TARGET: target, STORE_SCHEMA: schema } = process.env;
const store = driver === 'sqlite' ? await SqliteStore.open(target) : await PostgresStore.open(target, { schema });
let [counter] = await store.commit([{ op: 'create', kind: 'Counter', name: 'c', body: { n: -1 } }]);
for (let i = 0; ; i++) {
  const out = await store.commit([
    { op: 'create', kind: 'Crash', name: 'obj-' + i, body: { i, pad: 'x'.repeat(500) } },
    { op: 'update', kind: 'Counter', name: 'c', body: { n: i }, expectRv: counter.rv },
  ]);
  counter = out[1];
  process.stdout.write(JSON.stringify({ i, rv: out[0].rv, counterRv: counter.rv }) + '\\n');
}
`;

interface Ack { i: number; rv: number; counterRv: number }

/** Run the child until it has acknowledged `ACKS` commits, kill -9 it, and return every ack it printed. */
async function crashAfterAcks(env: Record<string, string>): Promise<Ack[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
    cwd: repo,
    env: { ...process.env, ...env, STORE_MODULE: pathToFileURL(join(repo, 'src/store/index.ts')).href },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  const acks: Ack[] = [];
  const lines = createInterface({ input: child.stdout });
  const drained = new Promise<void>((resolve) => lines.once('close', resolve));
  const enough = new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`only ${acks.length} acks within 60 s; stderr: ${stderr}`)), 60_000);
    lines.on('line', (line) => {
      acks.push(JSON.parse(line) as Ack);
      if (acks.length === ACKS) {
        clearTimeout(deadline);
        resolve();
      }
    });
    void exited.then((how) => {
      clearTimeout(deadline);
      reject(new Error(`child exited early (${how}); stderr: ${stderr}`));
    });
  });
  try {
    await enough;
  } finally {
    child.kill('SIGKILL');
  }
  expect(await exited).toBe('SIGKILL');
  await drained; // acks printed before the kill landed count too
  return acks;
}

/** Every acknowledged write is present, events are contiguous and match the objects, and the store still works. */
async function verify(store: ResourceStore, acks: readonly Ack[]): Promise<number> {
  const last = acks[acks.length - 1]!;
  const rv = await store.currentRv();
  expect(rv).toBeGreaterThanOrEqual(last.counterRv);
  for (const ack of acks) {
    const obj = await store.get('Crash', `obj-${ack.i}`);
    expect(obj, `acknowledged obj-${ack.i}`).toMatchObject({ rv: ack.rv, body: { i: ack.i } });
  }
  const counter = await store.get('Counter', 'c');
  expect(counter!.rv).toBeGreaterThanOrEqual(last.counterRv);
  expect(counter!.body.n as number).toBeGreaterThanOrEqual(last.i);
  const events = await store.eventsSince(0, rv + 10);
  expect(events.map((e) => e.rv)).toEqual(Array.from({ length: rv }, (_, i) => i + 1));
  const objects = await store.list('Crash');
  const added = events.filter((e) => e.kind === 'Crash' && e.type === 'ADDED');
  const byName = added.map((e) => [e.name, e.rv] as const).sort((x, y) => (x[0] < y[0] ? -1 : 1));
  expect(objects.map((o) => [o.name, o.rv])).toEqual(byName);
  expect(counter!.rv).toBe(events.filter((e) => e.kind === 'Counter').at(-1)!.rv);
  const [next] = await store.commit([{ op: 'update', kind: 'Counter', name: 'c', body: { n: 'after' }, expectRv: counter!.rv }]);
  expect(next!.rv).toBe(rv + 1);
  return next!.rv;
}

describe('SqliteStore crash safety', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-crash-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every acknowledged commit across kill -9', async () => {
    const path = join(dir, 'crash.db');
    const acks = await crashAfterAcks({ STORE_DRIVER: 'sqlite', STORE_TARGET: path });
    expect(acks.length).toBeGreaterThanOrEqual(ACKS);
    const store = await SqliteStore.open(path);
    const finalRv = await verify(store, acks);
    await store.close();
    const again = await SqliteStore.open(path);
    expect(await again.currentRv()).toBe(finalRv);
    await again.close();
  }, 120_000);
});

describeWithPostgres('PostgresStore crash safety', (db) => {
  const schema = uniqueSchema('crash');
  afterAll(async () => dropSchemas(await db.url(), [schema]));

  it('keeps every acknowledged commit across kill -9 of a client', async () => {
    const url = await db.url();
    const acks = await crashAfterAcks({ STORE_DRIVER: 'postgres', STORE_TARGET: url, STORE_SCHEMA: schema });
    const store = await PostgresStore.open(url, { schema });
    try {
      expect(await verify(store, acks)).toBeGreaterThan(acks.at(-1)!.counterRv);
    } finally {
      await store.close();
    }
  }, 120_000);
});
