/**
 * The resource commands against a real, in-process SwitchyardServer (embedded SQLite, git
 * history, reconciler, admin API) on 127.0.0.1. Replicas come from a static Cluster whose
 * endpoint is an in-process SimWorker, so Deployments become Ready without child processes.
 *
 * Suites share the server and run in order: the empty-server suite comes first.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { waitFor } from '../../../test/helpers/wait.js';
import { API_VERSION, SwitchyardClient, type Kind } from '../../api/index.js';
import { SwitchyardError } from '../../core/index.js';
import { SimWorker } from '../../engines/index.js';
import { SwitchyardServer } from '../../server.js';
import { validateCommand } from '../framework.js';
import { runCliCaptured } from '../framework-testing.js';
import { agentCommand } from './agent.js';
import { applyCommand, joinManifests, readSources } from './apply.js';
import { deleteCommand } from './delete.js';
import { describeCommand } from './describe.js';
import { getCommand } from './get.js';
import { historyCommand } from './history.js';
import { logsCommand } from './logs.js';
import { rollbackCommand } from './rollback.js';
import { codeOf } from '../../../test/helpers/errors.js';

const commands = [applyCommand, getCommand, describeCommand, deleteCommand, historyCommand, rollbackCommand, logsCommand, agentCommand];

const TOKEN = 'sy-cli-resources-test';
const BIN = fileURLToPath(new URL('../../../bin/switchyard.js', import.meta.url));
/** The model the SimWorker serves; Functions name it as servedName to get its endpoint. */
const MODEL = 'm-sim';
const AGE = /\d+[smhdy]/.source;

let dir: string;
let worker: SimWorker;
let server: SwitchyardServer;
/** For fixtures and for checking what the commands did; its writes are authored by 'setup'. */
let admin: SwitchyardClient;

const env = (user = 'alice') => ({ SWITCHYARD_SERVER: server.url, SWITCHYARD_TOKEN: TOKEN, SWITCHYARD_USER: user });
const run = (...argv: string[]) => runCliCaptured(argv, commands, { env: env() });

/** `apiVersion ... runtime: vllm` with `runtime` on line 7, then `extra` (more spec lines, indented two spaces). */
const functionYaml = (name: string, extra = '') => `apiVersion: ${API_VERSION}
kind: Function
metadata:
  name: ${name}
spec:
  model: org/m
  runtime: vllm
  servedName: ${MODEL}
${extra}`;
const clusterYaml = (name: string) => `apiVersion: ${API_VERSION}
kind: Cluster
metadata:
  name: ${name}
spec:
  provider: static
  region: lab
  static:
    endpoints:
      - url: ${worker.url}
        model: ${MODEL}
`;

