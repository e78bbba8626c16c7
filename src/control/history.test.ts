import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GitHistory } from './history.js';
import type { SpecChange } from './resources.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
async function open(): Promise<GitHistory> {
  const d = mkdtempSync(join(tmpdir(), 'sy-history-'));
  dirs.push(d);
  return GitHistory.open(join(d, 'history'));
}
const manifest = (replicas: number) => ({ apiVersion: 'switchyard.dev/v1', kind: 'Function', metadata: { name: 'f' }, spec: { model: 'org/m', runtime: 'sim', scaling: { minReplicas: replicas } } });
const change = (action: SpecChange['action'], replicas: number | null, who = 'alice', generation = 1): SpecChange => ({ kind: 'Function', name: 'f', action, actor: { name: who }, manifest: replicas === null ? null : manifest(replicas), generation });

describe('GitHistory', () => {
  it('commits one change per call, authored by the caller, newest first', async () => {
    const h = await open();
    await h.record([change('created', 1)]);
    await h.record([change('configured', 2, 'bob', 2)]);
    await h.record([change('configured', 2, 'bob', 2)]); // no difference → no commit
    const log = await h.log('Function', 'f');
    expect(log.map((e) => [e.author, e.message])).toEqual([
      ['bob', 'update Function/f (generation 2)'],
      ['alice', 'create Function/f (generation 1)'],
    ]);
    expect(await h.show('Function', 'f', log[1]!.revision.slice(0, 8))).toEqual(manifest(1));
  });

  it('rejects unknown revisions and revisions where the resource did not exist', async () => {
    const h = await open();
    await h.record([change('created', 1)]);
    await h.record([change('deleted', null, 'alice', 0)]);
    const log = await h.log('Function', 'f');
    expect(log[0]?.message).toBe('delete Function/f');
    await expect(h.show('Function', 'f', 'deadbeef')).rejects.toMatchObject({ code: 'not_found' });
    await expect(h.show('Function', 'f', log[0]!.revision)).rejects.toThrow(/did not exist/);
    await expect(h.show('Function', 'f', '; rm -rf /')).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  it('sync records what a crash lost: changed, missing and deleted resources', async () => {
    const h = await open();
    await h.record([change('created', 1)]);
    const n = await h.sync([{ kind: 'Function', name: 'f', manifest: manifest(5) }, { kind: 'Cluster', name: 'c', manifest: { apiVersion: 'switchyard.dev/v1', kind: 'Cluster', metadata: { name: 'c' }, spec: { provider: 'local' } } }]);
    expect(n).toBe(2);
    expect((await h.log('Function', 'f'))[0]?.message).toMatch(/recorded at start-up/);
    expect(await h.sync([{ kind: 'Function', name: 'f', manifest: manifest(5) }])).toBe(1); // Cluster c deleted
    expect(await h.sync([{ kind: 'Function', name: 'f', manifest: manifest(5) }])).toBe(0);
  });
});
