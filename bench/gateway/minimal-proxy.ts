/**
 * Reference point, not a product: the least a Node proxy can do for this traffic. node:http
 * server, read the body, JSON.parse it (a gateway must, to route by model), pick the upstream by
 * `model`, forward with one undici keep-alive Agent (as the Switchyard gateway does), relay status,
 * content-type and body chunks as they come. No validation, retries, health, metrics or logging.
 *
 *   node --import tsx bench/gateway/minimal-proxy.ts '<{"model": "http://upstream", ...} JSON>'
 * prints `minimal-proxy listening on http://127.0.0.1:PORT`.
 */
import { createServer } from 'node:http';
import { Agent } from 'undici';

const routes = JSON.parse(process.argv[2] ?? '{}') as Record<string, string>;
const agent = new Agent({ keepAliveTimeout: 30_000, pipelining: 1 });

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    let origin: string | undefined;
    try {
      origin = routes[(JSON.parse(body.toString('utf8')) as { model?: string }).model ?? ''];
    } catch {
      origin = undefined;
    }
    if (!origin || req.url !== '/v1/chat/completions') {
      res.writeHead(404).end();
      return;
    }
    const ac = new AbortController();
    res.once('close', () => ac.abort());
    agent.request({ origin, path: req.url, method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: ac.signal }).then(
      async (up) => {
        const ct = up.headers['content-type'];
        res.writeHead(up.statusCode, typeof ct === 'string' ? { 'content-type': ct } : {});
        for await (const c of up.body) res.write(c as Buffer);
        res.end();
      },
      () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      },
    ).catch(() => res.destroy());
  });
});
server.keepAliveTimeout = 60_000;
server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  process.stdout.write(`minimal-proxy listening on http://127.0.0.1:${port}\n`);
});
process.once('SIGTERM', () => process.exit(0));
