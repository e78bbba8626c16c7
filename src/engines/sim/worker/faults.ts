/**
 * Fault knobs for reliability tests. Set at start (`switchyard worker sim --fault-…`) or at run
 * time through `PUT /sim/faults` (JSON body with any of these fields). All delays are real
 * milliseconds, independent of --speedup.
 */
import { z } from 'zod';

export const FaultsSchema = z.strictObject({
  /** Probability in [0,1] that a generation request fails with HTTP 500 before any output. */
  errorRate: z.number().min(0).max(1).default(0),
  /** HTTP status used for injected errors (500, 503, 429, ...). */
  errorStatus: z.number().int().min(400).max(599).default(500),
  /** Crash (exit the process / drop every connection) when this many generation requests have arrived. 0 = never. */
  crashAfterRequests: z.number().int().min(0).default(0),
  /** Hold each generation request this long before any byte (headers included) is sent. */
  stallBeforeFirstTokenMs: z.number().min(0).default(0),
  /** Freeze the whole engine for stallMidStreamMs once a request has streamed this many tokens. 0 = off. */
  stallMidStreamAfterTokens: z.number().int().min(0).default(0),
  stallMidStreamMs: z.number().min(0).default(0),
  /** Skip publishing the next N KV-event batches on the PUB socket (they stay in the replay buffer): a sequence gap for subscribers to repair. Counts down. */
  dropKvEventBatches: z.number().int().min(0).default(0),
  /** Report not-ready (/health 503, requests 503) for this long after start: model loading. */
  slowStartMs: z.number().min(0).default(0),
});

export type Faults = z.infer<typeof FaultsSchema>;

/** A run-time change (PUT /sim/faults): only the fields sent, validated, no defaults filled in. */
export const FaultsPatchSchema = z.strictObject(Object.fromEntries(Object.entries(FaultsSchema.shape).map(([k, v]) => [k, v.removeDefault().optional()])) as { [K in keyof typeof FaultsSchema.shape]: z.ZodOptional<ReturnType<(typeof FaultsSchema.shape)[K]['removeDefault']>> });
export type FaultsInput = z.input<typeof FaultsSchema>;

export const NO_FAULTS: Faults = FaultsSchema.parse({});
