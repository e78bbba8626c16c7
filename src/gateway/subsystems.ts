/**
 * Wires routing, health and load tracking for the gateway and keeps them in step with the
 * routing table: endpoints added or removed by a reload are added to or removed from the health
 * pool, the load view, the scraper and the active checker; an endpoint that leaves service
 * releases the router's state tied to it (e.g. session pins).
 *
 * One HealthPool covers every endpoint of the gateway, so the outlier-ejection cap
 * (maxEjectionPercent) applies gateway-wide.
 */
import { RealClock } from '../core/index.js';
import type { Logger, MetricsRegistry } from '../observability/index.js';
import { compileProfiles, Router } from '../router/index.js';
import type { GatewayConfig } from './config.js';
import { ActiveHealthChecker, CIRCUIT_STATE_CODE, HealthPool, type HealthState } from './health/index.js';
import { LoadView, Scraper } from './loadview/index.js';
import { KvRouting } from './kv.js';
import type { GatewayMetrics } from './metrics.js';
import type { HealthPort, LoadPort, RouterPort } from './ports.js';
import type { RoutingTable } from './table.js';

export interface Subsystems {
  readonly router: RouterPort;
  readonly health: HealthPort;
  readonly load: LoadPort;
  /** The exact KV index (fed by endpoints' KV events) and the prompt tokenizers. */
  readonly kv: KvRouting;
  start(): void;
  stop(): Promise<void>;
  /** Replace the routing profiles (config reload). Throws on invalid profiles. */
  setProfiles(profiles: unknown): void;
  healthDetail(endpointId: string): HealthState | null;
}

const GONE = { healthy: false, weightFactor: 1 };

export function createSubsystems(config: GatewayConfig, table: RoutingTable, metrics: GatewayMetrics, registry: MetricsRegistry, logger: Logger): Subsystems {
  const clock = new RealClock();
  const targets = (): { id: string; url: string }[] => table.allEndpoints().map((e) => ({ id: e.id, url: e.url }));
  const ids = (): string[] => table.allEndpoints().map((e) => e.id);

  let router = new Router(compileProfiles(config.profiles));
  const pool = new HealthPool({ clock, config: config.health, ids: ids() });
  const loadView = new LoadView({ clock, staleAfter: config.loadView.staleAfter ?? 3 * config.loadView.interval, ids: ids() });
  const scraper = config.loadView.scrape ? new Scraper({ clock, loadView, config: config.loadView, endpoints: targets() }) : null;
  const checker = new ActiveHealthChecker({ clock, target: pool, config: config.health.active, endpoints: targets() });
  const kv = new KvRouting({ blockSize: config.kvIndex.blockSize, maxBlocksPerBackend: config.kvIndex.maxBlocksPerBackend, replayTimeoutMs: config.kvIndex.replayTimeout, logger, metrics: registry });
  const warmTokenizers = (): void => {
    for (const m of table.models()) {
      const t = table.route(m)?.tokenizer;
      if (t !== undefined) kv.tokenizer(t);
    }
  };
  metrics.inflightSource = function* () {
    for (const id of loadView.ids()) yield [id, loadView.get(id).inFlight] as const;
  };

  const circuitCode = (s: HealthState): number => (s.inService ? CIRCUIT_STATE_CODE[s.circuit] : Math.max(2, CIRCUIT_STATE_CODE[s.circuit]));
  for (const id of pool.ids()) metrics.circuit.set({ backend: id }, 0);
  pool.onChange((id, prev, next) => {
    metrics.circuit.set({ backend: id }, circuitCode(next));
    if (prev.inService && !next.inService) {
      router.endpointGone(id);
      logger.warn({ backend: id, circuit: next.circuit, ejected: next.ejected, activeHealthy: next.activeHealthy }, 'backend left service');
    } else if (!prev.inService && next.inService) {
      logger.info({ backend: id }, 'backend back in service (slow start)');
    }
  });

  table.onChange(() => {
    const now = new Set(ids());
    for (const id of [...pool.ids()]) {
      if (!now.has(id)) {
        router.endpointGone(id);
        metrics.circuit.remove({ backend: id });
      }
    }
    pool.setIds(now);
    loadView.setEndpoints(now);
    scraper?.setEndpoints(targets());
    checker.setEndpoints(targets());
    kv.sync(table.allEndpoints());
    warmTokenizers();
  });

  const health: HealthPort = {
    status(id) {
      const b = pool.get(id);
      if (!b) return GONE;
      return { healthy: b.available, weightFactor: b.weightFactor() };
    },
    allowRequest: (id) => pool.get(id)?.allowRequest() ?? false,
    recordSuccess: (id) => pool.get(id)?.recordSuccess(),
    recordFailure: (id, kind) => pool.get(id)?.recordFailure(kind),
  };

  return {
    get router() {
      return router;
    },
    health,
    load: loadView,
    kv,
    start() {
      scraper?.start();
      checker.start();
      kv.sync(table.allEndpoints());
      warmTokenizers();
    },
    async stop() {
      scraper?.stop();
      checker.stop();
      await kv.close();
    },
    setProfiles(profiles) {
      router = new Router(compileProfiles(profiles));
    },
    healthDetail: (id) => pool.get(id)?.state() ?? null,
  };
}
