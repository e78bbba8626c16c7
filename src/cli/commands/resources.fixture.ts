/**
 * Shared fixture of the resource-command tests: a real, in-process SwitchyardServer (embedded
 * SQLite, git history, reconciler, admin API) on 127.0.0.1 and an in-process SimWorker that a
 * static Cluster points at, so Deployments become Ready without child processes. Each test
 * file that calls useResourceServer() gets its own server.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { codeOf } from '../../../test/helpers/errors.js';
import { API_VERSION, SwitchyardClient, type Kind } from '../../api/index.js';
import { SimWorker } from '../../engines/index.js';
import { SwitchyardServer } from '../../server.js';
import { runCliCaptured } from '../framework-testing.js';
import { agentCommand } from './agent.js';
import { applyCommand } from './apply.js';
import { deleteCommand } from './delete.js';
import { describeCommand } from './describe.js';
import { getCommand } from './get.js';
import { historyCommand } from './history.js';
import { logsCommand } from './logs.js';
import { rollbackCommand } from './rollback.js';

export const commands = [applyCommand, getCommand, describeCommand, deleteCommand, historyCommand, rollbackCommand, logsCommand, agentCommand];

export const TOKEN = 'sy-cli-resources-test';
const BIN = fileURLToPath(new URL('../../../bin/switchyard.js', import.meta.url));
/** The model the SimWorker serves; Functions name it as servedName to get its endpoint. */
export const MODEL = 'm-sim';
export const AGE = /\d+[smhdy]/.source;

/** Filled by useResourceServer()'s beforeAll. `admin` is for fixtures and checks; its writes are authored by 'setup'. */
export const fx = {} as { dir: string; worker: SimWorker; server: SwitchyardServer; admin: SwitchyardClient };

export const env = (user = 'alice') => ({ SWITCHYARD_SERVER: fx.server.url, SWITCHYARD_TOKEN: TOKEN, SWITCHYARD_USER: user });
export const run = (...argv: string[]) => runCliCaptured(argv, commands, { env: env() });

/** `apiVersion ... runtime: vllm` with `runtime` on line 7, then `extra` (more spec lines, indented two spaces). */
export const functionYaml = (name: string, extra = '') => `apiVersion: ${API_VERSION}
kind: Function
metadata:
  name: ${name}
spec:
  model: org/m
  runtime: vllm
  servedName: ${MODEL}
${extra}`;
export const clusterYaml = (name: string) => `apiVersion: ${API_VERSION}
kind: Cluster
metadata:
  name: ${name}
spec:
  provider: static
  region: lab
  static:
    endpoints:
      - url: ${fx.worker.url}
        model: ${MODEL}
`;

export const exists = async (kind: Kind, name: string) => (await codeOf(fx.admin.get(kind, name))) === 'ok';

export function write(name: string, text: string): string {
  const file = path.join(fx.dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** A port on 127.0.0.1 that was free a moment ago and has nothing listening on it. */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Start the worker and the server before the file's tests, and remove everything after. */
export function useResourceServer(): void {
  beforeAll(async () => {
    fx.dir = mkdtempSync(path.join(tmpdir(), 'switchyard-cli-'));
    fx.worker = await SimWorker.start({ model: MODEL, port: 0, speedup: 50 });
    fx.server = await SwitchyardServer.start({ dataDir: path.join(fx.dir, 'data'), port: 0, adminToken: TOKEN, switchyardBin: [process.execPath, BIN] });
    fx.admin = new SwitchyardClient({ server: fx.server.url, token: TOKEN, user: 'setup' });
  });
  afterAll(async () => {
    await fx.admin?.close();
    await fx.server?.close({ stopReplicas: true });
    await fx.worker?.close();
    if (fx.dir) rmSync(fx.dir, { recursive: true, force: true });
  });
}
