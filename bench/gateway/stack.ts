/**
 * Bring up everything the throughput runs need, check each (target, mode) with one real request,
 * and describe how to reach it: the nginx upstream (fixed JSON on one port, fixed SSE on another),
 * the nginx proxy, the Switchyard gateway and Portkey.
 */
import { join } from 'node:path';
import { hasUsageChunk, looksComplete, MODEL_CHAT, MODEL_STREAM, requestBody, type Mode } from './fixtures.js';
import { proxyConfig, startNginx, upstreamConfig, type NginxInstance } from './nginx.js';
import { childPids, ensurePortkeyInstalled, portkeyHeaders, startMinimalProxy, startPortkey, startRawProxy, startSwitchyard, type RunningProxy } from './peers.js';
import { freePort } from './proc.js';
import { endpointUrl, type Endpoint, type TargetName } from './target.js';

export interface Failure {
  target: TargetName | 'idle-streams';
  mode?: Mode;
  stage: string;
  message: string;
}

export interface PreflightInfo {
  target: TargetName;
  mode: Mode;
  status: number;
  bytes: number;
  /** Streaming only: whether the response carried the usage chunk. */
  usageChunk: boolean | null;
  contentType: string;
}

export interface Stack {
  dir: string;
  upstream: NginxInstance;
  upstreamPorts: { chat: number; sse: number };
  nginxProxy: NginxInstance | null;
  switchyard: RunningProxy | null;
  switchyardW2: RunningProxy | null;
  portkey: RunningProxy | null;
  minimal: RunningProxy | null;
  raw: RunningProxy | null;
  endpoints: Endpoint[];
  preflight: PreflightInfo[];
  failures: Failure[];
  stop: () => Promise<void>;
}

const PATH = '/v1/chat/completions';

