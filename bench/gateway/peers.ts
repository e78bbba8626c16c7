/**
 * The proxies under test other than nginx: the Switchyard gateway (this repository's
 * `bin/switchyard.js gateway`) and the Portkey gateway (`@portkey-ai/gateway`, installed on first
 * run into bench/gateway/peers/node_modules, outside the root package).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, freePort, startProcess, waitFor, type Proc } from './proc.js';

export const PEERS_DIR = join(BENCH_DIR, 'peers');
const PORTKEY_PKG = join(PEERS_DIR, 'node_modules', '@portkey-ai', 'gateway');

export interface SwitchyardModel {
  name: string;
  upstreamUrl: string;
}

export interface RunningProxy {
  proc: Proc;
  url: string;
  port: number;
}

export function switchyardConfigYaml(models: readonly SwitchyardModel[]): string {
  return [
    'listen: { host: 127.0.0.1, port: 0 }',
    'models:',
    ...models.flatMap((m) => [`  - name: ${m.name}`, '    profile: round_robin', `    endpoints: [ { url: '${m.upstreamUrl}' } ]`]),
    '',
  ].join('\n');
}

export function switchyardArgs(configPath: string, nodeFlags: readonly string[] = [], gatewayFlags: readonly string[] = []): string[] {
  return [...nodeFlags, 'bin/switchyard.js', 'gateway', '--config', configPath, '--port', '0', '--log-level', 'warn', ...gatewayFlags];
}

/** Start `node bin/switchyard.js gateway` (with `gatewayFlags`, e.g. `--workers 2`) and wait for its `listening on` line. */
export async function startSwitchyard(name: string, dir: string, models: readonly SwitchyardModel[], nodeFlags: readonly string[] = [], gatewayFlags: readonly string[] = []): Promise<RunningProxy> {
  const configPath = join(dir, `${name}.yaml`);
  writeFileSync(configPath, switchyardConfigYaml(models));
  const proc = startProcess({ name, command: process.execPath, args: switchyardArgs(configPath, nodeFlags, gatewayFlags), logDir: dir });
  const url = await waitFor(
    `${name} start`,
    () => /switchyard gateway listening on (http:\/\/\S+)/.exec(proc.stdout())?.[1],
    30_000,
    proc,
  ).catch(async (e: unknown) => {
    await proc.stop(500);
    throw e;
  });
  return { proc, url, port: Number(new URL(url).port) };
}

/** The child processes of `pid` (Linux): the workers of `gateway --workers N`. */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** `npm install --prefix bench/gateway/peers` when its node_modules is missing. */
export function ensurePortkeyInstalled(log: (line: string) => void): void {
  if (existsSync(join(PORTKEY_PKG, 'build', 'start-server.js'))) return;
  log('installing @portkey-ai/gateway into bench/gateway/peers (first run) ...');
  const r = spawnSync('npm', ['install', '--prefix', PEERS_DIR, '--no-audit', '--no-fund'], { stdio: ['ignore', 'inherit', 'inherit'], encoding: 'utf8' });
  if (r.status !== 0 || !existsSync(join(PORTKEY_PKG, 'build', 'start-server.js'))) throw new Error(`npm install --prefix ${PEERS_DIR} failed (exit ${r.status ?? r.signal ?? '?'})`);
}

export function portkeyVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(PORTKEY_PKG, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

/** `@hono/node-server` version actually installed under the peers (the override matters for streaming). */
export function honoNodeServerVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(PEERS_DIR, 'node_modules', '@hono', 'node-server', 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Start Portkey's Node server: `node build/start-server.js --port=N --headless` (its own argv
 * parsing: `--port=` only, default 8787; `--headless` skips the web UI and its log stream).
 */
export async function startPortkey(name: string, dir: string, nodeFlags: readonly string[] = []): Promise<RunningProxy> {
  const port = await freePort();
  const proc = startProcess({ name, command: process.execPath, args: [...nodeFlags, join(PORTKEY_PKG, 'build', 'start-server.js'), `--port=${port}`, '--headless'], logDir: dir, cwd: PEERS_DIR });
  await waitFor(
    `${name} start`,
    async () => {
      const r = await fetch(`http://127.0.0.1:${port}/`);
      await r.arrayBuffer();
      return r.status === 200 ? true : undefined;
    },
    30_000,
    proc,
  );
  return { proc, url: `http://127.0.0.1:${port}`, port };
}

/** Headers that make Portkey forward an OpenAI chat request to `upstreamBase` (ending in /v1). */
export function portkeyHeaders(upstreamBase: string): Record<string, string> {
  return { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': upstreamBase, Authorization: 'Bearer sk-bench-not-a-key' };
}

/** Start bench/gateway/raw-proxy.ts (the floor of a Node proxy: raw sockets, no features) with a model → upstream map. */
export async function startRawProxy(dir: string, routes: Record<string, string>): Promise<RunningProxy> {
  const proc = startProcess({ name: 'node-raw', command: process.execPath, args: ['--import', 'tsx', join(BENCH_DIR, 'raw-proxy.ts'), JSON.stringify(routes)], logDir: dir });
  const url = await waitFor('raw-proxy start', () => /listening on (http:\/\/\S+)/.exec(proc.stdout())?.[1], 20_000, proc);
  return { proc, url, port: Number(new URL(url).port) };
}

/** Start bench/gateway/minimal-proxy.ts (the reference Node proxy) with a model → upstream map. */
export async function startMinimalProxy(dir: string, routes: Record<string, string>, nodeFlags: readonly string[] = []): Promise<RunningProxy> {
  const proc = startProcess({ name: nodeFlags.length > 0 ? 'node-minimal-idle' : 'node-minimal', command: process.execPath, args: [...nodeFlags, '--import', 'tsx', join(BENCH_DIR, 'minimal-proxy.ts'), JSON.stringify(routes)], logDir: dir });
  const url = await waitFor('minimal-proxy start', () => /listening on (http:\/\/\S+)/.exec(proc.stdout())?.[1], 20_000, proc);
  return { proc, url, port: Number(new URL(url).port) };
}
