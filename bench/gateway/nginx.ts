/**
 * Two separate nginx instances (never the system service), each with its own prefix, config,
 * pid and logs in a temp dir, one worker each:
 * - the upstream: fixed chat completion on one port, fixed SSE stream on another (`return 200`);
 * - the proxy: `proxy_pass` to those, HTTP/1.1 with upstream keepalive, no buffering for SSE.
 * A third, for the idle-streams test, proxies to bench/gateway/idle-upstream.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMPLETION_JSON, SSE_BODY } from './fixtures.js';
import { childPids, startProcess, trackPid, untrackPid, waitFor, type Proc } from './proc.js';

export interface NginxInstance {
  name: string;
  master: Proc;
  /** Worker PIDs (one with worker_processes 1). */
  workers: number[];
  confPath: string;
  stop: () => Promise<void>;
}

/** An nginx single-quoted string literal; nginx expands `$var` in `return` text, so refuse `$`. */
function ngxString(text: string): string {
  if (text.includes('$')) throw new Error('nginx return text must not contain $');
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

function preamble(dir: string, workerConnections: number): string {
  return [
    'worker_processes 1;',
    `worker_rlimit_nofile ${Math.max(1024, workerConnections * 2 + 64)};`,
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')} warn;`,
    `events { worker_connections ${workerConnections}; multi_accept on; }`,
    'http {',
    '  access_log off;',
    '  keepalive_requests 1000000;',
    '  keepalive_timeout 75s;',
    `  client_body_temp_path ${join(dir, 'client_body')};`,
    `  proxy_temp_path ${join(dir, 'proxy')};`,
    `  fastcgi_temp_path ${join(dir, 'fastcgi')};`,
    `  uwsgi_temp_path ${join(dir, 'uwsgi')};`,
    `  scgi_temp_path ${join(dir, 'scgi')};`,
  ].join('\n');
}

/**
 * `return 200` of a text longer than nginx's 4 KiB limit on one config token: `set` the pieces
 * (one SSE event each) into variables, then return their concatenation.
 */
function returnLong(text: string, indent: string): string[] {
  const pieces = text.split(/(?<=\n\n)/).filter((p) => p !== '');
  return [...pieces.map((p, i) => `${indent}set $sse${i} ${ngxString(p)};`), `${indent}return 200 "${pieces.map((_, i) => `$sse${i}`).join('')}";`];
}

const HEALTH_LOCATIONS = ["    location = /health { default_type text/plain; return 200 'ok'; }", "    location = /metrics { default_type text/plain; return 200 ''; }"].join('\n');

export function upstreamConfig(dir: string, chatPort: number, ssePort: number): string {
  return [
    preamble(dir, 4096),
    '  server {',
    `    listen 127.0.0.1:${chatPort} backlog=4096;`,
    `    location = /v1/chat/completions { default_type application/json; return 200 ${ngxString(COMPLETION_JSON)}; }`,
    HEALTH_LOCATIONS,
    '  }',
    '  server {',
    `    listen 127.0.0.1:${ssePort} backlog=4096;`,
    '    location = /v1/chat/completions {',
    '      default_type text/event-stream;',
    '      add_header Cache-Control no-cache;',
    ...returnLong(SSE_BODY, '      '),
    '    }',
    HEALTH_LOCATIONS,
    '  }',
    '}',
    '',
  ].join('\n');
}

export interface ProxyRoute {
  listenPort: number;
  upstreamPort: number;
  /** SSE: proxy_buffering off (and long read timeouts for idle streams). */
  streaming: boolean;
}

export function proxyConfig(dir: string, routes: readonly ProxyRoute[], workerConnections = 4096): string {
  const blocks = routes.map((r, i) =>
    [
      `  upstream up${i} { server 127.0.0.1:${r.upstreamPort}; keepalive 64; keepalive_requests 1000000; keepalive_timeout 60s; }`,
      '  server {',
      `    listen 127.0.0.1:${r.listenPort} backlog=4096;`,
      '    location / {',
      `      proxy_pass http://up${i};`,
      '      proxy_http_version 1.1;',
      '      proxy_set_header Connection "";',
      ...(r.streaming ? ['      proxy_buffering off;', '      proxy_read_timeout 1h;', '      proxy_send_timeout 1h;'] : []),
      '    }',
      '  }',
    ].join('\n'),
  );
  return [preamble(dir, workerConnections), ...blocks, '}', ''].join('\n');
}

/** Start `nginx -p dir -c conf -g 'daemon off;'` as a tracked child; wait until `readyUrls` answer. */
export async function startNginx(name: string, dir: string, config: string, readyUrls: readonly string[]): Promise<NginxInstance> {
  mkdirSync(dir, { recursive: true });
  const confPath = join(dir, 'nginx.conf');
  writeFileSync(confPath, config);
  const master = startProcess({ name, command: 'nginx', args: ['-p', dir, '-e', join(dir, 'error.log'), '-c', confPath, '-g', 'daemon off;'], logDir: dir });
  for (const url of readyUrls) {
    await waitFor(
      `${name} ${url}`,
      async () => {
        const r = await fetch(url);
        await r.arrayBuffer();
        return r.status === 200 ? true : undefined;
      },
      10_000,
      master,
    );
  }
  const workers = await waitFor(`${name} workers`, () => {
    const w = childPids(master.pid);
    return w.length > 0 ? w : undefined;
  }, 5000, master);
  for (const w of workers) trackPid(w);
  return {
    name,
    master,
    workers,
    confPath,
    stop: async () => {
      await master.stop(3000);
      for (const w of workers) {
        try {
          process.kill(w, 'SIGKILL');
        } catch {
          // exited with its master
        }
        untrackPid(w);
      }
    },
  };
}
