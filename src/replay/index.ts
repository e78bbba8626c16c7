/**
 * replay: the live replay behind `switchyard simulate --live` / `--compare` — a trace replayed
 * over HTTP through a real in-process gateway to `worker sim` engines (SIMULATED engines; the
 * gateway, router, HTTP/SSE and ZMQ KV-event path are real), and its agreement with the fleet
 * simulator.
 */
export { fleetWorkerIds, runLiveReplay, useGatewayLoadView } from './live.js';
export type { LiveFailure, LiveMetrics, LiveReplayOptions, LiveReplayResult, LiveWorkerSummary } from './live.js';
export { agreement, AGREEMENT_TOLERANCE, compareRuns, meanMetrics, replicaOptions } from './compare.js';
export type { Agreement, Comparison } from './compare.js';
