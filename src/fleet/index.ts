/**
 * fleet: the trace-driven fleet simulator behind `switchyard simulate`. N simulated engines
 * (the engine model of src/engines) on one VirtualClock, routed by the live gateway's Router and
 * plugins, replaying a Mooncake-format trace. See README.md.
 */
export { loadMooncakeTrace, parseMooncakeTrace, parseTraceLine, prepareTrace } from './trace.js';
export type { ParseTraceOptions, PrepareTraceOptions, TraceRequest } from './trace.js';
export { blockTokens, hashIdHalves, outputToken, promptTokens, renderPromptText, SIM_VOCAB, TRACE_BLOCK_SIZE, writeBlockTokens } from './tokens.js';
export type { PromptOptions } from './tokens.js';
export { hitRateUpperBound, imbalance, percentiles, summarize } from './metrics.js';
export type { OutcomeSample, SimulationMetrics, SummaryInput, UpperBound, UpperBoundOptions } from './metrics.js';
export { compileSimulatorOptions, DEFAULT_SUMMARY_REFRESH_MS } from './config.js';
export type { ClusterKvMode, CompiledSimulator, DecisionEvent, KvEventSink, SimulatorOptions } from './config.js';
export { SimRouteRequest } from './routing.js';
export { chatRows, toJsonl, toRequests } from './test-traces.js';
export type { ChatOptions, TraceRow } from './test-traces.js';
export { FleetSimulator, simulateFleet } from './simulator.js';
export type { Rejection, RequestOutcome, SimulationResult, WorkerSummary } from './simulator.js';
export type { ClusterSummaryStats } from './summaries.js';
