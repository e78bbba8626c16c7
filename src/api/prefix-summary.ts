/**
 * Prefix summaries on the wire: what a cluster agent reports about which prompt prefixes its
 * cluster's engines hold (the bytes of a router PrefixSummary, base64), and what gateways read
 * back per cluster (ADR 0016).
 *
 *   PUT /api/v1/clusters/{name}/prefix-summary   agent → control plane (the cluster's agent token)
 *   GET /api/v1/clusters/{name}/prefix-summary   one cluster's latest
 *   GET /api/v1/prefix-summaries                 every cluster's latest; ETag / If-None-Match → 304
 */
import { z } from 'zod';

/** Largest summary accepted, in bytes (decoded): the agent builds within it. */
export const PREFIX_SUMMARY_MAX_BYTES = 64 * 1024;
/** Base64 length of the largest summary. */
export const PREFIX_SUMMARY_MAX_BASE64 = 4 * Math.ceil(PREFIX_SUMMARY_MAX_BYTES / 3);

export const PrefixSummaryPutSchema = z.strictObject({
  /** The summary's bytes (PrefixSummary.encode()), base64. */
  summary: z
    .string()
    .min(1)
    .max(PREFIX_SUMMARY_MAX_BASE64, { error: `a summary is at most ${PREFIX_SUMMARY_MAX_BYTES} bytes (${PREFIX_SUMMARY_MAX_BASE64} base64 characters)` })
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, { error: 'expected base64 (A–Z, a–z, 0–9, +, /, = padding)' }),
  /** How often the agent re-sends an unchanged summary (ms); the control plane forgets it after 3 missed. Default 10 s. */
  intervalMs: z.number().int().min(100).max(3_600_000).optional(),
  /** The endpoints (replica ids) whose KV events the summary covers. */
  backends: z.array(z.string().max(256)).max(1000).default([]),
});
export type PrefixSummaryPut = z.input<typeof PrefixSummaryPutSchema>;

/** One cluster's latest summary as the control plane serves it. */
export interface PrefixSummaryItem {
  cluster: string;
  /** Bumped whenever the cluster's summary bytes change (not on an identical re-send). */
  version: number;
  /** When the control plane last received it (ISO 8601), a re-send included. */
  receivedAt: string;
  /** Encoded size in bytes. */
  bytes: number;
  blockSize: number;
  /** Distinct blocks the cluster held, and the checkpoints in the filter. */
  blocks: number;
  entries: number;
  /** Checkpoint level: about one block in 2^sampleShift is tested. */
  sampleShift: number;
  backends: string[];
  /** PrefixSummary bytes, base64. */
  summary: string;
}

export interface PrefixSummaryList {
  items: PrefixSummaryItem[];
  /** Same as the ETag: changes when any cluster's summary changes or expires. */
  version: string;
}

/** The OpenAPI schema of PrefixSummaryItem. */
export const PREFIX_SUMMARY_ITEM_JSON_SCHEMA = {
  type: 'object',
  required: ['cluster', 'version', 'receivedAt', 'bytes', 'blockSize', 'blocks', 'entries', 'sampleShift', 'backends', 'summary'],
  properties: {
    cluster: { type: 'string' },
    version: { type: 'integer', description: 'Bumped when the summary bytes change' },
    receivedAt: { type: 'string', description: 'Last received (a re-send of the same bytes included)' },
    bytes: { type: 'integer', maximum: PREFIX_SUMMARY_MAX_BYTES },
    blockSize: { type: 'integer' },
    blocks: { type: 'integer', description: 'Distinct KV blocks the cluster held' },
    entries: { type: 'integer', description: 'Checkpoint blocks in the Bloom filter' },
    sampleShift: { type: 'integer', description: 'About one block in 2^sampleShift is a checkpoint' },
    backends: { type: 'array', items: { type: 'string' } },
    summary: { type: 'string', contentEncoding: 'base64', description: 'The PrefixSummary bytes (ADR 0016)' },
  },
} as const;
