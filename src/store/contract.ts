/**
 * The ResourceStore contract suite: every implementation's test file calls
 * `describeResourceStoreContract` with a factory, and must pass all of it. Test-only: not
 * exported from ./index.ts (it imports vitest).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { usageAndAuditCases } from './contract-usage.js';
import type { JsonObject, ResourceStore, WriteOp } from './types.js';

/**
 * Opens a store for one test. Without `peer`: a fresh, empty, isolated store. With `peer`:
 * another instance on the same database as `peer` (same file, same Postgres schema), as a
 * second process or control-plane replica would open it.
 */
export type OpenResourceStore = (peer?: ResourceStore) => Promise<ResourceStore>;

const K = 'Widget';
const create = (name: string, body: JsonObject = { name }, kind = K): WriteOp => ({ op: 'create', kind, name, body });
const update = (name: string, body: JsonObject, expectRv?: number): WriteOp => ({ op: 'update', kind: K, name, body, expectRv });
const del = (name: string, expectRv?: number): WriteOp => ({ op: 'delete', kind: K, name, expectRv });

/** Register the contract suite for one implementation. `cleanup` runs once after the suite. */
export function describeResourceStoreContract(name: string, open: OpenResourceStore, cleanup?: () => Promise<void>): void {
  describe(`ResourceStore contract: ${name}`, () => {
    const opened: ResourceStore[] = [];
    const fresh = async (peer?: ResourceStore): Promise<ResourceStore> => {
      const store = await open(peer);
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });
    if (cleanup) afterAll(cleanup);

    it('starts empty', async () => {
      const s = await fresh();
      expect(typeof s.driver).toBe('string');
      expect(await s.currentRv()).toBe(0);
      expect(await s.get(K, 'a')).toBeUndefined();
      expect(await s.list(K)).toEqual([]);
      expect(await s.eventsSince(0)).toEqual([]);
      expect(await s.commit([])).toEqual([]);
      expect(await s.currentRv()).toBe(0);
    });

    it('creates, gets, and lists by kind sorted by name', async () => {
      const s = await fresh();
      const names = ['b', 'a', 'B', 'a-1', 'a_1', '10', '9', 'zz'];
      for (const n of names) await s.commit([create(n, { n })]);
      await s.commit([create('a', { other: true }, 'Gadget')]);
      const got = await s.get(K, 'a-1');
      expect(got).toEqual({ kind: K, name: 'a-1', rv: 4, body: { n: 'a-1' } });
      const list = await s.list(K);
      expect(list.map((o) => o.name)).toEqual([...names].sort());
      expect(list.every((o) => o.kind === K && o.body.n === o.name)).toBe(true);
      expect((await s.list('Gadget')).map((o) => o.body)).toEqual([{ other: true }]);
      expect(await s.list('Nothing')).toEqual([]);
    });

    it('rejects a create of an existing object with already_exists', async () => {
      const s = await fresh();
      await s.commit([create('a')]);
      await expect(s.commit([create('a')])).rejects.toMatchObject({ code: 'already_exists', status: 409 });
      await expect(s.commit([create('b'), create('b')])).rejects.toMatchObject({ code: 'already_exists' });
    });

    it('rejects an update or delete of a missing object with not_found', async () => {
      const s = await fresh();
      await expect(s.commit([update('a', { x: 1 })])).rejects.toMatchObject({ code: 'not_found', status: 404 });
      await expect(s.commit([del('a')])).rejects.toMatchObject({ code: 'not_found' });
      await s.commit([create('a', { x: 1 }, 'Other')]);
      await expect(s.commit([del('a')])).rejects.toMatchObject({ code: 'not_found' });
    });

    it('checks expectRv: a stale one is a conflict, the current one wins', async () => {
      const s = await fresh();
      const [a] = await s.commit([create('a', { v: 1 })]);
      const [a2] = await s.commit([update('a', { v: 2 }, a!.rv)]);
      await expect(s.commit([update('a', { v: 3 }, a!.rv)])).rejects.toMatchObject({ code: 'conflict', status: 409 });
      await expect(s.commit([del('a', a!.rv)])).rejects.toMatchObject({ code: 'conflict' });
      expect((await s.get(K, 'a'))?.body).toEqual({ v: 2 });
      const [gone] = await s.commit([del('a', a2!.rv)]);
      expect(gone!.body).toEqual({ v: 2 });
    });

    it('applies a batch atomically: a failing third op applies nothing and consumes no rv', async () => {
      const s = await fresh();
      const [x] = await s.commit([create('x', { v: 1 })]);
      const before = await s.currentRv();
      let fired = 0;
      s.onCommit(() => fired++);
      for (const third of [create('x'), update('x', { v: 9 }, x!.rv + 100), del('missing')]) {
        await expect(s.commit([create('a'), update('x', { v: 2 }), third])).rejects.toHaveProperty('code');
        expect(await s.currentRv()).toBe(before);
        expect(await s.eventsSince(before)).toEqual([]);
        expect(await s.get(K, 'a')).toBeUndefined();
        expect(await s.get(K, 'x')).toEqual(x);
      }
      expect(fired).toBe(0);
      const [next] = await s.commit([create('a')]);
      expect(next!.rv).toBe(before + 1);
    });

    it('stamps strictly increasing rvs across batches, consecutive within a batch', async () => {
      const s = await fresh();
      const first = await s.commit([create('a'), create('b'), create('c')]);
      expect(first.map((o) => o.rv)).toEqual([1, 2, 3]);
      const second = await s.commit([update('a', { v: 2 }, 1), del('b', 2), create('d')]);
      expect(second.map((o) => o.rv)).toEqual([4, 5, 6]);
      expect(second.map((o) => o.name)).toEqual(['a', 'b', 'd']);
      expect(await s.currentRv()).toBe(6);
      expect((await s.eventsSince(0)).map((e) => [e.rv, e.type, e.name])).toEqual([
        [1, 'ADDED', 'a'], [2, 'ADDED', 'b'], [3, 'ADDED', 'c'], [4, 'MODIFIED', 'a'], [5, 'DELETED', 'b'], [6, 'ADDED', 'd'],
      ]);
    });

    it('lets later ops in a batch see earlier ones', async () => {
      const s = await fresh();
      const out = await s.commit([create('a', { v: 1 }), update('a', { v: 2 }, 1), update('a', { v: 3 }, 2), del('a', 3), create('a', { v: 5 })]);
      expect(out.map((o) => [o.rv, o.body.v])).toEqual([[1, 1], [2, 2], [3, 3], [4, 3], [5, 5]]);
      expect(await s.get(K, 'a')).toEqual({ kind: K, name: 'a', rv: 5, body: { v: 5 } });
    });

    it('returns the last body from a delete, stamped with the delete rv, and logs it', async () => {
      const s = await fresh();
      await s.commit([create('a', { v: 1 })]);
      await s.commit([update('a', { v: 2, deep: { list: [1, 2] } })]);
      const [deleted] = await s.commit([del('a')]);
      expect(deleted).toEqual({ kind: K, name: 'a', rv: 3, body: { v: 2, deep: { list: [1, 2] } } });
      expect(await s.get(K, 'a')).toBeUndefined();
      expect(await s.list(K)).toEqual([]);
      expect(await s.eventsSince(2)).toEqual([{ rv: 3, type: 'DELETED', kind: K, name: 'a', body: { v: 2, deep: { list: [1, 2] } } }]);
    });

    it('serves eventsSince oldest first with a limit', async () => {
      const s = await fresh();
      for (let i = 0; i < 7; i++) await s.commit([create(`o${i}`, { i })]);
      expect((await s.eventsSince(0)).map((e) => e.rv)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect((await s.eventsSince(2, 3)).map((e) => e.rv)).toEqual([3, 4, 5]);
      expect((await s.eventsSince(6, 10)).map((e) => [e.rv, e.type, e.name, e.body])).toEqual([[7, 'ADDED', 'o6', { i: 6 }]]);
      expect(await s.eventsSince(7)).toEqual([]);
      expect(await s.eventsSince(100)).toEqual([]);
    });

    it('compacts: a too-old rv is gone (410), recent ones still work, objects stay', async () => {
      const s = await fresh();
      for (let i = 0; i < 10; i++) await s.commit([create(`o${i}`)]);
      await s.compact(3);
      expect((await s.eventsSince(7)).map((e) => e.rv)).toEqual([8, 9, 10]);
      expect((await s.eventsSince(9)).map((e) => e.rv)).toEqual([10]);
      expect(await s.eventsSince(10)).toEqual([]);
      for (const old of [0, 5, 6]) await expect(s.eventsSince(old)).rejects.toMatchObject({ code: 'gone', status: 410 });
      await s.compact(5); // keeps more than exist after the floor: no-op, never un-compacts
      await expect(s.eventsSince(6)).rejects.toMatchObject({ code: 'gone' });
      expect(await s.list(K)).toHaveLength(10);
      await s.compact(0);
      expect(await s.eventsSince(10)).toEqual([]);
      await expect(s.eventsSince(9)).rejects.toMatchObject({ code: 'gone' });
      const [next] = await s.commit([create('after')]);
      expect(next!.rv).toBe(11);
      expect((await s.eventsSince(10)).map((e) => e.name)).toEqual(['after']);
    });

    it('never reuses an rv: not after delete and recreate, compaction, or reopening', async () => {
      const s = await fresh();
      await s.commit([create('a')]);
      await s.commit([del('a')]);
      const [again] = await s.commit([create('a')]);
      expect(again!.rv).toBe(3);
      await s.commit([del('a')]);
      await s.compact(0);
      expect(await s.currentRv()).toBe(4);
      await s.close();
      const reopened = await fresh(s);
      expect(await reopened.currentRv()).toBe(4);
      expect(await reopened.get(K, 'a')).toBeUndefined();
      await expect(reopened.eventsSince(3)).rejects.toMatchObject({ code: 'gone' });
      const [third] = await reopened.commit([create('a')]);
      expect(third!.rv).toBe(5);
    });

    it('calls onCommit after each commit with the new rv; unsubscribe stops it', async () => {
      const s = await fresh();
      const seen: number[] = [];
      const off = s.onCommit((rv) => seen.push(rv));
      const [a] = await s.commit([create('a')]);
      const batch = await s.commit([create('b'), create('c')]);
      await expect.poll(() => seen).toEqual([a!.rv, batch[1]!.rv]);
      expect((await s.eventsSince(a!.rv)).map((e) => e.name)).toEqual(['b', 'c']);
      off();
      await s.commit([create('d')]);
      await s.setMeta('k', 'v');
      expect(seen).toHaveLength(2);
    });

    it('keeps meta values apart from resources', async () => {
      const s = await fresh();
      expect(await s.getMeta('token')).toBeUndefined();
      await s.setMeta('token', 'h1');
      await s.setMeta('other', 'ünïcødé ✓ 🚀');
      expect(await s.getMeta('token')).toBe('h1');
      await s.setMeta('token', 'h2');
      expect(await s.getMeta('token')).toBe('h2');
      expect(await s.getMeta('other')).toBe('ünïcødé ✓ 🚀');
      await s.setMeta('empty', '');
      expect(await s.getMeta('empty')).toBe('');
      expect(await s.currentRv()).toBe(0);
      expect(await s.eventsSince(0)).toEqual([]);
    });

    it('round-trips JSON: nesting, unicode, escapes, a ~1 MB body', async () => {
      const s = await fresh();
      const nested: JsonObject = {
        a: { b: { c: [1, 2.5, -3e10, true, false, null, { d: 'e' }] } }, empty: {}, list: [],
        text: 'héllo wörld — 日本語 — 🚀👩‍👩‍👧 — "quotes" \\ back\nnew\ttab \u0000 nul', int: Number.MAX_SAFE_INTEGER,
      };
      const big: JsonObject = { blob: 'x'.repeat(1024 * 1024), rows: Array.from({ length: 2000 }, (_, i) => ({ i, s: `r${i}` })) };
      const [n, b] = await s.commit([create('nested', nested), create('big', big)]);
      expect(n!.body).toEqual(nested);
      expect(b!.body).toEqual(big);
      expect((await s.get(K, 'nested'))!.body).toEqual(nested);
      expect((await s.get(K, 'big'))!.body).toEqual(big);
      expect(Object.keys((await s.get(K, 'nested'))!.body)).toEqual(Object.keys(nested));
      expect((await s.eventsSince(0)).map((e) => e.body)).toEqual([nested, big]);
      await s.commit([create('名前 🚀', { ok: 1 })]);
      expect((await s.get(K, '名前 🚀'))?.body).toEqual({ ok: 1 });
    });

    it('rejects invalid input with invalid_argument', async () => {
      const s = await fresh();
      await expect(s.commit([{ op: 'create', kind: '', name: 'a', body: {} }])).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(s.commit([{ op: 'create', kind: K, name: 'a', body: [] as unknown as JsonObject }])).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(s.eventsSince(0, 0)).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(s.compact(-1)).rejects.toMatchObject({ code: 'invalid_argument' });
      expect(await s.currentRv()).toBe(0);
    });

    it('lets exactly one of many concurrent writers with the same expectRv win', async () => {
      const a = await fresh();
      const b = await fresh(a);
      const [obj] = await a.commit([create('hot', { v: 0 })]);
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).commit([update('hot', { v: i + 1 }, obj!.rv)])));
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'conflict' });
      expect(await a.currentRv()).toBe(obj!.rv + 1);
      const creates = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).commit([create('same'), create(`distinct-${i}`)])));
      expect(creates.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rvs = (await b.eventsSince(0)).map((e) => e.rv);
      expect(rvs).toEqual(Array.from({ length: obj!.rv + 3 }, (_, i) => i + 1));
    });

    it('shares one database between two instances: writes and commit notifications', async () => {
      const a = await fresh();
      const b = await fresh(a);
      const seenByB: number[] = [];
      b.onCommit((rv) => seenByB.push(rv));
      const [x] = await a.commit([create('x', { from: 'a' })]);
      expect(await b.get(K, 'x')).toEqual(x);
      await expect.poll(() => seenByB.includes(x!.rv), { timeout: 10_000 }).toBe(true);
      const [y] = await b.commit([update('x', { from: 'b' }, x!.rv)]);
      expect(await a.get(K, 'x')).toEqual(y);
      expect(await a.currentRv()).toBe(y!.rv);
      expect((await a.eventsSince(0)).map((e) => e.body.from)).toEqual(['a', 'b']);
      await a.setMeta('shared', '1');
      expect(await b.getMeta('shared')).toBe('1');
    });

    usageAndAuditCases(fresh);

    it('closes idempotently and refuses work afterwards', async () => {
      const s = await fresh();
      await s.close();
      await s.close();
      await expect(s.get(K, 'a')).rejects.toMatchObject({ code: 'unavailable' });
    });
  });
}
