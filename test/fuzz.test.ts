/**
 * Fuzzing acceptance test (issue #6): over 10,000 malformed or hostile requests against the
 * gateway (OpenAI API) and the admin API of one `SwitchyardServer` — random JSON, wrong types,
 * missing and extra fields, huge strings, deep nesting, invalid UTF-8, truncated JSON, odd
 * literals (NaN, 1e309), duplicate and `__proto__` keys, wrong content types, bad and mixed
 * credentials, bad stream options, odd and traversing paths, requests that leave per-session
 * state behind, and, over raw sockets, malformed request lines, header injection, oversized and
 * too many headers, bad Content-Length, broken chunked encoding and pipelining. Cases come from a
 * seeded generator (test/helpers/fuzz.ts, PLAN has the count per category). Knobs:
 * FUZZ_SEED=<n> explores another seed; FUZZ_CASES=811-830,1234 replays only those cases of the
 * seed's run, one at a time (a reproducer); FUZZ_TRACE=1 prints every case before it is sent;
 * FUZZ_HEAP_SNAPSHOTS=<dir> and FUZZ_CPU_PROF=<dir> dump the server's heap / CPU profile. Every
 * failure prints the case's exact request.
 *
 * Processes. The server under test (a `SwitchyardServer` with a static cluster, a Function, a
 * Tenant and a minted API key) and the simulated engine behind it each run in a child process
 * (test/helpers/fuzz.ts `runChild`), not in the test's own process, because
 * - a fatal V8 error (an out-of-memory abort, a native stack overflow) cannot be caught, and a
 *   frozen event loop cannot be timed out from inside: in-process, either would take the test
 *   runner down with no hint of which request did it. In a child it is a dead process, or one
 *   that no longer answers GET /health, reported with the requests in flight (and the last ones
 *   answered) and the child's last stderr; the child is then killed and restarted (the server on
 *   the same data directory, the fixtures re-applied), so that the run still covers every case.
 *   Uncaught exceptions and unhandled rejections are collected in the children (their
 *   process.on handlers) and sent to the test over IPC, as are the test process's own;
 * - the heap measured is the server's alone: not the client's buffers, nor the engine's
 *   tokenizer caches.
 * A run starts with a cold phase: the run's "same request again and again" cases, sent one at a
 * time to the fresh server (what a just-started server meets before anything warmed up).
 *
 * Memory. The server child runs with --expose-gc; on request (IPC) it runs two full collections
 * and reports heapUsed (live JS heap) and RSS. The baseline is taken after a warm-up of the first
 * 2,000 requests (JIT code, caches, connection pools and lazily built tables have settled by
 * then), then after every further 1,000; the live heap must grow by less than
 * MAX_HEAP_GROWTH_MB over the remaining ~8,000 requests. RSS is printed but not asserted: the
 * allocator keeps freed pages, and the 16 MB bodies make it jumpy. (A restart of the server after
 * the baseline resets its heap, so growth is then not asserted; the restart fails the test.)
 *
 * Acceptance:
 * - no response with a status >= 500, except the documented 501 `not_implemented` of
 *   /v1/responses on a backend without the Responses API (the simulated engine); the backend
 *   stays healthy throughout, so the "no healthy backend" 503 has no excuse to appear;
 * - every 4xx with a JSON body has exactly the OpenAI error shape {error: {message, type, param,
 *   code}} (param and code may be null), and no error body is more than 4x (and 64 KB) larger
 *   than the request that caused it;
 * - no request hangs, no well-framed request (undici) is answered by a dropped connection
 *   (malformed raw HTTP may get Node's bare 400/431 or a close; oversized uploads may be cut),
 *   and no raw answer is anything but HTTP/1.1;
 * - the server keeps serving: after every 1,000 fuzz requests a valid chat request succeeds, the
 *   fixture cluster is intact and /ready is 200; no child process dies or freezes;
 * - no uncaught exception or unhandled rejection, in the children or here, and no property
 *   appears on the shared prototypes (Object, Array, Function, String) of the server or here
 *   (prototype pollution);
 * - memory stays flat (above).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent } from 'undici';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { API_VERSION } from '../src/api/index.js';
import { buildCase, describeCase, PLAN, schedule, type Category, type FuzzCase, type FuzzContext, type HttpCase, type RawCase, type ChildMessage, type ChildOptions } from './helpers/fuzz.js';
import { waitFor } from './helpers/wait.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const TRACE = process.env.FUZZ_TRACE === '1';
/** FUZZ_HEAP_SNAPSHOTS=<dir>: write the server's heap snapshots after the warm-up and at the end. */
const SNAPSHOTS = process.env.FUZZ_HEAP_SNAPSHOTS;
const ONLY: number[] | undefined = process.env.FUZZ_CASES?.split(',').flatMap((part) => {
  const [a, b] = part.split('-').map(Number);
  return Array.from({ length: (b ?? a!) - a! + 1 }, (_, k) => a! + k);
});

