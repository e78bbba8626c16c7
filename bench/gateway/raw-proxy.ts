/**
 * Reference only: the floor of what a Node proxy costs here. A featureless HTTP/1.1 proxy on raw
 * `node:net` sockets, with no node:http and no undici: it finds the end of the request head, reads
 * a Content-Length body, JSON-parses it for `model`, writes the request to a pooled keep-alive
 * socket of that model's upstream, and relays the upstream's response bytes unchanged (headers
 * included) as they arrive, ending at its Content-Length or its last chunk. No validation,
 * routing, health, limits, metrics, timeouts, retries or error handling beyond closing sockets.
 *
 *   node --import tsx bench/gateway/raw-proxy.ts '<{"model": "http://127.0.0.1:PORT", ...} JSON>'
 *
 * prints `raw-proxy listening on http://127.0.0.1:PORT`. It is not part of Switchyard; the
 * benchmark runs it so that the gap between the gateway and nginx can be split into "what any
 * Node proxy costs on this machine" and "what the gateway adds".
 */
import { connect, createServer, type Socket } from 'node:net';

const routes = JSON.parse(process.argv[2] ?? '{}') as Record<string, string>;
const HEAD_END = Buffer.from('\r\n\r\n');
const CHUNK_END = Buffer.from('0\r\n\r\n');

interface Upstream {
  host: string;
  port: number;
  idle: Socket[];
}
const upstreams = new Map<string, Upstream>(
  Object.entries(routes).map(([model, url]) => {
    const u = new URL(url);
    return [model, { host: u.hostname, port: Number(u.port), idle: [] }];
  }),
);

/** Content-Length of a head (latin1 text), -1 for chunked, -2 when absent. */
function bodyLength(head: string): number {
  const lower = head.toLowerCase();
  const i = lower.indexOf('\r\ncontent-length:');
  if (i >= 0) return Number.parseInt(lower.slice(i + 17, lower.indexOf('\r\n', i + 17) >>> 0), 10);
  return lower.includes('\r\ntransfer-encoding: chunked') ? -1 : -2;
}

/** Send `request` on a pooled socket of `up`; relay the response to `client`; then call `done`. */
function forward(up: Upstream, request: Buffer, client: Socket, done: () => void): void {
  const s = up.idle.pop() ?? connect(up.port, up.host).setNoDelay(true);
  let head: Buffer | null = null;
  let left = -2; // body bytes still due (Content-Length), -1: chunked
  const onData = (chunk: Buffer): void => {
    if (left === -2) {
      head = head === null ? chunk : Buffer.concat([head, chunk]);
      const end = head.indexOf(HEAD_END);
      if (end < 0) return;
      const len = bodyLength(head.toString('latin1', 0, end));
      chunk = head;
      left = len >= 0 ? len + end + 4 : -1;
    }
    client.write(chunk);
    const finished = left === -1 ? chunk.length >= 5 && chunk.subarray(chunk.length - 5).equals(CHUNK_END) : (left -= chunk.length) <= 0;
    if (finished) {
      s.off('data', onData);
      s.off('error', onError);
      up.idle.push(s);
      done();
    }
  };
  const onError = (): void => {
    client.destroy();
    s.destroy();
  };
  s.on('data', onData);
  s.on('error', onError);
  s.write(request);
}

createServer((client) => {
  client.setNoDelay(true);
  let buf: Buffer | null = null;
  let busy = false;
  const next = (): void => {
    busy = false;
    if (buf !== null) serve();
  };
  const serve = (): void => {
    if (busy || buf === null) return;
    const end = buf.indexOf(HEAD_END);
    if (end < 0) return;
    const head = buf.toString('latin1', 0, end);
    const len = Math.max(0, bodyLength(head));
    const total = end + 4 + len;
    if (buf.length < total) return;
    const body = buf.subarray(end + 4, total);
    buf = buf.length > total ? buf.subarray(total) : null;
    let model = '';
    try {
      model = String((JSON.parse(body.toString('utf8')) as { model?: unknown }).model);
    } catch {
      // falls through to the 404 below
    }
    const up = upstreams.get(model);
    if (up === undefined) {
      client.write('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
      return serve();
    }
    const path = head.slice(head.indexOf(' ') + 1, head.indexOf(' ', head.indexOf(' ') + 1));
    busy = true;
    const out = Buffer.concat([Buffer.from(`POST ${path} HTTP/1.1\r\nhost: ${up.host}:${up.port}\r\ncontent-type: application/json\r\ncontent-length: ${len}\r\n\r\n`, 'latin1'), body]);
    forward(up, out, client, next);
  };
  client.on('data', (chunk: Buffer) => {
    buf = buf === null ? chunk : Buffer.concat([buf, chunk]);
    serve();
  });
  client.on('error', () => client.destroy());
}).listen(0, '127.0.0.1', function (this: ReturnType<typeof createServer>) {
  const a = this.address();
  if (a !== null && typeof a === 'object') console.log(`raw-proxy listening on http://127.0.0.1:${a.port}`);
});
