/**
 * Per-backend health for the gateway: circuit breaker, passive outlier ejection, active health
 * checks and slow start (BackendHealth), the pool-level ejection cap (HealthPool) and the
 * active checker glue (ActiveHealthChecker over EndpointPoller).
 */
export { CIRCUIT_STATE_CODE, CircuitBreaker } from './breaker.js';
export type { CircuitState } from './breaker.js';
export { ActiveCheckState, OutlierDetector } from './detectors.js';
export type { EjectionOutcome } from './detectors.js';
export { BackendHealth } from './backend.js';
export type { BackendHealthOptions, FailureKind, HealthChangeListener, HealthState } from './backend.js';
export { HealthPool } from './pool.js';
export type { HealthPoolOptions, PoolChangeListener } from './pool.js';
export { ActiveHealthChecker, healthUrl, httpProbe } from './checker.js';
export type { ActiveCheckConfigInput, ActiveHealthCheckerOptions, HealthCheckTarget, Probe } from './checker.js';
export { EndpointPoller } from './poller.js';
export type { EndpointPollerOptions, PollResult, PollTarget } from './poller.js';
export {
  ActiveCheckConfigSchema,
  CircuitConfigSchema,
  HealthConfigSchema,
  OutlierConfigSchema,
  SlowStartConfigSchema,
  resolveHealthConfig,
} from './config.js';
export type { ActiveCheckConfig, CircuitConfig, HealthConfig, HealthConfigInput, OutlierConfig, SlowStartConfig } from './config.js';