const TOKEN = 'sy-admin-fuzz-token';
const MODEL = 'fuzz-m';
const CLUSTER = 'fx-rack';
const FUNCTION = 'fx-fn';
const TENANT = 'fx-tenant';
const CONCURRENCY = 16;
const BATCH = 1000;
const WARMUP = 2000;
/** Longest a single case may take before it counts as a hang. */
const CASE_TIMEOUT_MS = 20_000;
/** Raw sockets: quiet time after which we send FIN, to see how the server answers EOF. */
const RAW_QUIET_MS = 400;
const MAX_HEAP_GROWTH_MB = 32;
/** src/gateway/config.ts limits.maxBodyBytes default, and the admin API's (src/control/http-common.ts). */
const MAX_BODY_BYTES = 16 * 1024 * 1024;
const ADMIN_MAX_BODY_BYTES = 8 << 20;
/** Keep at most this much of a non-JSON response body, and read at most MAX_JSON_BYTES of any. */
const KEEP_BYTES = 256 * 1024;
const MAX_JSON_BYTES = 64 * 1024 * 1024;
/** An error body larger than this and than AMPLIFICATION x the request is an amplification bug. */
const MAX_ERROR_BYTES = 64 * 1024;
const AMPLIFICATION = 4;
const CHILD_ENTRY = fileURLToPath(new URL('./helpers/fuzz.ts', import.meta.url));
/**
 * A child that does not answer GET /health within this long is frozen. CI runs this file next to
 * the rest of the suite on 2 cores, so the bound leaves room for a busy machine. The engine gets
 * more: it is the simulator behind the server under test, and tokenizing a 1 MB input (which
 * this run sends) takes it ~1.4 s of CPU on a quiet core.
 */
const LIVENESS_TIMEOUT_MS = { server: 10_000, engine: 30_000 } as const;

// ---------------------------------------------------------------------------------------------
// The child processes

interface Failure {
  index: number;
  category: Category | 'server' | 'engine';
  reason: string;
  request: string;
  response: string;
}

/** A child process: the server under test, or the engine behind it (test/helpers/fuzz.ts runChild). */
class Child {
  url = '';
  dead = false;
  readonly exited: Promise<string>;
  private stderr = '';
  private readonly memWaiters: ((m: { heapUsed: number; rss: number; gc: boolean; polluted: string[] }) => void)[] = [];

