/** The simulated engine: a pure vLLM-like engine model, its text layer, and its HTTP worker. */
export * from './model/index.js';
export * from './text/index.js';
export * from './worker/index.js';
