/**
 * Redis for tests: `SWITCHYARD_TEST_REDIS_URL` when set, otherwise a private throwaway
 * `redis-server` (127.0.0.1, a free port, no persistence, data dir in a temp dir). Without
 * either, Redis suites are skipped with the reason, except under CI, where they fail loudly.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describeWithServer } from './servers.js';

/** The `redis-server` binary: PATH first, then the usual system locations. */
export function findRedisServer(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin', '/usr/sbin', '/usr/local/bin'];
  return dirs.map((d) => join(d, 'redis-server')).find((f) => existsSync(f));
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** One PING over a raw socket: true when the server answers +PONG. */
export function ping(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d: Buffer) => {
      reply += d.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Start a private redis-server (no RDB, no AOF) and wait until it answers PING. */
export async function startRedis(): Promise<RedisServer> {
  const bin = findRedisServer();
  if (!bin) throw new Error('no redis-server on PATH or in /usr/bin, /usr/sbin, /usr/local/bin');
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-redis-'));
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        return await launch(bin, dir, await freePort());
      } catch (e) {
        if (attempt >= 3 || !/address already in use|could not create server/i.test(String(e))) throw e; // lost a port race: try another
      }
    }
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

async function launch(bin: string, dir: string, port: number): Promise<RedisServer> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (d: Buffer): void => {
    output = (output + d.toString()).slice(-4000);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  let alive = true;
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    alive = false;
    resolve();
  }));
  const onExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', onExit);
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return exited;
    stopped = true;
    process.removeListener('exit', onExit);
    if (alive) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (!alive) {
      process.removeListener('exit', onExit);
      throw new Error(`redis-server exited during startup: ${output}`);
    }
    if (await ping(port, 500)) return { url: `redis://127.0.0.1:${port}`, port, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server not answering PING after 20 s: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20)); // poll interval
  }
}

/** The Redis a test file uses: available or not (and why), started lazily, stopped once. */
export interface TestRedis {
  readonly available: boolean;
  readonly reason: string;
  /** Whether private servers can be started (needed by tests that stop Redis mid-test). */
  readonly canStart: boolean;
  url(): Promise<string>;
  stop(): Promise<void>;
}

export function testRedis(): TestRedis {
  const fromEnv = process.env.SWITCHYARD_TEST_REDIS_URL;
  const bin = findRedisServer();
  if (fromEnv) return { available: true, canStart: bin !== undefined, reason: 'SWITCHYARD_TEST_REDIS_URL', url: async () => fromEnv, stop: async () => undefined };
  if (!bin) {
    const reason = 'no SWITCHYARD_TEST_REDIS_URL and no redis-server binary (apt-get install -y redis-server)';
    return { available: false, canStart: false, reason, url: () => Promise.reject(new Error(reason)), stop: async () => undefined };
  }
  let server: Promise<RedisServer> | undefined;
  return {
    available: true,
    canStart: true,
    reason: `private server from ${bin}`,
    url: async () => (await (server ??= startRedis())).url,
    stop: async () => {
      if (server) await (await server).stop();
    },
  };
}

/** Register a suite that needs Redis (skipped locally when unavailable; failing under CI). */
export function describeWithRedis(name: string, body: (redis: TestRedis) => void): void {
  describeWithServer('Redis', testRedis(), name, body);
}