  private constructor(
    readonly name: 'server' | 'engine',
    readonly proc: ChildProcess,
  ) {
    proc.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString('utf8')).slice(-6000);
    });
    proc.on('message', (m: ChildMessage) => {
      if (m.type === 'crash') crashes.push(`${name} ${m.what}: ${m.stack}`);
      else if (m.type === 'mem') this.memWaiters.shift()?.(m);
      else if (m.type === 'ready') this.url = m.url;
    });
    this.exited = new Promise((resolve) =>
      proc.once('exit', (code, signal) => {
        this.dead = true;
        resolve(signal ?? `exit code ${code}`);
      }),
    );
  }

  static async start(o: ChildOptions): Promise<Child> {
    const prof = process.env.FUZZ_CPU_PROF && o.mode === 'server' ? ['--cpu-prof', `--cpu-prof-dir=${process.env.FUZZ_CPU_PROF}`] : [];
    const proc = fork(CHILD_ENTRY, [], { execArgv: ['--expose-gc', '--import', 'tsx', ...prof], env: { ...process.env, SWITCHYARD_FUZZ_CHILD: JSON.stringify(o) }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const c = new Child(o.mode, proc);
    await waitFor(() => c.url !== '' || c.dead, { timeoutMs: 60_000, intervalMs: 20, what: `the fuzz ${o.mode} to start` });
    if (c.dead) throw new Error(`the fuzz ${o.mode} exited at start (${await c.exited}):\n${c.stderr}`);
    return c;
  }

  stderrTail(): string {
    return this.stderr.slice(-2500);
  }

  /** Does it answer GET /health within LIVENESS_TIMEOUT_MS? */
  async responsive(): Promise<boolean> {
    if (this.dead) return false;
    try {
      const r = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(LIVENESS_TIMEOUT_MS[this.name]) });
      await r.arrayBuffer();
      return true;
    } catch {
      return false;
    }
  }

  mem(): Promise<{ heapUsed: number; rss: number; gc: boolean; polluted: string[] }> {
    return new Promise((resolve) => {
      this.memWaiters.push(resolve);
      this.proc.send({ type: 'mem' });
    });
  }

  snapshot(file: string): Promise<string> {
    return new Promise((resolve) => {
      const on = (m: ChildMessage) => {
        if (m.type !== 'snapshot') return;
        this.proc.off('message', on);
        resolve(m.file);
      };
      this.proc.on('message', on);
      this.proc.send({ type: 'snapshot', file });
    });
  }

  async stop(): Promise<void> {
    if (this.dead) return;
    this.proc.send({ type: 'stop' });
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(t);
  }

  async kill(): Promise<void> {
    if (!this.dead) this.proc.kill('SIGKILL');
    await this.exited;
  }
}

let dir: string;
let engine: Child;
let server: Child;
let agent: Agent;
let ctx: FuzzContext;
const crashes: string[] = [];
const onRejection = (e: unknown) => crashes.push(`test process unhandledRejection: ${e instanceof Error ? e.stack : String(e)}`);
const onException = (e: unknown) => crashes.push(`test process uncaughtException: ${e instanceof Error ? e.stack : String(e)}`);

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(server.url + path, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, ...(body === undefined ? {} : { body: JSON.stringify(body) }), signal: AbortSignal.timeout(CASE_TIMEOUT_MS) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function validChat(key: string): Promise<{ status: number; text: string }> {
  try {
    const res = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'still there?' }], max_tokens: 3 }), signal: AbortSignal.timeout(CASE_TIMEOUT_MS) });
    return { status: res.status, text: await res.text() };
  } catch (e) {
    return { status: 0, text: String(e) };
  }
}

/**
 * Apply the fixtures (again, after a restart of either child: the cluster then points at the
 * engine's new port) and mint a key (once); resolves once /ready is 200 and a valid chat request
 * succeeds with the key.
 */
async function setUpFixtures(mint: boolean): Promise<FuzzContext> {
  const applied = await admin('POST', '/api/v1/apply', {
    items: [
      { apiVersion: API_VERSION, kind: 'Cluster', metadata: { name: CLUSTER }, spec: { provider: 'static', static: { endpoints: [{ url: engine.url, model: MODEL }] } } },
      { apiVersion: API_VERSION, kind: 'Function', metadata: { name: FUNCTION }, spec: { model: 'org/fuzz', runtime: 'vllm', servedName: MODEL, targetClusters: [CLUSTER] } },
      { apiVersion: API_VERSION, kind: 'Tenant', metadata: { name: TENANT }, spec: {} },
    ],
  });
  if (applied.status !== 200) throw new Error(`applying the fixtures failed: ${JSON.stringify(applied)}`);
  let apiKey = ctx?.apiKey;
  let keyName: string | undefined;
  if (mint || apiKey === undefined) {
    const minted = await admin('POST', `/api/v1/tenants/${TENANT}/keys`, { description: 'fuzz' });
    if (minted.status !== 201) throw new Error(`minting a key failed: ${JSON.stringify(minted)}`);
    apiKey = minted.body.key as string;
    keyName = (minted.body.apiKey as { metadata: { name: string } }).metadata.name;
  }
  await waitFor(async () => (await fetch(`${server.url}/ready`)).status === 200, { timeoutMs: 20_000, what: '/ready' });
  await waitFor(async () => (await validChat(apiKey)).status === 200, { timeoutMs: 20_000, what: 'a valid chat request with the minted key' });
  return {
    model: MODEL,
    apiKey,
    adminToken: TOKEN,
    protectedNames: new Set([CLUSTER, FUNCTION, TENANT, `${FUNCTION}-${CLUSTER}`, ...(keyName ? [keyName] : []), ...(ctx?.protectedNames ?? [])]),
    fixtureCluster: CLUSTER,
    fixtureFunction: FUNCTION,
    fixtureDeployment: `${FUNCTION}-${CLUSTER}`,
    fixtureTenant: TENANT,
    maxBodyBytes: MAX_BODY_BYTES,
    adminMaxBodyBytes: ADMIN_MAX_BODY_BYTES,
  };
}

