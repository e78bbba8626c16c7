/**
 * Behaviour check for optimisation work (companion of profile.ts): run the same requests through
 * the gateways of two source trees and compare what clients see, byte for byte — status, raw
 * response headers in order (Date aside; generated request ids masked), body — and /metrics
 * afterwards (timing values masked). Upstreams: the benchmark's nginx (fixed JSON and SSE) and a
 * scripted Node upstream for the unhappy paths (an error status, a stream without [DONE], a reset
 * mid-stream, an error event, events split across small chunks, a stream that lingers after
 * [DONE]), plus a dead port.
 *
 *   node --import tsx bench/gateway/ab-check.ts --tree BASELINE_DIR [--tree DIR] [--show]
 *
 * Prints one line per request (`SAME` or the two answers) and exits 1 if anything differs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MODEL_CHAT, MODEL_STREAM, MODES, requestBody } from './fixtures.js';
import { startNginx, upstreamConfig } from './nginx.js';
import { switchyardConfigYaml } from './peers.js';
import { freePort, killAll, REPO_ROOT, sleep, startProcess, waitFor } from './proc.js';

const { values } = parseArgs({ options: { tree: { type: 'string', multiple: true }, show: { type: 'boolean', default: false } } });
const trees = (values.tree ?? []).map((t) => resolve(t));
if (trees.length === 1) trees.push(REPO_ROOT);
if (trees.length !== 2) throw new Error('usage: ab-check.ts --tree BASELINE_DIR [--tree DIR]');

const SCRIPTED = ['err', 'nodone', 'reset', 'errev', 'split', 'linger'] as const;
const ev = (o: unknown): string => `data: ${JSON.stringify(o)}\n\n`;
const ROLE = ev({ choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] });
const tok = (t: string): string => ev({ choices: [{ index: 0, delta: { content: t } }] });
const USAGE = ev({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } });
const DONE = 'data: [DONE]\n\n';

/** The scripted upstream: behaviour chosen by the request's model. */
function scriptedUpstream(): Promise<number> {
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      void (async () => {
        if (req.method === 'GET') return void res.end('');
        const model = (JSON.parse(body) as { model: string }).model;
        if (model === 'err') {
          res.writeHead(503, { 'content-type': 'application/json' });
          return void res.end('{"error":{"message":"busy","type":"server_error"}}');
        }
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        switch (model) {
          case 'nodone':
            res.write(ROLE + tok('a'));
            await sleep(20);
            return void res.end(tok('b'));
          case 'reset':
            res.write(ROLE + tok('a'));
            await sleep(20);
            return void res.socket?.destroy();
          case 'errev':
            res.write(ROLE + tok('a'));
            await sleep(10);
            return void res.end(ev({ error: { message: 'engine died' } }));
          case 'split': {
            const all = ROLE + tok('héllo') + tok(' wörld') + USAGE + DONE;
            for (let i = 0; i < all.length; i += 37) {
              res.write(all.slice(i, i + 37));
              await sleep(2);
            }
            return void res.end();
          }
          case 'linger':
            res.write(ROLE + tok('a') + USAGE + DONE);
            await sleep(400);
            return void res.end();
          default:
            return void res.end(ROLE + tok('x') + USAGE + DONE);
        }
      })();
    });
  });
  return new Promise((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as AddressInfo).port)));
}

