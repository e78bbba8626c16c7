/**
 * `switchyard worker sim` as a real process: bin/switchyard.js → tsx → src/cli. It prints its
 * URL (and KV-events endpoint), serves requests, logs JSON to stderr, exits 0 on SIGTERM,
 * exits 70 on the crash fault and 2 on bad flags. Five processes in all (tsx start-up is ~1-2 s
 * each); the three usage-error processes run concurrently.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Subscriber } from 'zeromq';
import { waitFor } from '../helpers/wait.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/switchyard.js', import.meta.url));
const MODEL = 'cli-test';
/**
 * tsx start-up is ~1-2 s on an idle 2-core box but has been seen above 20 s when the machine is
 * saturated: deadlines for start-up (and the timeouts of tests that spawn) are generous, the
 * deadlines for shutdown and crash stay tight.
 */
const STARTUP_MS = 45_000;
const SPAWN_TEST_TIMEOUT = 60_000;
const LISTENING = /listening on (http:\/\/127\.0\.0\.1:(\d+))(?: kv-events=(\S+))?[^\n]*\n/;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Proc {
  child: ChildProcess;
  out: { stdout: string; stderr: string };
  exited: Promise<Exit>;
}

function spawnSim(args: string[]): Proc {
  const child = spawn(process.execPath, [bin, 'worker', 'sim', ...args], {
    cwd: root,
    env: { ...process.env, SWITCHYARD_DEBUG: '', SWITCHYARD_LOG_LEVEL: 'info', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out.stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out.stderr += d));
  // 'close' (not 'exit'): stdout and stderr have been read to the end.
  const exited = new Promise<Exit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  const p = { child, out, exited };
  spawned.add(p);
  return p;
}

/** The process's exit, or a rejection once `ms` have passed without one. */
async function exitWithin(p: Proc, ms: number): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`process did not exit within ${ms} ms; stdout: ${p.out.stdout}; stderr: ${p.out.stderr}`)), ms);
  });
  try {
    return await Promise.race([p.exited, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Wait for the "listening on" line; returns the URL, port and the KV-events endpoint if any. */
async function listening(p: Proc): Promise<{ url: string; port: number; kvEvents: string | undefined }> {
  let exited: Exit | undefined;
  void p.exited.then((e) => (exited = e));
  const m = await waitFor(() => exited ?? LISTENING.exec(p.out.stdout), { timeoutMs: STARTUP_MS, intervalMs: 20, what: 'the "listening on" line' });
  if (!Array.isArray(m)) throw new Error(`exited (${JSON.stringify(m)}) before listening; stdout: ${p.out.stdout}; stderr: ${p.out.stderr}`);
  return { url: m[1]!, port: Number(m[2]), kvEvents: m[3] };
}

function kill(p: Proc): void {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
}

/** Does a TCP connection to 127.0.0.1:port fail with ECONNREFUSED? */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

async function chat(url: string, content = 'hello from the CLI test'): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content }], max_tokens: 4, ignore_eos: true }),
  });
}

// Every process is SIGKILLed when its test (or, for the shared one, its describe) ends, pass or
// fail — per test through onTestFinished, which is safe under describe.concurrent where an
// afterEach would also hit the other tests' processes — and again when the file ends.
const spawned = new Set<Proc>();
afterAll(() => {
  for (const p of spawned) kill(p);
});

describe('a running worker (one process; the SIGTERM test runs last)', () => {
  let proc: Proc;
  let srv: { url: string; port: number; kvEvents: string | undefined };
  beforeAll(async () => {
    proc = spawnSim(['--model', MODEL, '--port', '0', '--speedup', '20', '--kv-events-endpoint', 'tcp://127.0.0.1:*']);
    srv = await listening(proc);
  }, SPAWN_TEST_TIMEOUT);
  afterAll(() => {
    if (proc) kill(proc);
  });

  it('serves a chat completion on the printed URL and says it is SIMULATED (stdout and JSON stderr)', async () => {
    const res = await chat(srv.url);
    const body = (await res.json()) as { object: string; model: string; usage: { completion_tokens: number } };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ object: 'chat.completion', model: MODEL, usage: { completion_tokens: 4 } });
    expect(proc.out.stdout).toMatch(/SIMULATED/);
    expect(proc.out.stdout).toContain(`model '${MODEL}'`);
    const logs = proc.out.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const startup = logs.find((l) => l.simulated === true);
    expect(startup, proc.out.stderr).toBeDefined();
    expect(startup).toMatchObject({ model: MODEL, url: srv.url, msg: expect.stringMatching(/SIMULATED/) as unknown });
  });

  it('prints the KV-events endpoint it bound, and events arrive there', async () => {
    expect(srv.kvEvents).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(srv.kvEvents).not.toMatch(/:0$/);
    const sub = new Subscriber({ linger: 0 });
    try {
      sub.connect(srv.kvEvents!);
      sub.subscribe();
      let frames = 0;
      void (async () => {
        for await (const _ of sub) frames++;
      })().catch(() => undefined);
      // Slow joiner: send distinct prompts until a batch of KV events reaches the subscriber.
      let i = 0;
      await waitFor(async () => {
        await (await chat(srv.url, `kv events warm-up ${i++} ${'x '.repeat(40)}`)).arrayBuffer();
        return frames > 0;
      }, { what: 'a KV event batch on the printed endpoint' });
    } finally {
      sub.close();
    }
  });

  it('SIGTERM: exits 0 promptly and the port is closed', async () => {
    expect(await refused(srv.port)).toBe(false);
    proc.child.kill('SIGTERM');
    const exit = await exitWithin(proc, 10_000);
    expect(exit, proc.out.stderr).toEqual({ code: 0, signal: null });
    expect(proc.out.stderr).toMatch(/shutting down/);
    expect(await refused(srv.port)).toBe(true);
  });
});

describe('faults', () => {
  it('--fault-crash-after 2: the 2nd generation request fails and the process exits 70', async ({ onTestFinished }) => {
    const p = spawnSim(['--model', MODEL, '--port', '0', '--speedup', '20', '--fault-crash-after', '2']);
    onTestFinished(() => kill(p));
    const { url, port } = await listening(p);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    const first = await chat(url);
    expect(first.status).toBe(200);
    await first.arrayBuffer();
    await expect(chat(url)).rejects.toThrow();
    expect(await exitWithin(p, 10_000)).toEqual({ code: 70, signal: null });
    expect(p.out.stderr).toMatch(/simulated crash/);
    expect(await refused(port)).toBe(true);
  }, SPAWN_TEST_TIMEOUT);
});

describe.concurrent('bad flags exit 2 with a message on stderr and nothing on stdout', () => {
  const cases: [string, string[], RegExp[]][] = [
    ['--gpu B200', ['--model', MODEL, '--gpu', 'B200'], [/--gpu/, /B200/, /A100/, /H100/, /L4/]],
    ['missing --model', ['--port', '0'], [/missing required flag --model/]],
    ['--speedup 0', ['--model', MODEL, '--port', '0', '--speedup', '0'], [/--speedup/, /0\.001/]],
  ];
  it.for(cases)('%s', { timeout: SPAWN_TEST_TIMEOUT }, async ([_name, args, mentions], { expect, onTestFinished }) => {
    const p = spawnSim(args);
    onTestFinished(() => kill(p));
    const exit = await exitWithin(p, STARTUP_MS);
    expect(exit, p.out.stderr).toEqual({ code: 2, signal: null });
    expect(p.out.stdout).toBe('');
    for (const m of mentions) expect(p.out.stderr).toMatch(m);
    expect(p.out.stderr).toMatch(/--help/);
  });
});