beforeAll(async () => {
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  dir = mkdtempSync(join(tmpdir(), 'switchyard-fuzz-'));
  [engine, server] = await Promise.all([Child.start({ mode: 'engine', model: MODEL }), Child.start({ mode: 'server', dataDir: dir, adminToken: TOKEN })]);
  ctx = await setUpFixtures(true);
  agent = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 5_000, headersTimeout: CASE_TIMEOUT_MS, bodyTimeout: CASE_TIMEOUT_MS });
}, 90_000);

afterAll(async () => {
  await agent?.close().catch(() => undefined);
  await server?.stop();
  await engine?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  process.off('unhandledRejection', onRejection);
  process.off('uncaughtException', onException);
}, 30_000);

// ---------------------------------------------------------------------------------------------
// Sending

interface Reply {
  status: number;
  contentType: string;
  /** The body, or its first MAX_JSON_BYTES (JSON) or KEEP_BYTES (anything else). */
  body: Buffer;
  /** Bytes received (at least). */
  size: number;
}

interface Outcome {
  /** The responses received (a raw socket may get several, or none). */
  replies: Reply[];
  /** The request failed without a response (undici), or the socket errored (raw). */
  error?: string;
  timedOut?: boolean;
  /** Raw: bytes that are not an HTTP/1.x response came back. */
  garbage?: boolean;
  /** Raw: fewer complete responses than requests sent (the server closed or went quiet). */
  incomplete?: boolean;
}

async function* chunked(spec: { chunk: Buffer; count: number }): AsyncGenerator<Buffer> {
  for (let i = 0; i < spec.count; i++) yield spec.chunk;
}

async function sendHttp(c: HttpCase, origin: string): Promise<Outcome> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error('case timeout')), CASE_TIMEOUT_MS);
  try {
    const res = await agent.request({
      origin,
      path: c.path,
      method: c.method,
      headers: c.headers,
      body: c.body ?? (c.chunkedBody ? Readable.from(chunked(c.chunkedBody)) : null),
      signal: ac.signal,
    });
    const contentType = String(res.headers['content-type'] ?? '');
    const json = contentType.includes('json');
    // A watch (wherever the fuzzer found one) or a followed log never ends: one chunk shows it
    // started, then hang up.
    const endless = c.firstChunkOnly === true || (contentType.startsWith('text/event-stream') && !c.path.startsWith('/v1/'));
    const chunks: Buffer[] = [];
    let kept = 0;
    let size = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (kept < KEEP_BYTES || (json && kept < MAX_JSON_BYTES)) {
        chunks.push(chunk);
        kept += chunk.length;
      }
      if (endless && !json) break;
      if (size > MAX_JSON_BYTES) break;
    }
    return { replies: [{ status: res.statusCode, contentType, body: Buffer.concat(chunks), size }] };
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    return { replies: [], error: e instanceof Error ? `${e.name}: ${e.message}${typeof code === 'string' ? ` (${code})` : ''}` : String(e), timedOut: ac.signal.aborted };
  } finally {
    clearTimeout(timer);
  }
}

