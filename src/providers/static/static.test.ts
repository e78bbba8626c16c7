/**
 * StaticProvider: the contract against small in-process node:http servers, plus its own behaviour
 * (the /v1/models fallback, failed and back, logs, validation) and one real `switchyard worker sim`
 * process, killed by pid afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SwitchyardError } from '../../core/index.js';
import { describeProviderContract } from '../contract.js';
import { pidAlive, SWITCHYARD_BIN, waitFor, waitForReady } from '../test-support.js';
import type { DeploymentTarget } from '../types.js';
import { StaticProvider } from './static-provider.js';

interface TestServer {
  url: string;
  server: Server;
  /** Status of /health (404: only /v1/models answers). */
  health: number;
}

async function startServer(health = 200): Promise<TestServer> {
  const s: TestServer = { url: '', server: createServer(), health };
  s.server.on('request', (req, res) => {
    if (req.url === '/health') return void res.writeHead(s.health).end();
    if (req.url === '/v1/models') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: 'm', object: 'model' }] }));
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
  s.url = `http://127.0.0.1:${(s.server.address() as AddressInfo).port}`;
  return s;
}

async function stopServer(s: TestServer): Promise<void> {
  s.server.closeAllConnections();
  await new Promise<void>((resolve) => s.server.close(() => resolve()));
}

const target = (deployment: string, endpoints: string[]): DeploymentTarget => ({
  deployment,
  cluster: 'static',
  function: deployment,
  servedName: 'm',
  model: 'm',
  runtime: 'vllm',
  replicas: endpoints.length,
  gpu: { type: 'A100', count: 1 },
  tensorParallelSize: 1,
  args: [],
  env: {},
  endpoints,
  specHash: 'v1',
});

const fast = { probeInterval: { starting: 20, ready: 50 }, probeTimeout: 1000 };

let servers: TestServer[] = [];
beforeAll(async () => {
  servers = await Promise.all([startServer(), startServer(), startServer(404)]);
});
afterAll(async () => {
  await Promise.all(servers.map(stopServer));
});

describeProviderContract(
  'StaticProvider',
  () => {
    const provider = new StaticProvider(fast);
    return {
      provider,
      target: (d, n) => target(d, servers.slice(0, n).map((s) => s.url)),
      ownsProcesses: false,
      maxReplicas: servers.length,
      cleanup: () => provider.close({ stopReplicas: true }),
    };
  },
  { readyTimeoutMs: 10_000 },
);

describe('StaticProvider', () => {
  let provider: StaticProvider;
  afterEach(async () => {
    await provider.close({ stopReplicas: true });
  });

  it('falls back to GET /v1/models when /health answers 404', async () => {
    provider = new StaticProvider(fast);
    await provider.apply(target('fallback', [servers[2]!.url]));
    const [r] = await waitForReady(provider, 'fallback', 1, 10_000);
    expect(r).toMatchObject({ id: 'fallback-0', endpoint: servers[2]!.url, restarts: 0 });
  });

  it('an endpoint that stops answering becomes failed, and ready again when it answers', async () => {
    provider = new StaticProvider({ ...fast, failureThreshold: 2 });
    const s = await startServer();
    try {
      await provider.apply(target('flaky', [`${s.url}/`]));
      await waitForReady(provider, 'flaky', 1, 10_000);
      s.health = 503;
      await waitFor(() => provider.status('flaky')[0]?.state === 'failed', { timeoutMs: 10_000, what: 'failed' });
      expect(provider.status('flaky')[0]!.message).toMatch(/not answering \(\d+ probes in a row\): HTTP 503/);
      s.health = 200;
      await waitForReady(provider, 'flaky', 1, 10_000);
    } finally {
      await stopServer(s);
    }
    await waitFor(() => provider.status('flaky')[0]?.state === 'failed', { timeoutMs: 10_000, what: 'failed after the server closed' });
  });

  it('logs() explains that static endpoints have no logs here', async () => {
    provider = new StaticProvider(fast);
    await provider.apply(target('logs', [servers[0]!.url]));
    const lines: string[] = [];
    for await (const line of provider.logs('logs', 0)) lines.push(line);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/static endpoint \(http:\/\/127\.0\.0\.1:\d+\).*not in Switchyard/);
  });

  it('rejects targets without endpoints or with bad URLs', async () => {
    provider = new StaticProvider(fast);
    const { endpoints: _none, ...noEndpoints } = target('bad', []);
    await expect(provider.apply(noEndpoints)).rejects.toThrow(SwitchyardError);
    await expect(provider.apply(noEndpoints)).rejects.toThrow(/needs endpoints/);
    await expect(provider.apply(target('bad', ['ftp://x']))).rejects.toThrow(/endpoints\[0\].*http/);
    await expect(provider.apply(target('bad', ['not a url']))).rejects.toThrow(/endpoints\[0\]: 'not a url' is not a URL/);
    expect(provider.deployments()).toEqual([]);
  });

  it('tracks a real `switchyard worker sim` process', { timeout: 90_000 }, async () => {
    provider = new StaticProvider(fast);
    const child: ChildProcess = spawn(SWITCHYARD_BIN[0], [SWITCHYARD_BIN[1], 'worker', 'sim', '--model', 'static-sim', '--port', '0', '--speedup', '100'], {
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, SWITCHYARD_DEBUG: '', NO_COLOR: '1' },
    });
    try {
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
      const url = (await waitFor(() => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1], { timeoutMs: 60_000, what: 'the worker URL' }));
      await provider.apply(target('sim', [url]));
      await waitForReady(provider, 'sim', 1, 10_000);
      child.kill('SIGKILL');
      await waitFor(() => provider.status('sim')[0]?.state === 'failed', { timeoutMs: 10_000, what: 'failed after the worker died' });
    } finally {
      if (child.pid !== undefined && pidAlive(child.pid)) child.kill('SIGKILL');
    }
  });
});
