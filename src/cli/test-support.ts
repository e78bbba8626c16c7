/**
 * CLI test helpers: sample resources for the pure rendering tests (output.test.ts), and a fake
 * admin API on 127.0.0.1 that records requests and answers from a route table.
 *
 * The resource commands are tested against a real SwitchyardServer (commands/resources.test.ts).
 * The fake API is left only for commands/agent.test.ts, which needs scripted heartbeat failures.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClusterResource, DeploymentResource, FunctionResource, ObjectMeta } from '../api/index.js';

/** Fixed "now" for rendering tests: 2026-01-01T12:00:00Z. */
export const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const ago = (ms: number): string => new Date(NOW - ms).toISOString();

export function sampleMeta(name: string, createdAgoMs = 5 * 60_000): ObjectMeta {
  return { name, labels: {}, annotations: {}, uid: `uid-${name}`, resourceVersion: '7', generation: 2, creationTimestamp: ago(createdAgoMs), updateTimestamp: ago(60_000) };
}

export function sampleFunction(name = 'llama-8b'): FunctionResource {
  return {
    apiVersion: 'switchyard.dev/v1',
    kind: 'Function',
    metadata: { ...sampleMeta(name, 2 * 3_600_000), labels: { team: 'ml' } },
    spec: {
      model: 'meta-llama/Llama-3.1-8B-Instruct',
      runtime: 'vllm',
      resources: { gpu: { type: 'A100', count: 1 }, tensorParallelSize: 1 },
      scaling: { minReplicas: 1, maxReplicas: 4, metric: 'queue_depth', target: 4 },
      routing: { profile: 'default', sessionAffinity: true },
      targetClusters: ['gpu-east', { matchLabels: { region: 'eu' } }],
      args: [],
      env: {},
    },
    status: { deployments: [{ name: `${name}-gpu-east`, cluster: 'gpu-east', phase: 'Ready', readyReplicas: 2 }], readyReplicas: 2, conditions: [], observedGeneration: 2 },
  };
}

export function sampleDeployment(name = 'llama-8b-gpu-east'): DeploymentResource {
  return {
    apiVersion: 'switchyard.dev/v1',
    kind: 'Deployment',
    metadata: sampleMeta(name, 3 * 86_400_000),
    spec: { function: 'llama-8b', cluster: 'gpu-east' },
    status: {
      phase: 'Degraded',
      desiredReplicas: 3,
      readyReplicas: 2,
      replicas: [
        { index: 0, id: `${name}-0`, state: 'ready', endpoint: 'http://127.0.0.1:9001', pid: 4242, restarts: 0, startedAt: ago(3_600_000) },
        { index: 1, id: `${name}-1`, state: 'ready', endpoint: 'http://127.0.0.1:9002', pid: 4243, restarts: 1, startedAt: ago(600_000) },
        { index: 2, id: `${name}-2`, state: 'starting', restarts: 3, message: 'waiting for /health' },
      ],
      conditions: [{ type: 'Available', status: 'True', reason: 'ReplicasReady', message: '2 of 3 replicas ready', lastTransitionTime: ago(600_000) }],
      events: [{ time: ago(30_000), type: 'Warning', reason: 'ReplicaRestarted', message: 'replica 2 exited with code 1; restarting' }],
      observedGeneration: 2,
      servedName: 'llama-8b',
    },
  };
}

export function sampleCluster(name = 'gpu-east', simulated = true): ClusterResource {
  return {
    apiVersion: 'switchyard.dev/v1',
    kind: 'Cluster',
    metadata: sampleMeta(name, 4 * 86_400_000),
    spec: { provider: 'local', region: 'us-east', labels: {}, latency: {}, maxMissedHeartbeats: 3 },
    status: {
      health: 'Healthy',
      agentVersion: '0.1.0',
      lastHeartbeat: ago(5_000),
      simulated,
      nodes: [{ name: 'node-a', cpus: 16, memoryBytes: 64 * 2 ** 30, gpus: [{ type: 'A100', count: 8, memoryMiB: 81920, inUse: 2 }], source: simulated ? 'declared' : 'nvidia-smi' }],
      endpoints: [{ url: 'http://127.0.0.1:9001', healthy: true }, { url: 'http://127.0.0.1:9002', healthy: false, message: 'HTTP 503' }],
      conditions: [],
    },
  };
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}
export interface FakeReply {
  status?: number;
  json?: unknown;
  text?: string;
}
type FakeRoute = (req: RecordedRequest) => FakeReply | undefined;

/** The error body the control plane sends. */
export function apiError(status: number, message: string, code = 'invalid_request'): FakeReply {
  return { status, json: { error: { message, type: 'invalid_request_error', param: null, code } } };
}

/** An HTTP server answering from `routes` (first that returns a reply), 404 otherwise. */
export async function startFakeApi(routes: FakeRoute[]): Promise<{ url: string; requests: RecordedRequest[]; close: () => Promise<void> }> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const r: RecordedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body };
      requests.push(r);
      const reply = routes.reduce<FakeReply | undefined>((found, route) => found ?? route(r), undefined) ?? apiError(404, `no route for ${r.method} ${r.url}`, 'not_found');
      res.statusCode = reply.status ?? 200;
      if (reply.text !== undefined) {
        res.setHeader('content-type', 'text/plain');
        res.end(reply.text);
      } else {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(reply.json ?? {}));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