/** The HTTP/1.x responses in `buf`, and how many are complete. `closed`: a body without framing runs to the end. */
function parseResponses(buf: Buffer, closed: boolean): { replies: Reply[]; complete: number; garbage: boolean } {
  const replies: Reply[] = [];
  let at = 0;
  let complete = 0;
  while (at < buf.length) {
    const end = buf.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const head = buf.subarray(at, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '');
    if (!m) return { replies, complete, garbage: true };
    const status = Number(m[1]);
    const headers = new Map<string, string>();
    for (const line of head.slice(1)) {
      const i = line.indexOf(':');
      if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
    }
    const contentType = headers.get('content-type') ?? '';
    let p = end + 4;
    if (status < 200 || status === 204 || status === 304) {
      if (status >= 200) {
        replies.push({ status, contentType, body: Buffer.alloc(0), size: 0 });
        complete++;
      }
      at = p;
      continue;
    }
    if (headers.get('transfer-encoding')?.toLowerCase().includes('chunked')) {
      const parts: Buffer[] = [];
      let done = false;
      for (;;) {
        const eol = buf.indexOf('\r\n', p);
        if (eol < 0) break;
        const size = parseInt(buf.subarray(p, eol).toString('latin1'), 16);
        if (!Number.isFinite(size)) return { replies, complete, garbage: true };
        if (size === 0) {
          const trailerEnd = buf.indexOf('\r\n\r\n', eol);
          if (trailerEnd < 0) break;
          p = trailerEnd + 4;
          done = true;
          break;
        }
        if (eol + 2 + size + 2 > buf.length) break;
        parts.push(buf.subarray(eol + 2, eol + 2 + size));
        p = eol + 2 + size + 2;
      }
      const body = Buffer.concat(parts);
      replies.push({ status, contentType, body, size: body.length });
      if (!done) break;
      complete++;
      at = p;
      continue;
    }
    if (headers.has('content-length')) {
      const n = Number(headers.get('content-length'));
      if (p + n > buf.length) {
        replies.push({ status, contentType, body: buf.subarray(p), size: buf.length - p });
        break;
      }
      replies.push({ status, contentType, body: buf.subarray(p, p + n), size: n });
      complete++;
      at = p + n;
      continue;
    }
    replies.push({ status, contentType, body: buf.subarray(p), size: buf.length - p });
    if (closed) complete++;
    break;
  }
  return { replies, complete, garbage: false };
}

/**
 * Write the bytes; wait for as many complete responses as requests were sent, or for the
 * server to close. If the server stays silent for RAW_QUIET_MS, send FIN (an incomplete request
 * must then be answered or closed, not left hanging).
 */
function sendRaw(c: RawCase, origin: string): Promise<Outcome> {
  const expected = Number(/^(\d+) pipelined/.exec(c.note)?.[1] ?? 1);
  return new Promise((resolve) => {
    const url = new URL(origin);
    const sock = connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    let error: string | undefined;
    let finished = false;
    let quiet: NodeJS.Timeout | undefined;
    const done = (timedOut: boolean, closed: boolean): void => {
      if (finished) return;
      finished = true;
      clearTimeout(quiet);
      clearTimeout(hard);
      sock.destroy();
      const { replies, garbage, complete } = parseResponses(Buffer.concat(chunks), closed);
      resolve({ replies, ...(error ? { error } : {}), timedOut, ...(garbage ? { garbage } : {}), ...(complete < expected ? { incomplete: true } : {}) });
    };
    const armQuiet = (): void => {
      clearTimeout(quiet);
      quiet = setTimeout(() => {
        if (!sock.writableEnded) sock.end();
      }, RAW_QUIET_MS);
    };
    const hard = setTimeout(() => done(true, false), CASE_TIMEOUT_MS);
    sock.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
    });
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      const parsed = parseResponses(Buffer.concat(chunks), false);
      if (parsed.garbage || parsed.complete >= expected) done(false, false);
      else armQuiet();
    });
    sock.on('close', () => done(false, true));
    sock.write(c.bytes, () => armQuiet());
  });
}

// ---------------------------------------------------------------------------------------------
// Checking

const OPENAI_ERROR_KEYS = ['code', 'message', 'param', 'type'];

/** Why a 4xx JSON body is not an OpenAI error, or null if it is one. */
function openAIErrorProblem(body: Buffer): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return 'a JSON content type but an unparseable body';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'not a JSON object';
  const top = Object.keys(parsed);
  if (top.length !== 1 || top[0] !== 'error') return `top-level keys ${JSON.stringify(top)}, expected ["error"]`;
  const err = (parsed as { error: unknown }).error;
  if (typeof err !== 'object' || err === null || Array.isArray(err)) return '`error` is not an object';
  const e = err as Record<string, unknown>;
  const keys = Object.keys(e).sort();
  if (JSON.stringify(keys) !== JSON.stringify(OPENAI_ERROR_KEYS)) return `error keys ${JSON.stringify(keys)}, expected ${JSON.stringify(OPENAI_ERROR_KEYS)}`;
  if (typeof e.message !== 'string' || e.message === '') return 'error.message is not a non-empty string';
  if (typeof e.type !== 'string' || e.type === '') return 'error.type is not a non-empty string';
  if (e.param !== null && typeof e.param !== 'string') return 'error.param is neither a string nor null';
  if (e.code !== null && typeof e.code !== 'string') return 'error.code is neither a string nor null';
  return null;
}

