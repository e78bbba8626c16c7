/**
 * The read side of the resource commands (get, describe, logs, delete, --help) against a real,
 * in-process SwitchyardServer (see resources.fixture.ts). Suites share the server and run in
 * order: the empty-server suite comes first.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { codeOf } from '../../../test/helpers/errors.js';
import { waitFor } from '../../../test/helpers/wait.js';
import { API_VERSION, SwitchyardClient } from '../../api/index.js';
import { validateCommand } from '../framework.js';
import { runCliCaptured } from '../framework-testing.js';
import { AGE, closedPort, commands, env, exists, fx, MODEL, run, useResourceServer } from './resources.fixture.js';

useResourceServer();

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
    await fx.admin.apply([
      { apiVersion: API_VERSION, kind: 'Cluster', metadata: { name: 'rack' }, spec: { provider: 'static', region: 'lab', static: { endpoints: [{ url: fx.worker.url, model: MODEL }] } } },
      {
        apiVersion: API_VERSION,
        kind: 'Function',
        metadata: { name: 'llama-8b', labels: { team: 'ml' } },
        spec: { model: 'meta-llama/Llama-3.1-8B-Instruct', runtime: 'vllm', servedName: MODEL, resources: { gpu: { type: 'A100', count: 1 } }, targetClusters: ['rack'] },
      },
    ]);
    await waitFor(async () => (await fx.admin.get('Deployment', 'llama-8b-rack')).status?.phase === 'Ready', { timeoutMs: 15_000, what: 'llama-8b-rack Ready' });
    await waitFor(async () => (await fx.admin.get('Function', 'llama-8b')).status?.readyReplicas === 1, { what: 'llama-8b to count its ready replica' });
    // What an agent of the cluster would report: a simulated inventory (interval long enough to stay Healthy).
    const agent = new SwitchyardClient({ server: fx.server.url, token: await fx.admin.clusterToken('rack') });
    await agent.heartbeat('rack', {
      agentVersion: 'test-agent',
      nodes: [{ name: 'node-a', cpus: 16, memoryBytes: 64 * 2 ** 30, gpus: [{ type: 'A100', count: 8, memoryMiB: 81920, inUse: 1 }], source: 'declared' }],
      endpoints: [{ url: fx.worker.url, healthy: true }],
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
      expect(d.stdout).toMatch(new RegExp(`\\nllama-8b-rack\\s+llama-8b\\s+rack\\s+Ready\\s+1/1\\s+${fx.worker.url}\\s+${AGE}\\n`));

      const c = await run('get', 'clusters', '-o', 'wide');
      expect(c.code).toBe(0);
      expect(c.stdout.split('\n')[0]).toMatch(/^NAME\s+PROVIDER\s+REGION\s+HEALTH\s+GPUS\s+LAST-HEARTBEAT\s+AGE\s+NODES\s+ENDPOINTS\s+AGENT\s+MESSAGE$/);
      expect(c.stdout).toMatch(new RegExp(`\\nrack\\s+static\\s+lab\\s+Healthy\\s+8xA100 \\(simulated\\)\\s+${AGE}\\s+${AGE}\\s`));
      expect(c.stdout).toContain('test-agent');
    });

    it('the token is checked: a wrong or missing one is refused', async () => {
      const wrong = await runCliCaptured(['get', 'functions'], commands, { env: { ...env(), SWITCHYARD_TOKEN: 'nope' } });
      expect(wrong).toMatchObject({ code: 1, stdout: '', stderr: 'error: invalid token\n' });
      const missing = await runCliCaptured(['get', 'functions', '--server', fx.server.url], commands, { env: {} });
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
      expect(parse(y.stdout)).toMatchObject({ metadata: { name: 'rack', generation: 1 }, spec: { provider: 'static', static: { endpoints: [{ url: fx.worker.url, model: MODEL }] } }, status: { health: 'Healthy', simulated: true } });

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
      expect(d.stdout).toMatch(new RegExp(`\\n {4}0\\s+llama-8b-rack-0\\s+ready\\s+${fx.worker.url}\\s+-\\s+0\\s+${AGE}\\n`));
      expect(d.stdout).toMatch(/\n {2}Available\s+True\s+ReplicasReady\s+\S+\s+1\/1 replicas ready\n/);
      expect(d.stdout).toMatch(/\n {2}Normal\s+PhaseReady\s+\S+\s+Provisioning → Ready\n/);
    });

    it("a Cluster: health, its agent's inventory and endpoints", async () => {
      const c = await run('describe', 'cluster/rack');
      expect(c.code).toBe(0);
      for (const s of ['Health:         Healthy', 'Agent version:  test-agent', 'GPUs:           8xA100 (simulated)', 'Nodes:', 'Endpoints:']) expect(c.stdout).toContain(s);
      expect(c.stdout).toMatch(/\n {4}node-a\s+16\s+64Gi\s+8xA100\s+1\s+80Gi\s+declared\n/);
      expect(c.stdout).toMatch(new RegExp(`\\n {4}${fx.worker.url}\\s+yes\\n`));
      expect(c.stdout).toMatch(/\n {2}Ready\s+True\s+HeartbeatReceived\s/);
    });

    it('a Function: labels, ready replicas and its Deployments', async () => {
      const f = await run('describe', 'function', 'llama-8b');
      expect(f.code).toBe(0);
      for (const s of ['Labels:           team=ml', 'Generation:       1', '  Ready replicas:      1\n', '  Deployments:\n']) expect(f.stdout).toContain(s);
      expect(f.stdout).toMatch(/\n {4}llama-8b-rack\s+rack\s+Ready\s+1\n/);
    });

    it('-o json: the whole Deployment as one JSON document, conditions and events included', async () => {
      const d = await run('describe', 'deploy/llama-8b-rack', '-o', 'json');
      expect(d).toMatchObject({ code: 0, stderr: '' });
      const dep = JSON.parse(d.stdout);
      expect(dep).toMatchObject({
        apiVersion: API_VERSION,
        kind: 'Deployment',
        metadata: { name: 'llama-8b-rack', labels: { 'switchyard.dev/function': 'llama-8b' } },
        spec: { function: 'llama-8b', cluster: 'rack' },
        status: {
          phase: 'Ready',
          readyReplicas: 1,
          replicas: [{ index: 0, state: 'ready', endpoint: fx.worker.url }],
          conditions: expect.arrayContaining([expect.objectContaining({ type: 'Available', status: 'True', reason: 'ReplicasReady' })]),
          events: expect.arrayContaining([expect.objectContaining({ type: 'Normal', reason: 'PhaseReady' })]),
        },
      });
      // The same resource as get -o json shows.
      expect(dep.metadata.uid).toBe(JSON.parse((await run('get', 'deploy/llama-8b-rack', '-o', 'json')).stdout).metadata.uid);
    });

    it('-o yaml: the whole Cluster as one YAML document', async () => {
      const c = await run('describe', 'cluster', 'rack', '-o', 'yaml');
      expect(c).toMatchObject({ code: 0, stderr: '' });
      expect(c.stdout).toMatch(new RegExp(`^apiVersion: ${API_VERSION.replace('/', '\\/')}\\nkind: Cluster\\n`));
      const docs = parseAllDocuments(c.stdout);
      expect(docs).toHaveLength(1);
      expect(docs[0]!.toJS()).toMatchObject({
        metadata: { name: 'rack' },
        spec: { provider: 'static', region: 'lab' },
        status: { health: 'Healthy', agentVersion: 'test-agent', simulated: true, nodes: [{ name: 'node-a', cpus: 16 }], conditions: expect.arrayContaining([expect.objectContaining({ type: 'Ready', status: 'True' })]) },
      });
    });

    it('-o table is the default text; another -o value is a usage error naming the allowed ones', async () => {
      expect(await run('describe', 'function', 'llama-8b', '-o', 'table')).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Name: {13}llama-8b\nKind: {13}Function\n/) });
      const r = await run('describe', 'function', 'llama-8b', '-o', 'wide');
      expect(r).toMatchObject({ code: 2, stdout: '' });
      expect(r.stderr).toContain("invalid value 'wide' for -o: expected one of: table, yaml, json");
    });
  });

  describe('logs', () => {
    it("a static Deployment's replica explains where its logs are", async () => {
      const line = `replica 0 of deployment 'llama-8b-rack' is a static endpoint (${fx.worker.url}): its logs live where that server runs, not in Switchyard\n`;
      expect(await run('logs', 'llama-8b-rack')).toMatchObject({ code: 0, stdout: line, stderr: '' });
      expect(await run('logs', 'deploy/llama-8b-rack', '--tail', '5')).toMatchObject({ code: 0, stdout: line });
    });

    it('an unknown Deployment is a server error', async () => {
      expect(await run('logs', 'nope')).toMatchObject({ code: 1, stdout: '', stderr: "error: Deployment 'nope' not found\n" });
    });
  });

  describe('delete', () => {
    it('without --cascade shows the 409 message and deletes nothing; with it, deletes the Function and its Deployments', async () => {
      await fx.admin.apply([{ apiVersion: API_VERSION, kind: 'Function', metadata: { name: 'doomed' }, spec: { model: 'org/m', runtime: 'vllm', servedName: MODEL, targetClusters: ['rack'] } }]);
      await waitFor(async () => (await fx.admin.get('Deployment', 'doomed-rack')).status?.phase === 'Ready', { timeoutMs: 15_000, what: 'doomed-rack Ready' });

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
      expect(await codeOf(fx.admin.get('Function', 'doomed'))).toBe('not_found');
      expect(await codeOf(fx.admin.get('Deployment', 'doomed-rack'))).toBe('not_found');
      expect((await run('get', 'deployments')).stdout).not.toContain('doomed-rack');
      // The deletion is recorded with the CLI's user as the author.
      const history = await waitFor(async () => {
        const h = await fx.admin.history('Function', 'doomed');
        return h.length === 2 ? h : undefined;
      }, { what: 'the deletion in the history' });
      expect(history[0]).toMatchObject({ author: 'alice', message: 'delete Function/doomed' });
      // The other Function on the cluster is untouched.
      expect((await fx.admin.get('Deployment', 'llama-8b-rack')).status?.phase).toBe('Ready');
    });

    it('a missing resource is a server error', async () => {
      expect(await run('delete', 'cluster', 'nope')).toMatchObject({ code: 1, stderr: "error: Cluster 'nope' not found\n" });
      expect(await run('delete', 'cluster', 'nope', '-o', 'json')).toMatchObject({ code: 1, stdout: '', stderr: "error: Cluster 'nope' not found\n" });
    });

    it('-o json prints the deleted resource as the server returns it', async () => {
      await fx.admin.apply([{ apiVersion: API_VERSION, kind: 'Tenant', metadata: { name: 'gone-json', labels: { team: 'ml' } }, spec: { displayName: 'Gone' } }]);
      const r = await run('delete', 'tenant/gone-json', '-o', 'json');
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(r.stdout)).toMatchObject({ apiVersion: API_VERSION, kind: 'Tenant', metadata: { name: 'gone-json', labels: { team: 'ml' } }, spec: { displayName: 'Gone' } });
      expect(await exists('Tenant', 'gone-json')).toBe(false);
    });

    it('-o yaml prints the deleted resource as one YAML document, also with --cascade', async () => {
      await fx.admin.apply([{ apiVersion: API_VERSION, kind: 'Tenant', metadata: { name: 'gone-yaml' }, spec: { gpuQuota: 2 } }]);
      const r = await run('delete', 'tenant', 'gone-yaml', '--cascade', '-o', 'yaml');
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(new RegExp(`^apiVersion: ${API_VERSION.replace('/', '\\/')}\\nkind: Tenant\\n`));
      expect(parse(r.stdout)).toMatchObject({ kind: 'Tenant', metadata: { name: 'gone-yaml' }, spec: { gpuQuota: 2 } });
      expect(await exists('Tenant', 'gone-yaml')).toBe(false);
    });

    it('a bad -o value is a usage error, and nothing is deleted', async () => {
      const r = await run('delete', 'function', 'llama-8b', '-o', 'xml');
      expect(r).toMatchObject({ code: 2, stdout: '' });
      expect(r.stderr).toContain("invalid value 'xml' for -o: expected one of: table, yaml, json");
      expect(await exists('Function', 'llama-8b')).toBe(true);
    });
  });
});