/** The error code a call fails with, or 'ok'. */
const exists = async (kind: Kind, name: string) => (await codeOf(admin.get(kind, name))) === 'ok';

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** A port on 127.0.0.1 that was free a moment ago and has nothing listening on it. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'switchyard-cli-'));
  worker = await SimWorker.start({ model: MODEL, port: 0, speedup: 50 });
  server = await SwitchyardServer.start({ dataDir: path.join(dir, 'data'), port: 0, adminToken: TOKEN, switchyardBin: [process.execPath, BIN] });
  admin = new SwitchyardClient({ server: server.url, token: TOKEN, user: 'setup' });
});
afterAll(async () => {
  await admin?.close();
  await server?.close({ stopReplicas: true });
  await worker?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.each(commands.map((c) => [c.name, c] as const))('%s --help', (name, cmd) => {
  it('has a valid spec and shows its examples', async () => {
    expect(() => validateCommand(cmd)).not.toThrow();
    const r = await runCliCaptured([...name.split(' '), '--help'], commands);
    expect(r.code).toBe(0);
    for (const example of cmd.examples) expect(r.stdout).toContain(example);
  });
});

describe('on an empty server', () => {
  it('an empty list says so on stderr', async () => {
    for (const [kind, plural] of [['deployments', 'deployments'], ['fn', 'functions'], ['cl', 'clusters']] as const) {
      const r = await run('get', kind);
      expect(r).toMatchObject({ code: 0, stdout: '', stderr: `No ${plural} found.\n` });
    }
  });
});

describe('with a static cluster serving a Function', () => {
  beforeAll(async () => {
    await admin.apply([
      { apiVersion: API_VERSION, kind: 'Cluster', metadata: { name: 'rack' }, spec: { provider: 'static', region: 'lab', static: { endpoints: [{ url: worker.url, model: MODEL }] } } },
      {
        apiVersion: API_VERSION,
        kind: 'Function',
        metadata: { name: 'llama-8b', labels: { team: 'ml' } },
        spec: { model: 'meta-llama/Llama-3.1-8B-Instruct', runtime: 'vllm', servedName: MODEL, resources: { gpu: { type: 'A100', count: 1 } }, targetClusters: ['rack'] },
      },
    ]);
    await waitFor(async () => (await admin.get('Deployment', 'llama-8b-rack')).status?.phase === 'Ready', { timeoutMs: 15_000, what: 'llama-8b-rack Ready' });
    await waitFor(async () => (await admin.get('Function', 'llama-8b')).status?.readyReplicas === 1, { what: 'llama-8b to count its ready replica' });
    // What an agent of the cluster would report: a simulated inventory (interval long enough to stay Healthy).
    const agent = new SwitchyardClient({ server: server.url, token: await admin.clusterToken('rack') });
    await agent.heartbeat('rack', {
      agentVersion: 'test-agent',
      nodes: [{ name: 'node-a', cpus: 16, memoryBytes: 64 * 2 ** 30, gpus: [{ type: 'A100', count: 8, memoryMiB: 81920, inUse: 1 }], source: 'declared' }],
      endpoints: [{ url: worker.url, healthy: true }],
      simulated: true,
      intervalMs: 3_600_000,
    });
    await agent.close();
  });

  describe('get', () => {
    it('lists each kind as a table with the real values', async () => {
      const f = await run('get', 'fns');
      expect(f).toMatchObject({ code: 0, stderr: '' });
      expect(f.stdout.split('\n')).toEqual([expect.stringMatching(/^NAME\s+RUNTIME\s+MODEL\s+GPUS\s+REPLICAS\s+TARGETS\s+READY\s+AGE$/), expect.stringMatching(new RegExp(`^llama-8b\\s+vllm\\s+meta-llama/Llama-3\\.1-8B-Instruct\\s+1xA100\\s+1-1\\s+rack\\s+1\\s+${AGE}$`)), '']);

      const d = await run('get', 'deploy');
      expect(d.code).toBe(0);
      expect(d.stdout.split('\n')[0]).toMatch(/^NAME\s+FUNCTION\s+CLUSTER\s+PHASE\s+READY\s+ENDPOINTS\s+AGE$/);
      expect(d.stdout).toMatch(new RegExp(`\\nllama-8b-rack\\s+llama-8b\\s+rack\\s+Ready\\s+1/1\\s+${worker.url}\\s+${AGE}\\n`));

      const c = await run('get', 'clusters', '-o', 'wide');
      expect(c.code).toBe(0);
      expect(c.stdout.split('\n')[0]).toMatch(/^NAME\s+PROVIDER\s+REGION\s+HEALTH\s+GPUS\s+LAST-HEARTBEAT\s+AGE\s+NODES\s+ENDPOINTS\s+AGENT\s+MESSAGE$/);
      expect(c.stdout).toMatch(new RegExp(`\\nrack\\s+static\\s+lab\\s+Healthy\\s+8xA100 \\(simulated\\)\\s+${AGE}\\s+${AGE}\\s`));
      expect(c.stdout).toContain('test-agent');
    });

    it('the token is checked: a wrong or missing one is refused', async () => {
      const wrong = await runCliCaptured(['get', 'functions'], commands, { env: { ...env(), SWITCHYARD_TOKEN: 'nope' } });
      expect(wrong).toMatchObject({ code: 1, stdout: '', stderr: 'error: invalid token\n' });
      const missing = await runCliCaptured(['get', 'functions', '--server', server.url], commands, { env: {} });
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/^error: missing bearer token: .*--token or SWITCHYARD_TOKEN/);
    });

    it('one resource as a table, YAML or JSON; KIND/NAME works', async () => {
      const t = await run('get', 'function', 'llama-8b');
      expect(t.stdout.split('\n')).toHaveLength(3);
      expect(t.stdout).toMatch(/\nllama-8b\s+vllm\s/);

      const y = await run('get', 'cluster', 'rack', '-o', 'yaml');
      expect(y.code).toBe(0);
      expect(y.stdout).toMatch(new RegExp(`^apiVersion: ${API_VERSION.replace('/', '\\/')}\\nkind: Cluster\\n`));
      expect(parse(y.stdout)).toMatchObject({ metadata: { name: 'rack', generation: 1 }, spec: { provider: 'static', static: { endpoints: [{ url: worker.url, model: MODEL }] } }, status: { health: 'Healthy', simulated: true } });

      const j = await run('get', 'deploy/llama-8b-rack', '-o', 'json');
      expect(j.code).toBe(0);
      const dep = JSON.parse(j.stdout);
      expect(dep).toMatchObject({ kind: 'Deployment', metadata: { name: 'llama-8b-rack' }, spec: { function: 'llama-8b', cluster: 'rack' }, status: { phase: 'Ready', readyReplicas: 1, servedName: MODEL } });
      expect(Date.parse(dep.metadata.creationTimestamp)).not.toBeNaN();
    });

    it('an unknown kind is a usage error listing the kinds', async () => {
      const r = await run('get', 'widgets');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("unknown resource kind 'widgets'; valid kinds: function (");
      expect(r.stderr).toContain('deployment (');
    });

    it('server errors print as error: <message>, exit 1', async () => {
      expect(await run('get', 'function', 'nope')).toMatchObject({ code: 1, stdout: '', stderr: "error: Function 'nope' not found\n" });
      expect(await run('describe', 'deploy/nope')).toMatchObject({ code: 1, stderr: "error: Deployment 'nope' not found\n" });
    });

    it('an unreachable server is reported clearly', async () => {
      const url = `http://127.0.0.1:${await closedPort()}`;
      const r = await runCliCaptured(['get', 'functions', '--server', url], commands, { env: {} });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^error: cannot reach the Switchyard server at ${url}`));
    });
  });

  describe('describe', () => {
    it('a Deployment: spec, phase, replicas, conditions and events', async () => {
      const d = await run('describe', 'deploy', 'llama-8b-rack');
      expect(d).toMatchObject({ code: 0, stderr: '' });
      for (const s of [
        'Name:             llama-8b-rack\nKind:             Deployment\n',
        'switchyard.dev/function=llama-8b',
        'Spec:\n  function: llama-8b\n  cluster: rack\n',
        'Status:\n  Phase:               Ready\n  Ready:               1 of 1 replicas\n  Served name:         m-sim\n',
        '  Replicas:\n    INDEX   ID',
        'Conditions:',
        'Events:',
      ]) {
        expect(d.stdout).toContain(s);
      }
      expect(d.stdout).toMatch(new RegExp(`\\n {4}0\\s+llama-8b-rack-0\\s+ready\\s+${worker.url}\\s+-\\s+0\\s+${AGE}\\n`));
      expect(d.stdout).toMatch(/\n {2}Available\s+True\s+ReplicasReady\s+\S+\s+1\/1 replicas ready\n/);
      expect(d.stdout).toMatch(/\n {2}Normal\s+PhaseReady\s+\S+\s+Provisioning → Ready\n/);
    });

    it("a Cluster: health, its agent's inventory and endpoints", async () => {
      const c = await run('describe', 'cluster/rack');
      expect(c.code).toBe(0);
      for (const s of ['Health:         Healthy', 'Agent version:  test-agent', 'GPUs:           8xA100 (simulated)', 'Nodes:', 'Endpoints:']) expect(c.stdout).toContain(s);
      expect(c.stdout).toMatch(/\n {4}node-a\s+16\s+64Gi\s+8xA100\s+1\s+80Gi\s+declared\n/);
      expect(c.stdout).toMatch(new RegExp(`\\n {4}${worker.url}\\s+yes\\n`));
      expect(c.stdout).toMatch(/\n {2}Ready\s+True\s+HeartbeatReceived\s/);
    });

    it('a Function: labels, ready replicas and its Deployments', async () => {
      const f = await run('describe', 'function', 'llama-8b');
      expect(f.code).toBe(0);
      for (const s of ['Labels:           team=ml', 'Generation:       1', '  Ready replicas:      1\n', '  Deployments:\n']) expect(f.stdout).toContain(s);
      expect(f.stdout).toMatch(/\n {4}llama-8b-rack\s+rack\s+Ready\s+1\n/);
    });
  });

  describe('logs', () => {
    it("a static Deployment's replica explains where its logs are", async () => {
      const line = `replica 0 of deployment 'llama-8b-rack' is a static endpoint (${worker.url}): its logs live where that server runs, not in Switchyard\n`;
      expect(await run('logs', 'llama-8b-rack')).toMatchObject({ code: 0, stdout: line, stderr: '' });
      expect(await run('logs', 'deploy/llama-8b-rack', '--tail', '5')).toMatchObject({ code: 0, stdout: line });
    });

    it('an unknown Deployment is a server error', async () => {
      expect(await run('logs', 'nope')).toMatchObject({ code: 1, stdout: '', stderr: "error: Deployment 'nope' not found\n" });
    });
  });

  describe('delete', () => {
    it('without --cascade shows the 409 message and deletes nothing; with it, deletes the Function and its Deployments', async () => {
      await admin.apply([{ apiVersion: API_VERSION, kind: 'Function', metadata: { name: 'doomed' }, spec: { model: 'org/m', runtime: 'vllm', servedName: MODEL, targetClusters: ['rack'] } }]);
      await waitFor(async () => (await admin.get('Deployment', 'doomed-rack')).status?.phase === 'Ready', { timeoutMs: 15_000, what: 'doomed-rack Ready' });

      const r = await run('delete', 'function', 'doomed');
      expect(r).toMatchObject({
        code: 1,
        stdout: '',
        stderr: "error: Function 'doomed' still has 1 Deployment (doomed-rack); delete it first, or delete with --cascade (?cascade=true) to remove it too\n",
      });
      expect(await exists('Function', 'doomed')).toBe(true);
      expect(await exists('Deployment', 'doomed-rack')).toBe(true);

      const c = await run('delete', 'fn/doomed', '--cascade');
      expect(c).toMatchObject({ code: 0, stdout: 'function/doomed deleted (cascade)\n', stderr: '' });
      expect(await codeOf(admin.get('Function', 'doomed'))).toBe('not_found');
      expect(await codeOf(admin.get('Deployment', 'doomed-rack'))).toBe('not_found');
      expect((await run('get', 'deployments')).stdout).not.toContain('doomed-rack');
      // The deletion is recorded with the CLI's user as the author.
      const history = await waitFor(async () => {
        const h = await admin.history('Function', 'doomed');
        return h.length === 2 ? h : undefined;
      }, { what: 'the deletion in the history' });
      expect(history[0]).toMatchObject({ author: 'alice', message: 'delete Function/doomed' });
      // The other Function on the cluster is untouched.
      expect((await admin.get('Deployment', 'llama-8b-rack')).status?.phase).toBe('Ready');
    });

    it('a missing resource is a server error', async () => {
      expect(await run('delete', 'cluster', 'nope')).toMatchObject({ code: 1, stderr: "error: Cluster 'nope' not found\n" });
    });
  });
});

describe('apply', () => {
  it('sends every manifest of a directory (sorted) plus other files in one request; a repeat is unchanged', async () => {
    const d = path.join(dir, 'manifests');
    write('manifests/b-function.yaml', functionYaml('qwen', '  targetClusters: [edge]\n'));
    write('manifests/a-cluster.yml', clusterYaml('edge'));
    write('manifests/notes.txt', 'not a manifest');
    const extra = write('extra.yaml', functionYaml('phi'));
    const r = await run('apply', '-f', d, '-f', extra);
    expect(r).toMatchObject({ code: 0, stderr: '', stdout: 'cluster/edge created\nfunction/qwen created\nfunction/phi created\n' });

    expect(await admin.get('Cluster', 'edge')).toMatchObject({ spec: { provider: 'static', region: 'lab', static: { endpoints: [{ url: worker.url, model: MODEL }] } } });
    expect(await admin.get('Function', 'qwen')).toMatchObject({ metadata: { generation: 1 }, spec: { runtime: 'vllm', servedName: MODEL, targetClusters: ['edge'] } });
    expect(await admin.get('Function', 'phi')).toMatchObject({ metadata: { generation: 1 }, spec: { targetClusters: [] } });
    await waitFor(async () => (await admin.get('Deployment', 'qwen-edge')).status?.phase === 'Ready', { timeoutMs: 15_000, what: 'qwen-edge Ready' });

    const again = await run('apply', '-f', d, '-f', extra);
    expect(again).toMatchObject({ code: 0, stdout: 'cluster/edge unchanged\nfunction/qwen unchanged\nfunction/phi unchanged\n' });
  });

  it('--dry-run prints the diffs and writes nothing', async () => {
    await admin.apply(functionYaml('dry'));
    const changed = write('dry-changed.yaml', functionYaml('dry', '  args: [--max-num-seqs, "8"]\n'));
    const added = write('dry-new.yaml', functionYaml('ghost'));
    const r = await run('apply', '-f', changed, '-f', added, '--dry-run');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const [changedPart, addedPart] = r.stdout.split(/(?=^function\/ghost)/m);
    expect(changedPart).toMatch(/^function\/dry configured \(dry run\)\n--- Function\/dry \(generation 1\)\n\+\+\+ Function\/dry \(generation 2\)\n/);
    expect(changedPart).toMatch(/\n- {3}args: \[\]\n\+ {3}args:\n\+ {5}- --max-num-seqs\n\+ {5}- "8"\n/);
    expect(addedPart).toMatch(/^function\/ghost created \(dry run\)\n/);
    expect(addedPart).toContain('+ kind: Function\n');

    expect(await admin.get('Function', 'dry')).toMatchObject({ metadata: { generation: 1 }, spec: { args: [] } });
    expect(await codeOf(admin.get('Function', 'ghost'))).toBe('not_found');
    expect(await admin.history('Function', 'dry')).toHaveLength(1);
    expect(await admin.history('Function', 'ghost')).toEqual([]);
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
    expect(await codeOf(admin.get('Function', 'never-a'))).toBe('not_found');
    expect(await codeOf(admin.get('Function', 'never-b'))).toBe('not_found');
  });

  it('a resource defined in two files is reported with both file names, and nothing is written', async () => {
    const a = write('twin-a.yaml', functionYaml('twin'));
    const b = write('twin-b.yaml', functionYaml('twin', '  args: [--x]\n'));
    const r = await run('apply', '-f', a, '-f', b);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: ${b}: Function/twin is also defined in ${a}; each resource may appear once per apply\n`);
    expect(await codeOf(admin.get('Function', 'twin'))).toBe('not_found');
  });

  it("the server's error message is printed unchanged (a stale resourceVersion → 409), and nothing is written", async () => {
    write('stale-0.yaml', functionYaml('stale'));
    expect((await run('apply', '-f', path.join(dir, 'stale-0.yaml'))).code).toBe(0);
    const before = await admin.get('Function', 'stale');
    const stale = write('stale.yaml', functionYaml('stale', '  args: [--x]\n').replace('  name: stale', '  name: stale\n  resourceVersion: "1"'));
    const r = await run('apply', '-f', stale);
    expect(r.code).toBe(1);
    const direct = await admin.apply([{ apiVersion: API_VERSION, kind: 'Function', metadata: { name: 'stale', resourceVersion: '1' }, spec: { model: 'org/m', runtime: 'vllm', servedName: MODEL, args: ['--x'] } }]).then(
      () => 'applied',
      (e: unknown) => (e instanceof SwitchyardError ? e.message : String(e)),
    );
    expect(direct).toMatch(/was changed since you read it/);
    expect(r.stderr).toBe(`error: ${direct}\n`);
    expect((await admin.get('Function', 'stale')).metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });

  it('a missing file, or no -f at all', async () => {
    const r = await run('apply', '-f', path.join(dir, 'nope.yaml'));
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
      const h = await admin.history('Function', name);
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
    expect(await admin.get('Function', 'rb')).toMatchObject({ metadata: { generation: 3 }, spec: { args: [] } });
    const after = await historyOf('rb', 3);
    expect(after[0]).toMatchObject({ author: 'carol', message: `update Function/rb (generation 3): rollback to ${rev}` });

    const bad = await run('rollback', 'function/rb', '--to', 'deadbee');
    expect(bad).toMatchObject({ code: 1, stderr: "error: revision 'deadbee' is not in the history of Function/rb; see 'switchyard history functions/rb'\n" });
    expect((await admin.get('Function', 'rb')).metadata.generation).toBe(3);
  });
});
