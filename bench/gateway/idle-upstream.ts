/**
 * An upstream that holds streams open: POST /v1/chat/completions answers with SSE headers and one
 * role chunk, then sends only `: keepalive` comments every 15 s until the client goes away.
 * GET /health and /metrics answer 200 (the gateway polls them); GET /stats reports open streams.
 *
 *   node --import tsx bench/gateway/idle-upstream.ts [port]
 * prints `idle-upstream listening on http://127.0.0.1:PORT`.
 */
import { createServer } from 'node:http';
import { ROLE_CHUNK } from './fixtures.js';

const KEEPALIVE_MS = 15_000;
let open = 0;
let total = 0;

const server = createServer((req, res) => {
  if (req.method === 'GET') {
    if (req.url === '/stats') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ open, total }));
      return;
    }
    res.writeHead(req.url === '/health' || req.url === '/metrics' ? 200 : 404, { 'content-type': 'text/plain' }).end('');
    return;
  }
  if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
    res.writeHead(404).end();
    return;
  }
  req.resume();
  req.once('end', () => {
    open++;
    total++;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.write(ROLE_CHUNK);
    const timer = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    res.once('close', () => {
      clearInterval(timer);
      open--;
    });
  });
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 60_000;
server.requestTimeout = 0;
server.listen({ host: '127.0.0.1', port: Number(process.argv[2] ?? 0), backlog: 8192 }, () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  process.stdout.write(`idle-upstream listening on http://127.0.0.1:${port}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    server.closeAllConnections();
    server.close();
    process.exit(0);
  });
}
