/**
 * GPU and node discovery for the cluster agent.
 *
 * - `--gpus A100:8` (declared): a simulated inventory; memory per GPU comes from a small table
 *   (A100 80 GiB, H100 80 GiB, L4 24 GiB) or from a third field, `TYPE:COUNT:MEMGiB`.
 * - `nvidia-smi` on PATH: the real GPUs, grouped by normalized type (A100, H100, L4, ...).
 * - otherwise: no GPUs.
 *
 * An explicit declaration wins over nvidia-smi: it is what the operator asked for (a simulated
 * cluster on a machine that happens to have GPUs).
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import type { NodeInventory } from '../api/index.js';
import { SwitchyardError } from '../core/index.js';

export type GpuSource = 'nvidia-smi' | 'declared' | 'none';

/** One GPU type on the node; `inUse` is filled in by the agent. */
export interface GpuGroup {
  type: string;
  count: number;
  /** Memory per GPU. */
  memoryMiB: number;
}

export interface GpuDiscovery {
  gpus: GpuGroup[];
  source: GpuSource;
  /** True for a declared (simulated) inventory. */
  simulated: boolean;
  /** Why discovery found nothing although it tried (nvidia-smi failed), for the log. */
  warning?: string;
}

/** Runs a program and resolves to its stdout; rejects with `code: 'ENOENT'` when it is not on PATH. */
export type ExecFn = (file: string, args: readonly string[]) => Promise<string>;

export const NVIDIA_SMI_ARGS = ['--query-gpu=name,memory.total,memory.used,utilization.gpu', '--format=csv,noheader,nounits'] as const;

/** Memory per GPU of the types a declaration may name without giving it. */
export const KNOWN_GPU_MEMORY_GIB: Readonly<Record<string, number>> = { A100: 80, H100: 80, L4: 24 };

/** Known model names, longest first so `L40S` is not read as `L4`. */
const KNOWN_TYPES = ['GH200', 'GB200', 'B200', 'B100', 'H200', 'H100', 'H800', 'H20', 'A100', 'A800', 'A6000', 'A5000', 'A4000', 'A10G', 'A40', 'A30', 'A10', 'L40S', 'L40', 'L4', 'V100', 'P100', 'T4'];
const VENDOR_WORDS = new Set(['NVIDIA', 'TESLA', 'GEFORCE', 'QUADRO']);
const NOISE = /^(\d+GB|PCIE|SXM\d*|HBM\d*E?|NVL|MIG)$/;

/** 'NVIDIA A100-SXM4-80GB' → 'A100'; 'NVIDIA GeForce RTX 4090' → 'RTX4090'. */
export function normalizeGpuType(name: string): string {
  const upper = name.trim().toUpperCase();
  const words = upper.split(/[\s-]+/).filter((w) => w.length > 0);
  const known = KNOWN_TYPES.find((t) => words.includes(t));
  if (known) return known;
  const rest = words.filter((w) => !VENDOR_WORDS.has(w) && !NOISE.test(w));
  return rest.slice(0, 2).join('') || upper || 'UNKNOWN';
}

/** One line of `nvidia-smi --query-gpu=name,memory.total,memory.used,utilization.gpu --format=csv,noheader,nounits`. */
export interface NvidiaSmiGpu {
  name: string;
  type: string;
  memoryTotalMiB: number;
  memoryUsedMiB: number;
  utilizationPct: number;
}

/** Parse nvidia-smi CSV output. @throws SwitchyardError naming the line it cannot read. */
export function parseNvidiaSmi(output: string): NvidiaSmiGpu[] {
  const out: NvidiaSmiGpu[] = [];
  output.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const parts = line.split(',').map((p) => p.trim());
    const [name, total, used, util] = parts;
    const num = (s: string | undefined): number => (s === undefined || /^\[?n\/?a\]?$/i.test(s) || s === '' ? 0 : Number(s));
    const memoryTotalMiB = num(total);
    if (parts.length < 2 || !name || !Number.isFinite(memoryTotalMiB) || memoryTotalMiB <= 0) {
      throw new SwitchyardError('invalid_argument', `cannot read nvidia-smi output line ${i + 1}: '${line}' (expected 'name, memory.total, memory.used, utilization.gpu')`);
    }
    const memoryUsedMiB = num(used);
    const utilizationPct = num(util);
    out.push({
      name,
      type: normalizeGpuType(name),
      memoryTotalMiB,
      memoryUsedMiB: Number.isFinite(memoryUsedMiB) ? memoryUsedMiB : 0,
      utilizationPct: Number.isFinite(utilizationPct) ? utilizationPct : 0,
    });
  });
  return out;
}

