/**
 * The write side of the resource commands (apply, history, rollback) against a real, in-process
 * SwitchyardServer (see resources.fixture.ts).
 */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { codeOf } from '../../../test/helpers/errors.js';
import { waitFor } from '../../../test/helpers/wait.js';
import { API_VERSION } from '../../api/index.js';
import { SwitchyardError } from '../../core/index.js';
import { runCliCaptured } from '../framework-testing.js';
import { joinManifests, readSources } from './apply.js';
import { clusterYaml, commands, env, functionYaml, fx, MODEL, run, useResourceServer, write } from './resources.fixture.js';

useResourceServer();

describe('apply', () => {
  it('sends every manifest of a directory (sorted) plus other files in one request; a repeat is unchanged', async () => {
    const d = path.join(fx.dir, 'manifests');
    write('manifests/b-function.yaml', functionYaml('qwen', '  targetClusters: [edge]\n'));
    write('manifests/a-cluster.yml', clusterYaml('edge'));
    write('manifests/notes.txt', 'not a manifest');
    const extra = write('extra.yaml', functionYaml('phi'));
    const r = await run('apply', '-f', d, '-f', extra);
    expect(r).toMatchObject({ code: 0, stderr: '', stdout: 'cluster/edge created\nfunction/qwen created\nfunction/phi created\n' });

    expect(await fx.admin.get('Cluster', 'edge')).toMatchObject({ spec: { provider: 'static', region: 'lab', static: { endpoints: [{ url: fx.worker.url, model: MODEL }] } } });
    expect(await fx.admin.get('Function', 'qwen')).toMatchObject({ metadata: { generation: 1 }, spec: { runtime: 'vllm', servedName: MODEL, targetClusters: ['edge'] } });
    expect(await fx.admin.get('Function', 'phi')).toMatchObject({ metadata: { generation: 1 }, spec: { targetClusters: [] } });
    await waitFor(async () => (await fx.admin.get('Deployment', 'qwen-edge')).status?.phase === 'Ready', { timeoutMs: 15_000, what: 'qwen-edge Ready' });

    const again = await run('apply', '-f', d, '-f', extra);
    expect(again).toMatchObject({ code: 0, stdout: 'cluster/edge unchanged\nfunction/qwen unchanged\nfunction/phi unchanged\n' });
  });

  it('--dry-run prints the diffs and writes nothing', async () => {
    await fx.admin.apply(functionYaml('dry'));
    const changed = write('dry-changed.yaml', functionYaml('dry', '  args: [--max-num-seqs, "8"]\n'));
    const added = write('dry-new.yaml', functionYaml('ghost'));
    const r = await run('apply', '-f', changed, '-f', added, '--dry-run');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const [changedPart, addedPart] = r.stdout.split(/(?=^function\/ghost)/m);
    expect(changedPart).toMatch(/^function\/dry configured \(dry run\)\n--- Function\/dry \(generation 1\)\n\+\+\+ Function\/dry \(generation 2\)\n/);
    expect(changedPart).toMatch(/\n- {3}args: \[\]\n\+ {3}args:\n\+ {5}- --max-num-seqs\n\+ {5}- "8"\n/);
    expect(addedPart).toMatch(/^function\/ghost created \(dry run\)\n/);
    expect(addedPart).toContain('+ kind: Function\n');

    expect(await fx.admin.get('Function', 'dry')).toMatchObject({ metadata: { generation: 1 }, spec: { args: [] } });
    expect(await codeOf(fx.admin.get('Function', 'ghost'))).toBe('not_found');
    expect(await fx.admin.history('Function', 'dry')).toHaveLength(1);
    expect(await fx.admin.history('Function', 'ghost')).toEqual([]);
  });

  it('invalid manifests are reported per file with the line, and nothing is written', async () => {
    const good = write('good.yaml', functionYaml('never-a'));
    const bad = write('bad.yaml', functionYaml('never-b').replace('runtime: vllm', 'runtime: vlm'));
    const r = await run('apply', '-f', good, '-f', bad);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: 1 invalid manifest; nothing was applied:\n/);
    expect(r.stderr).toContain(bad);
    expect(r.stderr).not.toContain(good);
    expect(r.stderr).toMatch(/spec\.runtime/);
    expect(r.stderr).toMatch(/line 7/);
    expect(await codeOf(fx.admin.get('Function', 'never-a'))).toBe('not_found');
    expect(await codeOf(fx.admin.get('Function', 'never-b'))).toBe('not_found');
  });

  it('a resource defined in two files is reported with both file names, and nothing is written', async () => {
    const a = write('twin-a.yaml', functionYaml('twin'));
    const b = write('twin-b.yaml', functionYaml('twin', '  args: [--x]\n'));
    const r = await run('apply', '-f', a, '-f', b);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: ${b}: Function/twin is also defined in ${a}; each resource may appear once per apply\n`);
    expect(await codeOf(fx.admin.get('Function', 'twin'))).toBe('not_found');
  });

  it("the server's error message is printed unchanged (a stale resourceVersion → 409), and nothing is written", async () => {
    write('stale-0.yaml', functionYaml('stale'));
    expect((await run('apply', '-f', path.join(fx.dir, 'stale-0.yaml'))).code).toBe(0);
    const before = await fx.admin.get('Function', 'stale');
    const stale = write('stale.yaml', functionYaml('stale', '  args: [--x]\n').replace('  name: stale', '  name: stale\n  resourceVersion: "1"'));
    const r = await run('apply', '-f', stale);
    expect(r.code).toBe(1);
    const direct = await fx.admin.apply([{ apiVersion: API_VERSION, kind: 'Function', metadata: { name: 'stale', resourceVersion: '1' }, spec: { model: 'org/m', runtime: 'vllm', servedName: MODEL, args: ['--x'] } }]).then(
      () => 'applied',
      (e: unknown) => (e instanceof SwitchyardError ? e.message : String(e)),
    );
    expect(direct).toMatch(/was changed since you read it/);
    expect(r.stderr).toBe(`error: ${direct}\n`);
    expect((await fx.admin.get('Function', 'stale')).metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });

  it('a missing file, or no -f at all', async () => {
    const r = await run('apply', '-f', path.join(fx.dir, 'nope.yaml'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nope.yaml: no such file or directory');
    const u = await run('apply');
    expect(u.code).toBe(2);
    expect(u.stderr).toContain('give at least one manifest with -f');
  });

  it("'-' reads stdin once; texts are joined as YAML documents", async () => {
    const text = functionYaml('stdin-fn');
    const sources = await readSources(['-'], async () => text);
    expect(sources).toEqual([{ label: 'stdin', text }]);
    await expect(readSources(['-', '-'], async () => text)).rejects.toThrow(/only once/);
    expect(joinManifests([{ label: 'a', text: 'a: 1' }, { label: 'b', text: 'b: 2\n' }])).toBe('a: 1\n---\nb: 2\n');
  });
});

describe('history and rollback', () => {
  const ROW = (author: string, message: string) => new RegExp(`^([0-9a-f]{7})\\s{4}(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ)\\s+${author}\\s+${message.replace(/[()]/g, '\\$&')}$`);
  const historyOf = (name: string, n: number) =>
    waitFor(async () => {
      const h = await fx.admin.history('Function', name);
      return h.length === n ? h : undefined;
    }, { what: `${n} history entries of Function/${name}` });
  /** Function `name` created by alice (env), then given args by bob (--user); its two history entries, newest first. */
  async function twoRevisions(name: string) {
    const f = write(`${name}.yaml`, functionYaml(name));
    expect((await run('apply', '-f', f)).stdout).toBe(`function/${name} created\n`);
    write(`${name}.yaml`, functionYaml(name, '  args: [--max-num-seqs, "8"]\n'));
    expect((await run('apply', '-f', f, '--user', 'bob')).stdout).toBe(`function/${name} configured\n`);
    return historyOf(name, 2);
  }

  it('history: KIND/NAME and KIND NAME, short revisions, newest first, authored by the CLI user', async () => {
    const entries = await twoRevisions('hist');
    for (const argv of [['history', 'function/hist'], ['history', 'fn', 'hist']]) {
      const r = await run(...argv);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      const lines = r.stdout.split('\n');
      expect(lines).toHaveLength(4);
      expect(lines[0]).toBe('REVISION   DATE                   AUTHOR   MESSAGE');
      expect(lines[1]).toMatch(ROW('bob', 'update Function/hist (generation 2)'));
      expect(lines[2]).toMatch(ROW('alice', 'create Function/hist (generation 1)'));
      expect(lines[3]).toBe('');
      expect([ROW('bob', '.*').exec(lines[1]!)?.[1], ROW('alice', '.*').exec(lines[2]!)?.[1]]).toEqual(entries.map((e) => e.revision.slice(0, 7)));
    }
    const json = await run('history', 'function/hist', '-o', 'json');
    expect(JSON.parse(json.stdout)).toEqual(entries);
    expect(await run('history', 'function/never-existed')).toMatchObject({ code: 0, stdout: '', stderr: 'No history for function/never-existed.\n' });
    expect((await run('history', 'function')).code).toBe(2);
  });

  it('rollback restores the spec as a new revision', async () => {
    const [, created] = await twoRevisions('rb');
    const rev = created!.revision.slice(0, 7);
    const r = await runCliCaptured(['rollback', 'function/rb', '--to', rev, '--user', 'carol'], commands, { env: env() });
    expect(r).toMatchObject({ code: 0, stderr: '', stdout: `function/rb rolled back to ${rev} (generation 3)\n` });
    expect(await fx.admin.get('Function', 'rb')).toMatchObject({ metadata: { generation: 3 }, spec: { args: [] } });
    const after = await historyOf('rb', 3);
    expect(after[0]).toMatchObject({ author: 'carol', message: `update Function/rb (generation 3): rollback to ${rev}` });

    const bad = await run('rollback', 'function/rb', '--to', 'deadbee');
    expect(bad).toMatchObject({ code: 1, stderr: "error: revision 'deadbee' is not in the history of Function/rb; see 'switchyard history functions/rb'\n" });
    expect((await fx.admin.get('Function', 'rb')).metadata.generation).toBe(3);
  });
});
