/**
 * The idle-streams test for each proxy, each a fresh process pointed at bench/gateway/idle-upstream.ts:
 * the Switchyard gateway and Portkey with `--inspect=127.0.0.1:0` (to force a GC and read the heap),
 * nginx with its own instance (worker RSS).
 */
import { join } from 'node:path';
import { MODEL_IDLE, requestBody } from './fixtures.js';
import { Inspector } from './inspector.js';
import { proxyConfig, startNginx } from './nginx.js';
import { ensurePortkeyInstalled, portkeyHeaders, startMinimalProxy, startPortkey, startSwitchyard } from './peers.js';
import { freePort } from './proc.js';
import type { Failure } from './stack.js';
import { measureStreams, startIdleUpstream, type StreamsResult } from './streams.js';
import type { TargetName } from './target.js';

export interface IdleOptions {
  dir: string;
  n: number;
  targets: readonly TargetName[];
  log: (line: string) => void;
}

const PATH = '/v1/chat/completions';
const INSPECT = ['--inspect=127.0.0.1:0'];

export async function runIdleStreams(o: IdleOptions, failures: Failure[]): Promise<StreamsResult[]> {
  const out: StreamsResult[] = [];
  const idle = await startIdleUpstream(o.dir);
  const common = { n: o.n, warmupStreams: 200, idleUrl: idle.url, timeoutMs: 60_000, log: o.log };
  const body = requestBody('stream', MODEL_IDLE);
  try {
    for (const target of o.targets) {
      if (target === 'direct') continue;
      try {
        if (target === 'switchyard') {
          const gw = await startSwitchyard('switchyard-idle', o.dir, [{ name: MODEL_IDLE, upstreamUrl: idle.url }], INSPECT);
          let inspector: Inspector | null = null;
          try {
            inspector = await Inspector.fromLog(gw.proc.logPath).catch(() => null);
            out.push(await measureStreams({ name: 'switchyard', host: '127.0.0.1', port: gw.port, path: PATH, headers: {}, body, pid: gw.proc.pid, inspector }, common));
          } finally {
            inspector?.close();
            await gw.proc.stop();
          }
        } else if (target === 'node-minimal') {
          const mp = await startMinimalProxy(o.dir, { [MODEL_IDLE]: idle.url }, INSPECT);
          let inspector: Inspector | null = null;
          try {
            inspector = await Inspector.fromLog(mp.proc.logPath).catch(() => null);
            out.push(await measureStreams({ name: 'node-minimal', host: '127.0.0.1', port: mp.port, path: PATH, headers: {}, body, pid: mp.proc.pid, inspector }, common));
          } finally {
            inspector?.close();
            await mp.proc.stop();
          }
        } else if (target === 'nginx') {
          const port = await freePort();
          const dir = join(o.dir, 'nginx-idle');
          const ngx = await startNginx('nginx-idle', dir, proxyConfig(dir, [{ listenPort: port, upstreamPort: Number(new URL(idle.url).port), streaming: true }], o.n * 2 + 1024), [`http://127.0.0.1:${port}/health`]);
          try {
            out.push(await measureStreams({ name: 'nginx', host: '127.0.0.1', port, path: PATH, headers: {}, body, pid: ngx.workers[0]!, inspector: null }, common));
          } finally {
            await ngx.stop();
          }
        } else {
          ensurePortkeyInstalled(o.log);
          const pk = await startPortkey('portkey-idle', o.dir, INSPECT);
          let inspector: Inspector | null = null;
          try {
            inspector = await Inspector.fromLog(pk.proc.logPath).catch(() => null);
            out.push(await measureStreams({ name: 'portkey', host: '127.0.0.1', port: pk.port, path: PATH, headers: portkeyHeaders(`${idle.url}/v1`), body, pid: pk.proc.pid, inspector }, common));
          } finally {
            inspector?.close();
            await pk.proc.stop();
          }
        }
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        failures.push({ target, stage: 'idle streams', message });
        o.log(`${target}: idle-streams test failed: ${message}`);
      }
    }
  } finally {
    await idle.proc.stop();
  }
  return out;
}
