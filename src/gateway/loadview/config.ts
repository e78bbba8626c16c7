/**
 * Load-view parameters (the gateway config embeds this as `loadView:`).
 *
 * ```yaml
 * loadView: { scrape: true, path: /metrics, interval: 1s, timeout: 1s, jitter: 0.1, staleAfter: 3s }
 * ```
 * `staleAfter` defaults to 3 × interval.
 */
import { z } from 'zod';
import { zodDuration } from '../../config/index.js';

export const LoadViewConfigSchema = z
  .strictObject({
    /** Scrape each endpoint's Prometheus metrics. When false only live in-flight counts exist. */
    scrape: z.boolean().default(true),
    path: z.string().startsWith('/').default('/metrics'),
    interval: zodDuration({ min: '10ms' }).default(1_000),
    timeout: zodDuration({ min: '1ms' }).default(1_000),
    /** Each delay is interval × (1 + jitter × u), u uniform in [-1, 1). */
    jitter: z.number().min(0).max(0.5).default(0.1),
    /** Scraped values older than this read as null (plugins fall back to live counts). */
    staleAfter: zodDuration({ min: '1ms' }).optional(),
  })
  .transform((c) => ({ ...c, staleAfter: c.staleAfter ?? 3 * c.interval }));

/** Compiled: durations in ms, staleAfter filled. */
export type LoadViewConfig = z.infer<typeof LoadViewConfigSchema>;
export type LoadViewConfigInput = z.input<typeof LoadViewConfigSchema>;
