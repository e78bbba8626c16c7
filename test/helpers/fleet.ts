/** Test fleets: in-process simulated workers behind an in-process gateway, all on 127.0.0.1:0. */
import { SimWorker, type SimWorkerOptions } from '../../src/engines/index.js';
import { Gateway, loadGatewayConfig, type GatewayConfigInput } from '../../src/gateway/index.js';

export interface Fleet {
  workers: SimWorker[];
  gateway: Gateway;
  close(): Promise<void>;
}

export async function startWorkers(n: number, opts: Partial<SimWorkerOptions> | ((i: number) => Partial<SimWorkerOptions>) = {}): Promise<SimWorker[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => SimWorker.start({ model: 'm1', port: 0, speedup: 20, seed: i, ...(typeof opts === 'function' ? opts(i) : opts) })));
}

/** A gateway serving model `model` over `workers` (ids w0, w1, ...), with config overrides. */
export async function startFleet(workers: SimWorker[], overrides: Partial<GatewayConfigInput> = {}, model = 'm1'): Promise<Fleet> {
  const config = loadGatewayConfig({
    name: 'test-gateway',
    object: {
      listen: { port: 0 },
      models: [{ name: model, profile: 'default', endpoints: workers.map((w, i) => ({ id: `w${i}`, url: w.url, labels: { cluster: `c${i}` } })) }],
      ...overrides,
    },
  });
  const gateway = await Gateway.start({ config });
  return {
    workers,
    gateway,
    async close() {
      await gateway.close();
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}
