/**
 * Providers: turn a DeploymentTarget into running replicas. One interface (./types.ts), one shared
 * contract test suite (./contract.ts, not exported: it is test code), two implementations here:
 * LocalProvider (OS processes on this machine) and StaticProvider (endpoints that already exist).
 */
export type { DeploymentTarget, LogOptions, Provider, ReplicaState, ReplicaStatus, Runtime } from './types.js';
export { LocalProvider } from './local/local-provider.js';
export type { DurationInput, LocalProviderOptions } from './local/options.js';
export type { ProcessHost, ProcessIdentity, SpawnRequest } from './local/process-host.js';
export { DEFAULT_TEMPLATES, PLACEHOLDERS, renderCommand, renderTemplate, tokenize } from './local/command.js';
export type { RenderContext } from './local/command.js';
export { StaticProvider } from './static/static-provider.js';
export type { StaticProviderOptions } from './static/static-provider.js';
export { httpProbe } from './http-probe.js';
export type { ProbeResult } from './http-probe.js';
