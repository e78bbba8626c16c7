/**
 * End-to-end: `switchyard up` as a real process tree (control plane + gateway + agents +
 * simulated replicas), driven through the CLI, the REST API and the official openai SDK.
 * Covers the control-plane issue's acceptance points 1–5 in order, on one data directory.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentResource, SwitchyardClient } from '../../src/api/index.js';
import { alive, childrenOf, cli, killQuietly, startCli, startUp, type RunningProcess } from '../helpers/platform.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'sy-admin-e2e-test-token';
let demoKey: string;
const CLUSTERS = ['aws-us-east', 'onprem-rack', 'gcp-eu-west'];

const FUNCTION_YAML = (args = '[]') => `apiVersion: switchyard.dev/v1
kind: Function
metadata:
  name: chat-small
  labels: {team: e2e}
spec:
  model: Qwen/Qwen2.5-1.5B-Instruct
  runtime: sim
  resources: {gpu: {type: any, count: 1}}
  sim: {speedup: 20}
  args: ${args}
  targetClusters: [aws-us-east, onprem-rack, gcp-eu-west]
`;

let dir: string;
let up: RunningProcess & { url: string; client: SwitchyardClient };
const extraPids: number[] = [];
let env: Record<string, string>;

async function deployments(fn: string): Promise<DeploymentResource[]> {
  return (await up.client.list('Deployment')).items.filter((d): d is DeploymentResource => d.kind === 'Deployment' && d.spec.function === fn);
}

async function allReady(fn: string, n = 3): Promise<DeploymentResource[] | undefined> {
  const ds = await deployments(fn);
  return ds.length === n && ds.every((d) => d.status?.phase === 'Ready') ? ds : undefined;
}

/** Files under `root` whose bytes contain `needle`. */
function grepTree(root: string, needle: string): string[] {
  const hits: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && readFileSync(p).includes(needle)) hits.push(p);
    }
  };
  walk(root);
  return hits;
}

function replicaPids(ds: readonly DeploymentResource[]): number[] {
  return ds.flatMap((d) => d.status?.replicas.map((r) => r.pid ?? 0) ?? []).sort();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-e2e-'));
  up = await startUp(join(dir, 'data'), TOKEN, ['--demo', '--demo-speedup', '20', '--heartbeat-interval', '300ms']);
  env = { SWITCHYARD_SERVER: up.url, SWITCHYARD_TOKEN: TOKEN, SWITCHYARD_USER: 'e2e-tester' };
  // --demo creates the demo tenant and prints its key once; the OpenAI API needs a key.
  demoKey = await waitFor(() => /API key \(shown once[^\n]*\n\s+(sk-sy-\S+)/.exec(up.output())?.[1], { what: 'the demo key to be printed' });
}, 60_000);

