/** The simulated engine's own view: GET /sim/stats on a dedicated connection. */
import { Client } from 'undici';

export interface SimStats {
  running: number;
  waiting: number;
  generationTokens: number;
  promptTokens: number;
  steps: number;
  preemptions: number;
  prefixHitTokens: number;
  prefixQueriedTokens: number;
  numGpuBlocks: number;
  kvUsage: number;
}

export interface StampedStats {
  /** performance.now() at the middle of the request. */
  atMs: number;
  /** Round-trip time of the request. */
  latencyMs: number;
  stats: SimStats;
}

const NUMERIC_KEYS = ['running', 'waiting', 'generationTokens', 'promptTokens', 'steps', 'preemptions', 'prefixHitTokens', 'prefixQueriedTokens', 'numGpuBlocks', 'kvUsage'] as const;

function parseStats(raw: unknown): SimStats {
  if (typeof raw !== 'object' || raw === null) throw new Error('/sim/stats: not an object');
  const obj = raw as Record<string, unknown>;
  const out = {} as SimStats;
  for (const k of NUMERIC_KEYS) {
    const v = obj[k];
    if (typeof v !== 'number') throw new Error(`/sim/stats: '${k}' is not a number`);
    out[k] = v;
  }
  return out;
}

export class StatsReader {
  private readonly client: Client;

  constructor(url: string) {
    this.client = new Client(url, { pipelining: 1, headersTimeout: 30_000, bodyTimeout: 30_000 });
  }

  async read(): Promise<StampedStats> {
    const t0 = performance.now();
    const res = await this.client.request({ path: '/sim/stats', method: 'GET' });
    const raw: unknown = await res.body.json();
    const t1 = performance.now();
    if (res.statusCode !== 200) throw new Error(`/sim/stats: HTTP ${res.statusCode}`);
    return { atMs: (t0 + t1) / 2, latencyMs: t1 - t0, stats: parseStats(raw) };
  }

  async close(): Promise<void> {
    await this.client.destroy();
  }
}
