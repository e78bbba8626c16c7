/**
 * `switchyard gateway -c FILE` as a real process (bin/switchyard.js → tsx → src/cli):
 * - SIGHUP reloads the config file: with --no-watch (so a file change alone reloads nothing), the
 *   edited file's models show on /v1/models after SIGHUP;
 * - `--workers 2`: two worker processes share the port, /metrics counts every worker's requests,
 *   SIGHUP at the primary reaches both workers, a killed worker is replaced, SIGTERM drains all.
 * Backends: one Node server answering a fixed chat completion. No fixed sleeps: every wait polls
 * with a deadline.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricValue, waitFor } from '../helpers/wait.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/switchyard.js', import.meta.url));
/** tsx start-up is slow on a saturated 2-core box (see worker-sim-cli.test.ts). */
const STARTUP_MS = 60_000;
const TEST_TIMEOUT = 120_000;
const LISTENING = /switchyard gateway listening on (http:\/\/127\.0\.0\.1:\d+)/;

interface Proc {
  child: ChildProcess;
  out: { stdout: string; stderr: string };
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const spawned: Proc[] = [];
let dir = '';
let backend: Server;
let backendUrl = '';

function configYaml(models: string[]): string {
  return ['listen: { host: 127.0.0.1, port: 0 }', 'drainTimeout: 5s', 'models:', ...models.flatMap((m) => [`  - name: ${m}`, '    profile: round_robin', `    endpoints: [ { url: '${backendUrl}' } ]`]), ''].join('\n');
}

function spawnGateway(args: string[]): Proc {
  const child = spawn(process.execPath, [bin, 'gateway', ...args, '--log-level', 'info'], { cwd: root, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out.stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out.stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  const p = { child, out, exited };
  spawned.push(p);
  return p;
}

async function listening(p: Proc): Promise<string> {
  let gone = false;
  void p.exited.then(() => (gone = true));
  const m = await waitFor(() => gone || LISTENING.exec(p.out.stdout), { timeoutMs: STARTUP_MS, intervalMs: 20, what: 'the "listening on" line' });
  if (!Array.isArray(m)) throw new Error(`exited before listening; stdout: ${p.out.stdout}; stderr: ${p.out.stderr}`);
  return m[1]!;
}

/** GET on a new connection each time (no keep-alive): with several workers, each may answer. */
function get(url: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function chat(url: string, model: string): Promise<number> {
  const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', connection: 'close' }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }) });
  await r.text();
  return r.status;
}

const models = async (url: string): Promise<string[]> => (JSON.parse((await get(`${url}/v1/models`)).text) as { data: { id: string }[] }).data.map((m) => m.id).sort();

/** Child PIDs of a process (Linux: /proc/<pid>/task/<pid>/children). */
function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-gateway-cli-'));
  backend = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify({ id: 'c', object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  backendUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const p of spawned) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  backend.closeAllConnections();
  await new Promise((r) => backend.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('switchyard gateway -c FILE (process)', () => {
  it(
    'SIGHUP reloads the config file (--no-watch: the edit alone changes nothing)',
    async () => {
      const file = join(dir, 'hup.yaml');
      writeFileSync(file, configYaml(['alpha']));
      const p = spawnGateway(['-c', file, '--port', '0', '--no-watch']);
      const url = await listening(p);
      expect(await models(url)).toEqual(['alpha']);
      writeFileSync(file, configYaml(['alpha', 'beta']));
      // Not watched: until SIGHUP, the gateway keeps the table it has.
      expect(await models(url)).toEqual(['alpha']);
      p.child.kill('SIGHUP');
      await waitFor(async () => (await models(url)).includes('beta'), { timeoutMs: 10_000, what: "model 'beta' after SIGHUP" });
      expect(await chat(url, 'beta')).toBe(200);
      expect(p.out.stderr).toContain('configuration reloaded');
      p.child.kill('SIGTERM');
      expect((await p.exited).code).toBe(0);
    },
    TEST_TIMEOUT,
  );

  it(
    '--workers 2: shared port, metrics of all workers, SIGHUP reaches both, a killed worker is replaced, SIGTERM drains',
    async () => {
      const file = join(dir, 'workers.yaml');
      writeFileSync(file, configYaml(['alpha']));
      const p = spawnGateway(['-c', file, '--port', '0', '--no-watch', '--workers', '2']);
      const url = await listening(p);
      expect(p.out.stdout).toContain('2 worker processes');
      const primary = p.child.pid!;
      const first = await waitFor(() => (children(primary).length === 2 ? children(primary) : null), { what: 'two workers' });

      for (let i = 0; i < 20; i++) expect(await chat(url, 'alpha')).toBe(200);
      // Whichever worker answers, /metrics counts the requests of both.
      for (let i = 0; i < 4; i++) expect(metricValue((await get(`${url}/metrics`)).text, 'switchyard_requests_total', { model: 'alpha', status: '200' })).toBe(20);

      writeFileSync(file, configYaml(['alpha', 'beta']));
      p.child.kill('SIGHUP');
      // Both workers reloaded: every answer (new connections alternate between them) has 'beta'.
      await waitFor(async () => {
        for (let i = 0; i < 4; i++) if (!(await models(url)).includes('beta')) return false;
        return true;
      }, { timeoutMs: 10_000, what: "'beta' on every worker" });

      process.kill(first[0]!, 'SIGKILL');
      const replaced = await waitFor(() => {
        const now = children(primary);
        return now.length === 2 && !now.includes(first[0]!) ? now : null;
      }, { timeoutMs: STARTUP_MS, what: 'a replacement worker' });
      expect(replaced).toContain(first[1]!);
      await waitFor(async () => {
        for (let i = 0; i < 4; i++) if ((await chat(url, 'beta')) !== 200) return false;
        return true;
      }, { timeoutMs: STARTUP_MS, what: 'the replacement serving' });
      expect(p.out.stderr).toContain('gateway worker died; starting a new one');

      p.child.kill('SIGTERM');
      expect((await p.exited).code).toBe(0);
      for (const pid of replaced) expect(() => process.kill(pid, 0)).toThrow();
    },
    TEST_TIMEOUT,
  );
});