function errMsg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** One request; returns null when the answer is complete and correct, else what is wrong. */
async function preflight(e: Endpoint): Promise<{ info: PreflightInfo; problem: string | null }> {
  const res = await fetch(endpointUrl(e), { method: 'POST', headers: { 'content-type': 'application/json', ...e.headers }, body: e.body, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  const info: PreflightInfo = { target: e.target, mode: e.mode, status: res.status, bytes: Buffer.byteLength(text), usageChunk: e.mode === 'chat' ? null : hasUsageChunk(text), contentType: res.headers.get('content-type') ?? '' };
  if (res.status !== 200) return { info, problem: `HTTP ${res.status}: ${text.slice(0, 300)}` };
  return { info, problem: looksComplete(e.mode, text) };
}

export interface StackOptions {
  dir: string;
  targets: readonly TargetName[];
  modes: readonly Mode[];
  log: (line: string) => void;
}

export async function startStack(o: StackOptions): Promise<Stack> {
  const failures: Failure[] = [];
  const chatPort = await freePort();
  const ssePort = await freePort();
  const upstream = await startNginx('nginx-upstream', join(o.dir, 'nginx-upstream'), upstreamConfig(join(o.dir, 'nginx-upstream'), chatPort, ssePort), [`http://127.0.0.1:${chatPort}/health`, `http://127.0.0.1:${ssePort}/health`]);
  const stack: Stack = {
    dir: o.dir,
    upstream,
    upstreamPorts: { chat: chatPort, sse: ssePort },
    nginxProxy: null,
    switchyard: null,
    switchyardW2: null,
    portkey: null,
    minimal: null,
    raw: null,
    endpoints: [],
    preflight: [],
    failures,
    stop: async () => {
      await Promise.all([stack.switchyard?.proc.stop(), stack.switchyardW2?.proc.stop(), stack.portkey?.proc.stop(), stack.minimal?.proc.stop(), stack.raw?.proc.stop(), stack.nginxProxy?.stop()]);
      await upstream.stop();
    },
  };
  const upstreamPort = (m: Mode): number => (m === 'chat' ? chatPort : ssePort);
  const add = (target: TargetName, port: number, headersFor: (m: Mode) => Record<string, string>, model: (m: Mode) => string, proxyPids: number[]): void => {
    for (const mode of o.modes) stack.endpoints.push({ target, mode, host: '127.0.0.1', port, path: PATH, headers: headersFor(mode), body: requestBody(mode, model(mode)), proxyPids });
  };

  for (const target of o.targets) {
    try {
      if (target === 'direct') {
        for (const mode of o.modes) stack.endpoints.push({ target, mode, host: '127.0.0.1', port: upstreamPort(mode), path: PATH, headers: {}, body: requestBody(mode, mode === 'chat' ? MODEL_CHAT : MODEL_STREAM), proxyPids: [] });
      } else if (target === 'nginx') {
        const p1 = await freePort();
        const p2 = await freePort();
        const dir = join(o.dir, 'nginx-proxy');
        stack.nginxProxy = await startNginx('nginx-proxy', dir, proxyConfig(dir, [{ listenPort: p1, upstreamPort: chatPort, streaming: false }, { listenPort: p2, upstreamPort: ssePort, streaming: true }]), [`http://127.0.0.1:${p1}/health`, `http://127.0.0.1:${p2}/health`]);
        const pids = [stack.nginxProxy.master.pid, ...stack.nginxProxy.workers];
        for (const mode of o.modes) stack.endpoints.push({ target, mode, host: '127.0.0.1', port: mode === 'chat' ? p1 : p2, path: PATH, headers: {}, body: requestBody(mode, mode === 'chat' ? MODEL_CHAT : MODEL_STREAM), proxyPids: pids });
      } else if (target === 'switchyard') {
        stack.switchyard = await startSwitchyard('switchyard', o.dir, [
          { name: MODEL_CHAT, upstreamUrl: `http://127.0.0.1:${chatPort}` },
          { name: MODEL_STREAM, upstreamUrl: `http://127.0.0.1:${ssePort}` },
        ]);
        add('switchyard', stack.switchyard.port, () => ({}), (m) => (m === 'chat' ? MODEL_CHAT : MODEL_STREAM), [stack.switchyard.proc.pid]);
      } else if (target === 'switchyard-w2') {
        // Two worker processes behind the primary's shared port: its CPU is the primary's and the workers'.
        stack.switchyardW2 = await startSwitchyard('switchyard-w2', o.dir, [
          { name: MODEL_CHAT, upstreamUrl: `http://127.0.0.1:${chatPort}` },
          { name: MODEL_STREAM, upstreamUrl: `http://127.0.0.1:${ssePort}` },
        ], [], ['--workers', '2']);
        const primary = stack.switchyardW2.proc.pid;
        add('switchyard-w2', stack.switchyardW2.port, () => ({}), (m) => (m === 'chat' ? MODEL_CHAT : MODEL_STREAM), [primary, ...childPids(primary)]);
      } else if (target === 'node-minimal') {
        stack.minimal = await startMinimalProxy(o.dir, { [MODEL_CHAT]: `http://127.0.0.1:${chatPort}`, [MODEL_STREAM]: `http://127.0.0.1:${ssePort}` });
        add('node-minimal', stack.minimal.port, () => ({}), (m) => (m === 'chat' ? MODEL_CHAT : MODEL_STREAM), [stack.minimal.proc.pid]);
      } else if (target === 'node-raw') {
        stack.raw = await startRawProxy(o.dir, { [MODEL_CHAT]: `http://127.0.0.1:${chatPort}`, [MODEL_STREAM]: `http://127.0.0.1:${ssePort}` });
        add('node-raw', stack.raw.port, () => ({}), (m) => (m === 'chat' ? MODEL_CHAT : MODEL_STREAM), [stack.raw.proc.pid]);
      } else {
        ensurePortkeyInstalled(o.log);
        stack.portkey = await startPortkey('portkey', o.dir);
        add('portkey', stack.portkey.port, (m) => portkeyHeaders(`http://127.0.0.1:${upstreamPort(m)}/v1`), (m) => (m === 'chat' ? MODEL_CHAT : MODEL_STREAM), [stack.portkey.proc.pid]);
      }
    } catch (e) {
      failures.push({ target, stage: 'start', message: errMsg(e) });
      o.log(`${target}: failed to start: ${errMsg(e)}`);
    }
  }

  // Pre-flight: every (target, mode) must answer 200 with the fixed content before it is measured.
  const ok: Endpoint[] = [];
  for (const e of stack.endpoints) {
    try {
      const { info, problem } = await preflight(e);
      stack.preflight.push(info);
      if (problem) {
        failures.push({ target: e.target, mode: e.mode, stage: 'pre-flight request', message: problem });
        o.log(`${e.target}/${e.mode}: pre-flight failed: ${problem}`);
      } else ok.push(e);
    } catch (err) {
      failures.push({ target: e.target, mode: e.mode, stage: 'pre-flight request', message: errMsg(err) });
      o.log(`${e.target}/${e.mode}: pre-flight failed: ${errMsg(err)}`);
    }
  }
  stack.endpoints = ok;
  return stack;
}