/** One POST; status, raw headers in order and body as text. */
function post(port: number, body: string, requestId: string | undefined): Promise<string> {
  return new Promise((resolvePost, reject) => {
    const q = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json', ...(requestId ? { 'x-request-id': requestId } : {}) } }, (r) => {
      let text = '';
      r.setEncoding('utf8');
      r.on('data', (d: string) => (text += d));
      r.on('end', () => {
        const h: string[] = [];
        for (let i = 0; i < r.rawHeaders.length; i += 2) {
          const name = r.rawHeaders[i]!;
          if (name !== 'Date') h.push(`${name}: ${name === 'x-request-id' && !requestId ? '<generated>' : r.rawHeaders[i + 1]}`);
        }
        resolvePost(`${r.statusCode}\n${h.join('\n')}\n\n${text}`);
      });
    });
    q.on('error', reject);
    q.end(body);
  });
}

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-ab-check-'));
  process.on('exit', () => {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  });
  const chatPort = await freePort();
  const ssePort = await freePort();
  await startNginx('upstream', join(dir, 'upstream'), upstreamConfig(join(dir, 'upstream'), chatPort, ssePort), [`http://127.0.0.1:${chatPort}/health`]);
  const scripted = await scriptedUpstream();
  const dead = await freePort();
  const config = switchyardConfigYaml([
    { name: MODEL_CHAT, upstreamUrl: `http://127.0.0.1:${chatPort}` },
    { name: MODEL_STREAM, upstreamUrl: `http://127.0.0.1:${ssePort}` },
    ...SCRIPTED.map((name) => ({ name, upstreamUrl: `http://127.0.0.1:${scripted}` })),
    { name: 'dead', upstreamUrl: `http://127.0.0.1:${dead}` },
  ]);
  writeFileSync(join(dir, 'gateway.yaml'), config);
  const ports: number[] = [];
  for (const [i, tree] of trees.entries()) {
    const p = startProcess({ name: `gateway${i}`, command: process.execPath, args: [join(tree, 'bin', 'switchyard.js'), 'gateway', '--config', join(dir, 'gateway.yaml'), '--port', '0', '--log-level', 'warn'], logDir: dir, cwd: tree });
    const url = await waitFor(`gateway ${tree}`, () => /listening on (http:\/\/\S+)/.exec(p.stdout())?.[1], 30_000, p);
    ports.push(Number(new URL(url).port));
  }
  const chat = (model: string, extra: object = {}): string => JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }], ...extra });
  const bodies = [
    ...MODES.map((m) => requestBody(m, m === 'chat' ? MODEL_CHAT : MODEL_STREAM)),
    chat(MODEL_STREAM, { stream: true, stream_options: { include_usage: false } }),
    chat(MODEL_STREAM, { stream: true, stream_options: null }),
    JSON.stringify({ model: MODEL_STREAM, messages: [], stream: true }),
    chat('no-such-model'),
    '{bad json',
    JSON.stringify({ model: MODEL_CHAT, messages: [{ role: 'tool', content: 'x' }] }),
    chat(MODEL_CHAT, { tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: 'auto' }),
    chat('err'),
    chat('dead'),
    ...SCRIPTED.filter((m) => m !== 'err').flatMap((m) => [chat(m, { stream: true }), chat(m, { stream: true, stream_options: { include_usage: true } })]),
  ];
  let differ = 0;
  for (const body of bodies) {
    for (const id of ['fixed-id', undefined]) {
      const [a, b] = [await post(ports[0]!, body, id), await post(ports[1]!, body, id)];
      if (a !== b) differ++;
      process.stdout.write(`${a === b ? 'SAME' : 'DIFF'} ${id ?? '(no id)'} ${body.slice(0, 80)}\n`);
      if (a !== b || values.show) process.stdout.write(`--- ${trees[0]}\n${a}\n--- ${trees[1]}\n${b}\n`);
    }
  }
  // A stream whose upstream lingers after [DONE]: [DONE] must reach the client at once.
  for (const [i, port] of ports.entries()) {
    const t0 = performance.now();
    const r = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chat('linger', { stream: true }) });
    const reader = r.body!.getReader();
    let text = '';
    let doneAt = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
      if (!doneAt && text.includes('[DONE]')) doneAt = performance.now() - t0;
    }
    process.stdout.write(`tree ${i}: lingering upstream: [DONE] after ${doneAt.toFixed(0)} ms, end after ${(performance.now() - t0).toFixed(0)} ms\n`);
  }
  const metrics = async (port: number): Promise<string> =>
    (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())
      .split('\n')
      .filter((l) => /^(# (HELP|TYPE) )?switchyard_/.test(l))
      .map((l) => (/_seconds_(bucket|sum)|_duration_seconds/.test(l) ? l.replace(/ \S+$/, ' <timing>') : l.replace(/127\.0\.0\.1:\d+/g, '<upstream>')))
      .join('\n');
  const [ma, mb] = [await metrics(ports[0]!), await metrics(ports[1]!)];
  if (ma !== mb) differ++;
  process.stdout.write(ma === mb ? 'METRICS SAME\n' : `METRICS DIFF\n--- ${trees[0]}\n${ma}\n--- ${trees[1]}\n${mb}\n`);
  process.stdout.write(`${differ === 0 ? 'all the same' : `${differ} difference(s)`}\n`);
  return differ === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`ab-check: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(2);
  },
);