function errorCodeOf(r: Reply): string {
  try {
    const code = (JSON.parse(r.body.toString('utf8')) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code : String(code);
  } catch {
    return '-';
  }
}

function replyText(r: Reply): string {
  const text = r.body.subarray(0, 600).toString('utf8');
  return `${r.status} ${r.contentType} ${JSON.stringify(r.body.length > 600 ? `${text}…` : text)}`;
}

function requestBytes(c: FuzzCase): number {
  if (c.type === 'raw') return c.bytes.length;
  const head = c.method.length + c.path.length + Object.entries(c.headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
  return head + (c.body?.length ?? (c.chunkedBody ? c.chunkedBody.chunk.length * c.chunkedBody.count : 0));
}

/** The problems with an outcome (empty: fine). */
function check(c: FuzzCase, o: Outcome): string[] {
  const problems: string[] = [];
  if (o.timedOut) problems.push(`no answer within ${CASE_TIMEOUT_MS} ms (hang)`);
  if (o.garbage) problems.push('the server sent bytes that are not an HTTP/1.1 response');
  else if (c.type === 'http' && o.replies.length === 0 && !c.mayResetUpload) problems.push(`connection dropped without a response: ${o.error}`);
  for (const r of o.replies) {
    if (r.status >= 500) {
      const documented501 = r.status === 501 && c.type === 'http' && c.method === 'POST' && c.path.startsWith('/v1/responses') && errorCodeOf(r) === 'not_implemented';
      if (!documented501) problems.push(`status ${r.status} (${errorCodeOf(r)})`);
    }
    // A HEAD response has the headers of the GET response and no body.
    const head = (c.type === 'http' ? c.method : c.bytes.subarray(0, 5).toString('latin1')).startsWith('HEAD');
    if (r.status >= 400 && r.status < 500 && r.contentType.includes('json') && !head && r.size <= MAX_JSON_BYTES) {
      const p = openAIErrorProblem(r.body);
      if (p) problems.push(`${r.status} body is not an OpenAI error: ${p}`);
    }
    const sent = requestBytes(c);
    if (r.status >= 400 && r.size > MAX_ERROR_BYTES && r.size > AMPLIFICATION * sent) problems.push(`a ${r.size > MAX_JSON_BYTES ? 'more than ' : ''}${r.size}-byte error body for a ${sent}-byte request (amplification)`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// The run

it(`survives ${Object.values(PLAN).reduce((a, b) => a + b, 0)} hostile requests (seed ${SEED})`, async () => {
  const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort().join(',');
  const categories = schedule(SEED);
  const ordinals = new Int32Array(categories.length);
  const seen = new Map<Category, number>();
  categories.forEach((cat, i) => {
    ordinals[i] = seen.get(cat) ?? 0;
    seen.set(cat, (seen.get(cat) ?? 0) + 1);
  });

  const failures: Failure[] = [];
  const sent = new Map<Category, number>();
  /** Time spent waiting for answers, per category (ms, summed over concurrent requests). */
  const busy = new Map<Category, number>();
  const statuses = new Map<string, number>();
  let dropped = 0;
  let restarts = 0;
  let serverRestarts = 0;
  let restartMs = 0;
  const memory: { after: number; heapMB: number; rssMB: number; gc: boolean }[] = [];
  /** Properties that appeared on the server's shared prototypes (prototype pollution). */
  const serverPollution: string[] = [];
  const inFlight = new Map<number, FuzzCase>();
  /** The last cases answered (a death may be noticed only by the next request). */
  const recent: FuzzCase[] = [];
  let restarting: Promise<void> | null = null;
  /** Incremented whenever a child is replaced: outcomes of requests sent before belong to the dead one. */
  let generation = 0;
  const t0 = performance.now();
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  /** A child died or froze: record what was in flight and its last words, replace it, re-apply the fixtures. */
  const replace = (c: Child, what: string): Promise<void> => {
    restarting ??= (async () => {
      generation++;
      if (!c.dead) await c.kill();
      failures.push({
        index: -1,
        category: c.name,
        reason: `the ${c.name} process ${what} while cases ${[...inFlight.keys()].join(', ')} were in flight`,
        request: `${inFlight.size} case(s) in flight:\n${[...inFlight.values()].map((f) => describeCase(f, ctx, 300)).join('\n')}\nthe last ${recent.length} answered before: ${recent.map((f) => `#${f.index} [${f.category}] ${f.note}`).join('; ')}`,
        response: `${c.name} stderr (tail):\n${c.stderrTail()}`,
      });
      restarts++;
      const began = performance.now();
      if (c.name === 'server') {
        serverRestarts++;
        server = await Child.start({ mode: 'server', dataDir: dir, adminToken: TOKEN });
      } else {
        engine = await Child.start({ mode: 'engine', model: MODEL });
      }
      ctx = await setUpFixtures(false); // the key lives in the store: it outlives a server restart
      restartMs += performance.now() - began;
      restarting = null;
    })();
    return restarting;
  };

  /** Is a child dead or frozen? Then replace it. */
  const checkChildren = async (): Promise<void> => {
    for (const c of [server, engine]) if (c.dead) return replace(c, `died (${await c.exited})`);
    for (const c of [server, engine]) if (!(await c.responsive())) return replace(c, `froze (no answer to GET /health within ${LIVENESS_TIMEOUT_MS[c.name]} ms)`);
  };

  const runOne = async (i: number): Promise<void> => {
    if (restarting) await restarting;
    const gen = generation;
    const srv = server;
    const c = buildCase(SEED, i, categories[i]!, ordinals[i]!, ctx);
    if (TRACE) writeSync(2, `${describeCase(c, ctx, 200)}\n`);
    inFlight.set(i, c);
    const started = performance.now();
    const o = c.type === 'raw' ? await sendRaw(c, srv.url) : await sendHttp(c, srv.url);
    busy.set(c.category, (busy.get(c.category) ?? 0) + performance.now() - started);
    sent.set(c.category, (sent.get(c.category) ?? 0) + 1);
    if (o.replies.length === 0 || o.timedOut || o.incomplete) {
      // Did a child die (its exit may be reported a little after the reset) or freeze under us?
      await Promise.race([srv.exited, engine.exited, sleep(200)]);
      if (generation === gen && !restarting) await checkChildren();
    }
    if (restarting) await restarting;
    inFlight.delete(i);
    if (generation !== gen) return; // in flight when a child was replaced: reported with that
    recent.push(c);
    if (recent.length > 8) recent.shift();
    if (o.replies.length === 0) dropped++;
    for (const r of o.replies) {
      const k = `${c.type} ${r.status}`;
      statuses.set(k, (statuses.get(k) ?? 0) + 1);
    }
    for (const reason of check(c, o)) {
      failures.push({ index: i, category: c.category, reason, request: describeCase(c, ctx), response: o.replies.map(replyText).join('\n') || `(none: ${o.error ?? 'closed'})` });
    }
  };

  const probe = async (after: number): Promise<void> => {
    await checkChildren();
    const chat = await validChat(ctx.apiKey);
    if (chat.status !== 200 || !/"content":"/.test(chat.text)) failures.push({ index: -1, category: 'server', reason: `a valid chat request failed after ${after} fuzz requests`, request: 'POST /v1/chat/completions (valid)', response: `${chat.status} ${chat.text.slice(0, 500)}` });
    const fixture = await admin('GET', `/api/v1/clusters/${CLUSTER}`);
    if (fixture.status !== 200) failures.push({ index: -1, category: 'server', reason: `the fixture cluster is unreadable after ${after} fuzz requests`, request: `GET /api/v1/clusters/${CLUSTER}`, response: `${fixture.status} ${JSON.stringify(fixture.body).slice(0, 500)}` });
    const ready = await fetch(`${server.url}/ready`);
    await ready.arrayBuffer();
    if (ready.status !== 200) failures.push({ index: -1, category: 'server', reason: `/ready is ${ready.status} after ${after} fuzz requests`, request: 'GET /ready', response: String(ready.status) });
  };

  /** Server restarts when the memory baseline was taken: a later one resets the heap. */
  let restartsAtBaseline = -1;
  const sample = async (after: number): Promise<void> => {
    if (restartsAtBaseline < 0) restartsAtBaseline = serverRestarts;
    const m = await server.mem();
    memory.push({ after, heapMB: m.heapUsed / 2 ** 20, rssMB: m.rss / 2 ** 20, gc: m.gc });
    for (const k of m.polluted) if (!serverPollution.includes(k)) serverPollution.push(k);
    if (SNAPSHOTS && (after === WARMUP || after === categories.length)) await server.snapshot(join(SNAPSHOTS, `fuzz-server-${after}.heapsnapshot`));
  };

  // Cold start: a server meets its first requests with nothing warmed up (lazy initialisation,
  // regular expressions not yet compiled to native code, …). Before the main run, the fresh
  // server gets the run's "same request again and again" cases, one at a time.
  const cold = ONLY ? [] : categories.flatMap((cat, i) => (cat === 'raw-http' && / \(the same one\)$/.test(buildCase(SEED, i, cat, ordinals[i]!, ctx).note) ? [i] : []));
  for (const i of cold) await runOne(i);
  if (ONLY) {
    for (const i of ONLY) await runOne(i);
    await probe(ONLY.length);
    await sample(ONLY.length);
  }
  for (let from = 0; !ONLY && from < categories.length; from += BATCH) {
    const to = Math.min(categories.length, from + BATCH);
    let next = from;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < to; i = next++) await runOne(i);
      }),
    );
    await probe(to);
    if (to >= WARMUP) await sample(to);
  }
  const seconds = (performance.now() - t0) / 1000;

  // ---- report ----
  const total = [...sent.values()].reduce((a, b) => a + b, 0);
  const growthMB = memory[memory.length - 1]!.heapMB - memory[0]!.heapMB;
  console.log(
    [
      `fuzz seed ${SEED}: ${total} requests (${cold.length} of them twice: first to the cold server) in ${seconds.toFixed(1)} s (${CONCURRENCY} in flight), ${restarts} restart(s) of a dead or frozen child (${serverRestarts} of the server; ${(restartMs / 1000).toFixed(1)} s restarting)`,
      `per category (requests, mean latency): ${[...sent].sort().map(([k, v]) => `${k} ${v} (${((busy.get(k) ?? 0) / v).toFixed(0)} ms)`).join(', ')}`,
      `statuses: ${[...statuses].sort().map(([k, v]) => `${k}: ${v}`).join(', ')}; no response (allowed for raw HTTP and oversized uploads): ${dropped}`,
      `server heap after GC${memory[0]!.gc ? '' : ' (gc unavailable: not forced)'} (MB): ${memory.map((m) => `${m.after}: ${m.heapMB.toFixed(1)}`).join(', ')}; growth after warm-up ${growthMB.toFixed(1)} MB`,
      `server rss (MB): ${memory.map((m) => `${m.after}: ${m.rssMB.toFixed(0)}`).join(', ')}`,
    ].join('\n'),
  );
  if (failures.length > 0) {
    const groups = new Map<string, Failure[]>();
    for (const f of failures) {
      const sig = `[${f.category}] ${f.reason.replace(/cases [\d, ]+ were/g, 'cases N were').replace(/\d{3,}/g, 'N')}`;
      groups.set(sig, [...(groups.get(sig) ?? []), f]);
    }
    console.log(
      `${failures.length} failure(s) in ${groups.size} group(s):\n\n` +
        [...groups].map(([sig, fs]) => `=== ${sig}: ${fs.length} case(s)\n` + fs.slice(0, 3).map((f) => `--- request ${f.request}\n--- response ${f.response}`).join('\n')).join('\n\n'),
    );
  }

  // Soft: every kind of failure is reported, not only the first.
  if (!ONLY) expect.soft(total).toBeGreaterThanOrEqual(10_000);
  expect.soft(crashes).toEqual([]);
  expect.soft(Object.getOwnPropertyNames(Object.prototype).sort().join(',')).toBe(prototypeBefore);
  expect.soft(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect.soft(serverPollution, 'properties added to the server\'s shared prototypes').toEqual([]);
  expect.soft(failures.map((f) => `#${f.index} [${f.category}] ${f.reason}`)).toEqual([]);
  expect.soft(memory[0]!.gc).toBe(true);
  if (serverRestarts === restartsAtBaseline) expect.soft(growthMB, 'server heap growth after the warm-up (MB)').toBeLessThan(MAX_HEAP_GROWTH_MB);
}, 600_000);