/** Group GPUs by type (memory per GPU: the smallest of the group), in first-seen order. */
export function groupGpus(gpus: readonly NvidiaSmiGpu[]): GpuGroup[] {
  const groups = new Map<string, GpuGroup>();
  for (const g of gpus) {
    const cur = groups.get(g.type);
    if (cur) {
      cur.count++;
      cur.memoryMiB = Math.min(cur.memoryMiB, g.memoryTotalMiB);
    } else {
      groups.set(g.type, { type: g.type, count: 1, memoryMiB: g.memoryTotalMiB });
    }
  }
  return [...groups.values()];
}

/**
 * Parse a declared inventory: `A100:8`, `H100:4,L4:2`, `MI300X:8:192` (memory in GiB, needed for
 * types outside KNOWN_GPU_MEMORY_GIB). @throws SwitchyardError(invalid_argument) naming the bad part.
 */
export function parseDeclaredGpus(spec: string): GpuGroup[] {
  const out: GpuGroup[] = [];
  const parts = spec.split(',').map((p) => p.trim());
  for (const part of parts) {
    const fail = (why: string): never => {
      throw new SwitchyardError('invalid_argument', `--gpus '${spec}': ${why} in '${part}' (expected TYPE:COUNT or TYPE:COUNT:MEMGiB, e.g. 'A100:8' or 'MI300X:8:192')`, { param: 'gpus' });
    };
    if (part === '') fail('empty entry');
    const fields = part.split(':').map((f) => f.trim());
    if (fields.length < 2 || fields.length > 3) fail('wrong number of fields');
    const [rawType = '', rawCount = '', rawMem] = fields;
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(rawType)) fail(`bad GPU type '${rawType}'`);
    const type = rawType.toUpperCase();
    if (!/^\d+$/.test(rawCount) || Number(rawCount) < 1 || Number(rawCount) > 1024) fail(`count '${rawCount}' is not a whole number between 1 and 1024`);
    let memGiB = KNOWN_GPU_MEMORY_GIB[type];
    if (rawMem !== undefined) {
      const m = /^(\d+(?:\.\d+)?)\s*(GiB|Gi|GB|G)?$/i.exec(rawMem);
      if (!m || Number(m[1]) <= 0) fail(`memory '${rawMem}' is not a positive number of GiB`);
      memGiB = Number(m?.[1]);
    }
    if (memGiB === undefined) fail(`unknown GPU type '${type}' needs its memory: ${type}:${rawCount}:MEMGiB (known: ${Object.keys(KNOWN_GPU_MEMORY_GIB).join(', ')})`);
    if (out.some((g) => g.type === type)) fail(`GPU type '${type}' is declared twice`);
    out.push({ type, count: Number(rawCount), memoryMiB: Math.round((memGiB ?? 0) * 1024) });
  }
  return out;
}

export interface DiscoverOptions {
  /** A declared inventory (`A100:8`); makes the cluster simulated. */
  declared?: string | undefined;
  exec?: ExecFn;
}

/** Find this node's GPUs: declared, else nvidia-smi, else none. @throws SwitchyardError for a bad declaration. */
export async function discoverGpus(opts: DiscoverOptions = {}): Promise<GpuDiscovery> {
  if (opts.declared !== undefined && opts.declared.trim() !== '') {
    return { gpus: parseDeclaredGpus(opts.declared), source: 'declared', simulated: true };
  }
  const exec = opts.exec ?? defaultExec;
  let stdout: string;
  try {
    stdout = await exec('nvidia-smi', NVIDIA_SMI_ARGS);
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') return { gpus: [], source: 'none', simulated: false };
    return { gpus: [], source: 'none', simulated: false, warning: `nvidia-smi failed: ${firstLine(e)}` };
  }
  try {
    return { gpus: groupGpus(parseNvidiaSmi(stdout)), source: 'nvidia-smi', simulated: false };
  } catch (e) {
    return { gpus: [], source: 'none', simulated: false, warning: firstLine(e) };
  }
}

/** This machine as one node of the inventory (GPUs not in use yet: the agent fills inUse). */
export function nodeInventory(discovery: GpuDiscovery, name = os.hostname()): NodeInventory {
  return {
    name,
    cpus: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    gpus: discovery.gpus.map((g) => ({ type: g.type, count: g.count, memoryMiB: g.memoryMiB, inUse: 0 })),
    source: discovery.source,
  };
}

/** `8xA100, 2xL4` (or 'no GPUs'). */
export function describeGpus(gpus: readonly Pick<GpuGroup, 'type' | 'count'>[]): string {
  return gpus.length === 0 ? 'no GPUs' : gpus.map((g) => `${g.count}x${g.type}`).join(', ');
}

const defaultExec: ExecFn = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(file, [...args], { timeout: 10_000, windowsHide: true }, (err, stdout, stderr) => {
      if (err) {
        const detail = String(stderr).trim() || String(stdout).trim();
        const e: Error & { code?: unknown } = err;
        if (detail) e.message = detail;
        reject(e);
      } else resolve(String(stdout));
    });
  });

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}
