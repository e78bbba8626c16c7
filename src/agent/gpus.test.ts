import { describe, expect, it } from 'vitest';
import { describeGpus, discoverGpus, groupGpus, nodeInventory, normalizeGpuType, parseDeclaredGpus, parseNvidiaSmi, type ExecFn } from './gpus.js';

describe('normalizeGpuType', () => {
  it.each([
    ['NVIDIA A100-SXM4-80GB', 'A100'],
    ['NVIDIA A100 80GB PCIe', 'A100'],
    ['NVIDIA A100-PCIE-40GB', 'A100'],
    ['NVIDIA H100 80GB HBM3', 'H100'],
    ['NVIDIA H100 PCIe', 'H100'],
    ['NVIDIA H100 NVL', 'H100'],
    ['NVIDIA L4', 'L4'],
    ['NVIDIA L40S', 'L40S'],
    ['NVIDIA A10G', 'A10G'],
    ['Tesla T4', 'T4'],
    ['Tesla V100-SXM2-16GB', 'V100'],
    ['NVIDIA GH200 480GB', 'GH200'],
    ['NVIDIA RTX A6000', 'A6000'],
    ['NVIDIA GeForce RTX 4090', 'RTX4090'],
  ])('%s → %s', (name, type) => {
    expect(normalizeGpuType(name)).toBe(type);
  });
});

describe('parseNvidiaSmi', () => {
  it('reads realistic output lines', () => {
    const out = ['NVIDIA A100-SXM4-80GB, 81920, 1024, 0', 'NVIDIA A100-SXM4-80GB, 81920, 70000, 97', ''].join('\n');
    expect(parseNvidiaSmi(out)).toEqual([
      { name: 'NVIDIA A100-SXM4-80GB', type: 'A100', memoryTotalMiB: 81920, memoryUsedMiB: 1024, utilizationPct: 0 },
      { name: 'NVIDIA A100-SXM4-80GB', type: 'A100', memoryTotalMiB: 81920, memoryUsedMiB: 70000, utilizationPct: 97 },
    ]);
  });

  it.each([
    ['NVIDIA H100 80GB HBM3, 81559, 0, 0\r\n', 'H100', 81559],
    ['NVIDIA L4, 23034, 0, 0', 'L4', 23034],
    ['Tesla T4, 15360, 0, [N/A]', 'T4', 15360],
    ['  NVIDIA A10G ,  23028 ,  2 ,  5  ', 'A10G', 23028],
  ])('%j', (line, type, mem) => {
    const [gpu] = parseNvidiaSmi(line);
    expect(gpu?.type).toBe(type);
    expect(gpu?.memoryTotalMiB).toBe(mem);
  });

  it('names the line it cannot read', () => {
    expect(() => parseNvidiaSmi('NVIDIA L4, 23034, 0, 0\nNo devices were found')).toThrow(/line 2: 'No devices were found'/);
    expect(() => parseNvidiaSmi('NVIDIA L4, lots, 0, 0')).toThrow(/line 1/);
  });

  it('groups by type, counting GPUs', () => {
    const gpus = parseNvidiaSmi(['NVIDIA H100 80GB HBM3, 81559, 0, 0', 'NVIDIA H100 80GB HBM3, 81559, 0, 0', 'NVIDIA L4, 23034, 0, 0'].join('\n'));
    expect(groupGpus(gpus)).toEqual([
      { type: 'H100', count: 2, memoryMiB: 81559 },
      { type: 'L4', count: 1, memoryMiB: 23034 },
    ]);
  });
});

