/**
 * Replica state files: `<stateDir>/<deployment>/<index>.json` (plus `<index>.surge.json` for a
 * replacement being started and `<index>.retiring.<n>.json` for one being drained), written
 * atomically (tmp + rename) and synchronously, so that a control plane killed at any point leaves
 * either the old or the new file, and a new provider can adopt the processes they describe.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

/** Which process of an index a file describes. */
export type ReplicaRole = 'current' | 'surge' | 'retiring';

/** Contents of one state file. */
export interface ReplicaStateFile {
  readonly deployment: string;
  readonly index: number;
  /** Null between "about to spawn" and "spawned". */
  readonly pid: number | null;
  readonly port: number;
  readonly specHash: string;
  /** The exact argv; checked against /proc/<pid>/cmdline on adoption to rule out pid reuse. */
  readonly command: readonly string[];
  /** ISO time of the spawn. */
  readonly startedAt: string;
  readonly restarts: number;
}

/** A state file found on disk. */
export interface FoundStateFile {
  readonly role: ReplicaRole;
  readonly path: string;
  readonly state: ReplicaStateFile;
}

const FILE = /^(\d+)(?:\.(surge|retiring)(?:\.[A-Za-z0-9-]+)?)?\.json$/;
let retiringSeq = 0;

/** Paths of a deployment's files. */
export class StateLayout {
  constructor(readonly stateDir: string) {}
  dir(deployment: string): string {
    return join(this.stateDir, encodeURIComponent(deployment));
  }
  /** The state file of one role of one index (`retiring` files get a unique suffix). */
  statePath(deployment: string, index: number, role: ReplicaRole): string {
    const suffix = role === 'current' ? '' : role === 'surge' ? '.surge' : `.retiring.${process.pid}-${++retiringSeq}`;
    return join(this.dir(deployment), `${index}${suffix}.json`);
  }
  /**
   * Where replicas' KV-event sockets live (created on first use). `_kv` cannot be a deployment's
   * directory: deployment names never contain '_'.
   */
  kvEventsDir(): string {
    const d = join(this.stateDir, '_kv');
    mkdirSync(d, { recursive: true });
    return d;
  }
  /** One log file per index, shared (appended) by successive processes of that index. */
  logPath(deployment: string, index: number): string {
    return join(this.dir(deployment), `${index}.log`);
  }
}

/** Write a state file atomically (tmp + rename), creating the directory. */
export function writeStateFile(path: string, state: ReplicaStateFile): void {
  mkdirSync(join(path, '..'), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, path);
}

/** Move a state file to another path (no-op when it does not exist). */
export function moveStateFile(from: string, to: string): void {
  if (from === to || !existsSync(from)) return;
  renameSync(from, to);
}

/** Delete a state file (no-op when missing). */
export function removeStateFile(path: string): void {
  rmSync(path, { force: true });
}

/** Remove a deployment's directory if only logs (or nothing) are left in it. */
export function removeDeploymentDir(dir: string, keepLogs: boolean): void {
  if (!existsSync(dir)) return;
  const files = readdirSync(dir);
  if (files.some((f) => f.endsWith('.json'))) return;
  if (keepLogs && files.length > 0) return;
  for (const f of files) rmSync(join(dir, f), { force: true });
  try {
    rmdirSync(dir);
  } catch {
    // something appeared meanwhile: keep the directory
  }
}

/** All readable state files under `stateDir`, by deployment. Unparseable files are reported, not thrown. */
export function scanStateFiles(stateDir: string, onBad: (path: string, error: string) => void): FoundStateFile[] {
  if (!existsSync(stateDir)) return [];
  const out: FoundStateFile[] = [];
  for (const entry of readdirSync(stateDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(stateDir, entry.name);
    for (const name of readdirSync(dir)) {
      const m = FILE.exec(name);
      if (!m) continue;
      const path = join(dir, name);
      try {
        const state = parseStateFile(readFileSync(path, 'utf8'));
        if (state.index !== Number(m[1]) || encodeURIComponent(state.deployment) !== entry.name) throw new Error('file name does not match its contents');
        out.push({ role: m[2] === 'surge' ? 'surge' : m[2] === 'retiring' ? 'retiring' : 'current', path, state });
      } catch (e) {
        onBad(path, e instanceof Error ? e.message : String(e));
      }
    }
  }
  return out;
}

function parseStateFile(text: string): ReplicaStateFile {
  const v = JSON.parse(text) as Partial<ReplicaStateFile>;
  const ok =
    typeof v.deployment === 'string' &&
    typeof v.index === 'number' &&
    (v.pid === null || typeof v.pid === 'number') &&
    typeof v.port === 'number' &&
    typeof v.specHash === 'string' &&
    Array.isArray(v.command) &&
    v.command.every((a) => typeof a === 'string') &&
    typeof v.startedAt === 'string' &&
    typeof v.restarts === 'number';
  if (!ok) throw new Error('not a replica state file');
  return v as ReplicaStateFile;
}