afterAll(async () => {
  if (up && alive(up.pid)) {
    up.kill('SIGINT');
    await up.exited;
  }
  for (const pid of extraPids) killQuietly(pid);
  // Anything still running from this data dir is a leak: kill it, then fail loudly below.
  const leftovers = up ? (await up.client.list('Deployment').catch(() => ({ items: [] }))).items : [];
  for (const pid of replicaPids(leftovers)) killQuietly(pid);
  await up?.client.close();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('switchyard up (end to end)', () => {
  it('1. deploy and serve: apply a Function for 3 clusters → 3 Ready Deployments → the openai SDK chats, headers name the cluster', async () => {
    const file = join(dir, 'function.yaml');
    writeFileSync(file, FUNCTION_YAML());
    const r = cli(['apply', '-f', file], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/function\/chat-small created/i);

    const ds = await waitFor(() => allReady('chat-small'), { timeoutMs: 30_000, intervalMs: 100, what: '3 Ready deployments' });
    expect(ds.map((d) => d.spec.cluster).sort()).toEqual([...CLUSTERS].sort());

    const openai = new OpenAI({ baseURL: `${up.url}/v1`, apiKey: demoKey, maxRetries: 0 });
    await waitFor(async () => (await openai.models.list()).data.some((m) => m.id === 'chat-small'), { timeoutMs: 10_000, what: 'the gateway to list chat-small' });
    expect((await openai.models.list()).data.find((m) => m.id === 'chat-small')?.owned_by).toBe('switchyard-simulator'); // runtime: sim, labelled as such
    const anonymous = await fetch(`${up.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'chat-small', messages: [{ role: 'user', content: 'hi' }] }) });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
    const { data, response } = await openai.chat.completions.create({ model: 'chat-small', messages: [{ role: 'user', content: 'Hello there' }], max_tokens: 8 }).withResponse();
    expect(data.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(data.usage?.completion_tokens).toBe(8);
    expect(data.system_fingerprint).toBe('switchyard-simulator');
    expect(response.headers.get('x-switchyard-cluster')).toMatch(new RegExp(`^(${CLUSTERS.join('|')})$`));
    expect(response.headers.get('x-switchyard-backend')).toContain(response.headers.get('x-switchyard-cluster'));

    const stream = await openai.chat.completions.create({ model: 'chat-small', messages: [{ role: 'user', content: 'Stream please' }], max_tokens: 5, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text.length).toBeGreaterThan(0);

    // The simulated replicas publish KV events (ZMQ over ipc://) and the gateway follows them: a
    // prompt's second request goes where the first one left its blocks, and the route says so.
    const long = [{ role: 'system' as const, content: 'You answer questions about trains. '.repeat(30) }, { role: 'user' as const, content: 'When is the next one?' }];
    const first = await openai.chat.completions.create({ model: 'chat-small', messages: long, max_tokens: 4 }).withResponse();
    const home = first.response.headers.get('x-switchyard-backend');
    const again = await waitFor(
      async () => {
        const r = await openai.chat.completions.create({ model: 'chat-small', messages: long, max_tokens: 4 }).withResponse();
        const route = r.response.headers.get('x-switchyard-route') ?? '';
        return /\((\d+)\/\d+ cached/.exec(route)?.[1] !== '0' && /cached/.test(route) ? { backend: r.response.headers.get('x-switchyard-backend'), route } : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100, what: 'a request routed to the replica holding its prefix' },
    );
    expect(again.backend, again.route).toBe(home);
    const debug = (await (await fetch(`${up.url}/debug/routing`)).json()) as { kvIndex: { entries: number; subscribers: Record<string, unknown> } };
    expect(debug.kvIndex.entries).toBeGreaterThan(0);
    expect(Object.keys(debug.kvIndex.subscribers).length).toBeGreaterThanOrEqual(3);

    // Every request above was metered for the demo tenant: in the store and on /metrics.
    const usage = await waitFor(async () => {
      const items = (await (await fetch(`${up.url}/api/v1/usage?tenant=demo&groupBy=none`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { items: { model: string; requests: number }[] };
      return items.items.find((i) => i.model === 'chat-small' && i.requests >= 4);
    }, { timeoutMs: 10_000, intervalMs: 100, what: 'the demo tenant usage' });
    expect(usage.requests).toBeGreaterThanOrEqual(4);
    expect(await (await fetch(`${up.url}/metrics`)).text()).toMatch(/switchyard_tenant_requests_total\{[^}]*tenant="demo"/);
    // The demo's own admin actions are in the audit log, without the key.
    const audit = await (await fetch(`${up.url}/api/v1/audit`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    expect(JSON.parse(audit).items.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['tenant.create', 'apikey.create', 'function.create']));
    expect(audit).not.toContain(demoKey);
  }, 90_000);

  it('4. bad manifests fail with the path named, and nothing of a multi-document file is applied', () => {
    const cases: [string, string, RegExp][] = [
      ['wrong type', FUNCTION_YAML().replace('count: 1', 'count: many'), /spec\.resources\.gpu\.count: expected a number, got 'many'/],
      ['unknown field', FUNCTION_YAML().replace('  runtime: sim', '  runtime: sim\n  replicas: 3'), /spec\.replicas: unknown field 'replicas'/],
      ['missing field', FUNCTION_YAML().replace('  runtime: sim\n', ''), /spec\.runtime: missing required field/],
    ];
    for (const [what, text, message] of cases) {
      const file = join(dir, `bad-${what.replace(' ', '-')}.yaml`);
      writeFileSync(file, text);
      const r = cli(['apply', '-f', file], env);
      expect(r.code, what).toBe(1);
      expect(r.stderr, what).toMatch(message);
      expect(r.stderr, what).toMatch(/\(line \d+\)/);
    }
    const multi = join(dir, 'multi.yaml');
    const good = FUNCTION_YAML().replace('name: chat-small', 'name: never-applied');
    const bad = FUNCTION_YAML().replace('name: chat-small', 'name: also-never').replace('runtime: sim', 'runtime: 42');
    writeFileSync(multi, `${good}---\n${bad}`);
    const r = cli(['apply', '-f', multi], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/document 2 Function\/also-never.*spec\.runtime/);
    expect(r.stderr).toMatch(/nothing was applied/);
    const get = cli(['get', 'function', 'never-applied'], env);
    expect(get.code).toBe(1);
    expect(get.stderr).toMatch(/not found/);
  });

  it('5. rollback restores an earlier spec, and the change shows in history', async () => {
    const before = await up.client.get('Function', 'chat-small');
    const file = join(dir, 'function.yaml');
    writeFileSync(file, FUNCTION_YAML('["--max-num-seqs", "64"]'));
    expect(cli(['apply', '-f', file], env).stdout).toMatch(/configured/);
    const changed = await up.client.get('Function', 'chat-small');
    expect(changed.metadata.generation).toBe(before.metadata.generation + 1);
    expect((changed.spec as { args: string[] }).args).toEqual(['--max-num-seqs', '64']);

    const history = await waitFor(async () => {
      const h = await up.client.history('Function', 'chat-small');
      return h.length >= 2 ? h : undefined;
    }, { what: 'two history entries' });
    expect(history[0]?.author).toBe('e2e-tester');
    const first = history[history.length - 1]!;

    const rb = cli(['rollback', 'function/chat-small', '--to', first.revision.slice(0, 10)], env);
    expect(rb.stderr).toBe('');
    expect(rb.code).toBe(0);
    const restored = await up.client.get('Function', 'chat-small');
    expect(restored.spec).toEqual(before.spec);
    expect(restored.metadata.generation).toBe(before.metadata.generation + 2);

    const after = await waitFor(async () => {
      const h = await up.client.history('Function', 'chat-small');
      return h.length === history.length + 1 ? h : undefined;
    }, { what: 'the rollback in history' });
    expect(after[0]?.message).toMatch(/rollback to/);
    const shown = cli(['history', 'function/chat-small'], env);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/rollback to/);
    // The rolled-back spec rolls the replicas back too.
    await waitFor(() => allReady('chat-small'), { timeoutMs: 30_000, intervalMs: 100, what: 'replicas after the rollback' });
  }, 90_000);

  it('2. cluster failure: stop an agent and its replicas → no failed requests, traffic moves; restart → back in rotation', async () => {
    const victim = 'gcp-eu-west';
    const openai = new OpenAI({ baseURL: `${up.url}/v1`, apiKey: demoKey, maxRetries: 0 });
    const ask = async () => {
      const { response } = await openai.chat.completions.create({ model: 'demo-llama-8b', messages: [{ role: 'user', content: `hi ${Math.random()}` }], max_tokens: 2 }).withResponse();
      return response.headers.get('x-switchyard-cluster');
    };
    await waitFor(() => allReady('demo-llama-8b'), { timeoutMs: 30_000, intervalMs: 100, what: 'the demo deployments' });

    // Steady load while the cluster fails: every request must succeed.
    let stop = false;
    const served: (string | null)[] = [];
    const failures: unknown[] = [];
    const load = (async () => {
      while (!stop) await ask().then((c) => served.push(c), (e: unknown) => failures.push(e));
    })();

    const agent = childrenOf(up.pid).find((c) => c.args.includes('agent') && c.args.includes(`--cluster ${victim}`));
    expect(agent, 'the demo agent of the victim cluster').toBeDefined();
    process.kill(agent!.pid, 'SIGTERM');
    const dep = (await deployments('demo-llama-8b')).find((d) => d.spec.cluster === victim)!;
    for (const r of dep.status?.replicas ?? []) if (r.pid) process.kill(r.pid, 'SIGKILL');

    await waitFor(async () => (await up.client.get('Cluster', victim)).status?.health === 'Unhealthy', { timeoutMs: 15_000, intervalMs: 50, what: `${victim} to turn Unhealthy` });
    await waitFor(async () => {
      const res = await fetch(`${up.url}/debug/routing`);
      const body = (await res.json()) as { models: Record<string, { endpoints: { id: string }[] }> };
      return !body.models['demo-llama-8b']?.endpoints.some((e) => e.id.includes(victim));
    }, { what: 'the gateway to drop the unhealthy cluster' });
    const mark = served.length;
    await waitFor(() => served.length >= mark + 20, { timeoutMs: 20_000, what: '20 requests while the cluster is out' });
    stop = true;
    await load;
    expect(failures).toEqual([]);
    expect(served.slice(mark).filter((c) => c === victim)).toEqual([]);

    // Start the agent again (with a fresh cluster token): the cluster is readmitted.
    const tokenRes = await fetch(`${up.url}/api/v1/clusters/${victim}/token`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    const { token } = (await tokenRes.json()) as { token: string };
    const again = await startCli(['agent', '--cluster', victim, '--control-plane', up.url, '--gpus', 'A100:4', '--heartbeat-interval', '300ms'], { SWITCHYARD_AGENT_TOKEN: token }, (out) => (/registered|heartbeat/i.test(out) ? true : undefined));
    extraPids.push(again.pid);
    await waitFor(async () => (await up.client.get('Cluster', victim)).status?.health === 'Healthy', { timeoutMs: 15_000, intervalMs: 50, what: `${victim} to be Healthy again` });
    await waitFor(async () => (await ask()) === victim, { timeoutMs: 30_000, intervalMs: 0, what: `a request served by ${victim} again` });
    again.kill('SIGTERM');
    await again.exited;
  }, 120_000);

  it('3. restart: kill -9 of the control plane loses nothing, and running replicas are adopted, not duplicated', async () => {
    const before = await waitFor(async () => {
      const ds = [...((await allReady('chat-small')) ?? []), ...((await allReady('demo-llama-8b')) ?? [])];
      return ds.length === 6 ? ds : undefined;
    }, { timeoutMs: 30_000, intervalMs: 100, what: 'all 6 deployments Ready' });
    const pids = replicaPids(before);
    const fnBefore = await up.client.get('Function', 'chat-small');
    const historyBefore = await up.client.history('Function', 'chat-small');
    const agents = childrenOf(up.pid).filter((c) => c.args.includes(' agent ')).map((c) => c.pid);

    up.kill('SIGKILL');
    await up.exited;
    await up.client.close();
    expect(pids.every(alive)).toBe(true); // replicas outlive a crashed control plane
    await waitFor(() => agents.every((p) => !alive(p)), { what: 'the agents to exit with their parent' });

    up = await startUp(join(dir, 'data'), TOKEN, ['--demo', '--demo-speedup', '20', '--heartbeat-interval', '300ms']);
    const fnAfter = await up.client.get('Function', 'chat-small');
    expect(fnAfter.spec).toEqual(fnBefore.spec);
    expect(fnAfter.metadata.uid).toBe(fnBefore.metadata.uid);
    expect(await up.client.history('Function', 'chat-small')).toEqual(historyBefore);
    const after = await waitFor(async () => {
      const ds = [...((await allReady('chat-small')) ?? []), ...((await allReady('demo-llama-8b')) ?? [])];
      return ds.length === 6 ? ds : undefined;
    }, { timeoutMs: 30_000, intervalMs: 100, what: 'all 6 deployments Ready after the restart' });
    expect(replicaPids(after)).toEqual(pids);
    // The demo key was stored as a hash only, and still works after the restart; it is not printed again.
    expect(up.output()).not.toContain(demoKey);
    // Secrets: the key is nowhere in the data directory (store, WAL, replica state and logs), nor in
    // the git history (objects are compressed: search what git shows), nor in this run's output.
    const found = grepTree(join(dir, 'data'), demoKey);
    expect(found).toEqual([]);
    const gitLog = spawnSync('git', ['-C', join(dir, 'data', 'history'), 'log', '-p', '--all'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(gitLog.status).toBe(0);
    expect(gitLog.stdout).toContain('kind: ApiKey');
    expect(gitLog.stdout).not.toContain(demoKey);
    expect(gitLog.stdout).not.toContain(demoKey.slice(6));
    const openai = new OpenAI({ baseURL: `${up.url}/v1`, apiKey: demoKey, maxRetries: 0 });
    await waitFor(async () => (await openai.models.list()).data.length === 2, { what: 'both models routed again' });
    const res = await openai.chat.completions.create({ model: 'chat-small', messages: [{ role: 'user', content: 'still there?' }], max_tokens: 3 });
    expect(res.usage?.completion_tokens).toBe(3);
  }, 120_000);

  it('Ctrl-C stops everything, leaving no orphan processes', async () => {
    const ds = [...(await deployments('chat-small')), ...(await deployments('demo-llama-8b'))];
    const pids = replicaPids(ds);
    const agents = childrenOf(up.pid).map((c) => c.pid);
    expect(pids.length).toBe(6);
    up.kill('SIGINT');
    expect(await up.exited).toBe(0);
    await waitFor(() => [...pids, ...agents].every((p) => !alive(p)), { timeoutMs: 20_000, what: 'replicas and agents to exit' });
  }, 60_000);
});