describe('parseDeclaredGpus', () => {
  it.each([
    ['A100:8', [{ type: 'A100', count: 8, memoryMiB: 80 * 1024 }]],
    ['a100:2', [{ type: 'A100', count: 2, memoryMiB: 80 * 1024 }]],
    ['H100:4,L4:2', [{ type: 'H100', count: 4, memoryMiB: 80 * 1024 }, { type: 'L4', count: 2, memoryMiB: 24 * 1024 }]],
    [' H100:4 , L4:2 ', [{ type: 'H100', count: 4, memoryMiB: 80 * 1024 }, { type: 'L4', count: 2, memoryMiB: 24 * 1024 }]],
    ['MI300X:8:192', [{ type: 'MI300X', count: 8, memoryMiB: 192 * 1024 }]],
    ['A100:1:40GiB', [{ type: 'A100', count: 1, memoryMiB: 40 * 1024 }]],
  ])('%s', (spec, expected) => {
    expect(parseDeclaredGpus(spec)).toEqual(expected);
  });

  it.each([
    ['A100', /wrong number of fields in 'A100'/],
    ['A100:x', /count 'x' is not a whole number.* in 'A100:x'/],
    ['A100:0', /count '0'/],
    ['H100:4,,L4:2', /empty entry/],
    ['MI300X:8', /unknown GPU type 'MI300X' needs its memory: MI300X:8:MEMGiB/],
    ['T4:1:lots', /memory 'lots' is not a positive number of GiB in 'T4:1:lots'/],
    ['A100:1,A100:2', /declared twice in 'A100:2'/],
    ['A 100:1', /bad GPU type 'A 100'/],
  ])('%s is rejected', (spec, message) => {
    expect(() => parseDeclaredGpus(spec)).toThrow(message);
  });
});

describe('discoverGpus', () => {
  const smi = (out: string): ExecFn => async () => out;
  const missing: ExecFn = async () => {
    throw Object.assign(new Error('spawn nvidia-smi ENOENT'), { code: 'ENOENT' });
  };

  it('uses nvidia-smi when it is on PATH', async () => {
    const calls: string[][] = [];
    const exec: ExecFn = async (file, args) => {
      calls.push([file, ...args]);
      return 'NVIDIA L4, 23034, 0, 0\nNVIDIA L4, 23034, 0, 0\n';
    };
    const d = await discoverGpus({ exec });
    expect(d).toEqual({ gpus: [{ type: 'L4', count: 2, memoryMiB: 23034 }], source: 'nvidia-smi', simulated: false });
    expect(calls[0]).toEqual(['nvidia-smi', '--query-gpu=name,memory.total,memory.used,utilization.gpu', '--format=csv,noheader,nounits']);
  });

  it('a declaration wins and is simulated', async () => {
    const d = await discoverGpus({ declared: 'A100:8', exec: smi('NVIDIA L4, 23034, 0, 0') });
    expect(d).toMatchObject({ source: 'declared', simulated: true, gpus: [{ type: 'A100', count: 8 }] });
  });

  it('no nvidia-smi and no declaration: no GPUs', async () => {
    expect(await discoverGpus({ exec: missing })).toEqual({ gpus: [], source: 'none', simulated: false });
  });

  it('a failing nvidia-smi yields no GPUs and a warning', async () => {
    const failing: ExecFn = async () => {
      throw new Error("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.");
    };
    const d = await discoverGpus({ exec: failing });
    expect(d.source).toBe('none');
    expect(d.warning).toMatch(/nvidia-smi failed: NVIDIA-SMI has failed/);
  });

  it('a bad declaration throws', async () => {
    await expect(discoverGpus({ declared: 'A100:x', exec: missing })).rejects.toThrow(/A100:x/);
  });
});

describe('nodeInventory', () => {
  it('describes this machine', () => {
    const node = nodeInventory({ gpus: [{ type: 'A100', count: 8, memoryMiB: 81920 }], source: 'declared', simulated: true }, 'node-1');
    expect(node).toMatchObject({ name: 'node-1', source: 'declared', gpus: [{ type: 'A100', count: 8, memoryMiB: 81920, inUse: 0 }] });
    expect(node.cpus).toBeGreaterThan(0);
    expect(node.memoryBytes).toBeGreaterThan(0);
    expect(describeGpus(node.gpus)).toBe('8xA100');
    expect(describeGpus([])).toBe('no GPUs');
  });
});
