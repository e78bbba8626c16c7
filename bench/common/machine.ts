/** The machine a benchmark ran on, for the record in docs/benchmarks.md. */
import { cpus, totalmem } from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  totalMemGiB: number;
  node: string;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return { cpuModel: list[0]?.model.trim() ?? 'unknown', cores: list.length, totalMemGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10, node: process.version };
}

export function machineLine(m: MachineInfo = machineInfo()): string {
  return `${m.cpuModel}, ${m.cores} cores, ${m.totalMemGiB} GiB, Node ${m.node}`;
}
