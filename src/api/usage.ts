/**
 * Usage metering on the wire: one UsageRecord per finished request (written by gateways,
 * batched into the store by the control plane's UsageMeter), the daily aggregates read back,
 * and the price table that turns tokens into USD. See docs/adr/0013-usage-metering.md.
 */
import { z } from 'zod';
import { zName } from './meta.js';

/** A tenant or key name, or '' when the request had none (admin token, auth off). */
const zOptionalName = (what: string) => z.union([z.literal(''), zName(what)]);
const tokens = (what: string) => z.number().int().min(0).max(1e12).describe(what);

/**
 * How a request ended: its HTTP status, or a word for an ending without one (e.g.
 * 'client_closed' when the client went away mid-stream). Anything but a 2xx status counts as
 * an error in the aggregates.
 */
export const UsageStatusSchema = z.union([
  z.number().int().min(100).max(599),
  z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, "a status word is lower-case snake case, e.g. 'client_closed'"),
]);
export type UsageStatus = z.infer<typeof UsageStatusSchema>;

export const UsageRecordSchema = z.strictObject({
  ts: z.number().int().min(0).max(8.64e15).describe('When the request finished (epoch ms)'),
  requestId: z.string().min(1).max(200).describe('The request id (with ts, the record is idempotent: a retried batch is not counted twice)'),
  tenant: zOptionalName('tenant'),
  key: zOptionalName('key').describe('ApiKey resource name'),
  model: z.string().max(256).describe('Served model name'),
  cluster: z.string().max(63).describe("Cluster that served it ('' when none did)"),
  inputTokens: tokens('Prompt tokens, cached ones included (as in OpenAI usage)'),
  outputTokens: tokens('Completion tokens'),
  cachedTokens: tokens('Prompt tokens served from the prefix cache (a part of inputTokens)'),
  latencyMs: z.number().min(0).max(1e9).describe('Time from the request to its last byte'),
  status: UsageStatusSchema,
  usd: z.number().min(0).max(1e9).optional().describe('Cost; when absent, the control plane prices it with its price table on arrival'),
});
export type UsageRecord = z.infer<typeof UsageRecordSchema>;

/** At most this many records per `POST /api/v1/usage`. */
export const MAX_USAGE_RECORDS_PER_POST = 5000;

/** Body of `POST /api/v1/usage`. */
export const UsagePostSchema = z.strictObject({
  records: z.array(UsageRecordSchema).max(MAX_USAGE_RECORDS_PER_POST, `at most ${MAX_USAGE_RECORDS_PER_POST} records per request; send several`),
});

/** True when a status counts as an error in the aggregates (anything but 2xx). */
export function isErrorStatus(status: UsageStatus): boolean {
  return typeof status !== 'number' || status < 200 || status > 299;
}

/**
 * Usage of one tenant × model, per UTC day (`day` set) or over the whole queried range
 * (`groupBy: 'none'`, no `day`).
 */
export interface UsageAggregate {
  /** The UTC day, 'YYYY-MM-DD' (groupBy 'day' only). */
  day?: string;
  tenant: string;
  model: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  usd: number;
  /** Requests that did not end with a 2xx status. */
  errors: number;
  /** Mean of latencyMs. */
  avgLatencyMs: number;
}

export interface UsageQuery {
  tenant?: string | undefined;
  /** Epoch ms; rounded down to the start of its UTC day (aggregates are daily). */
  since?: number | undefined;
  /** Epoch ms, exclusive: days that start before it are included. */
  until?: number | undefined;
  groupBy: 'day' | 'none';
}

/** A tenant's totals over a period (what Tenant.status.usage shows for the current month). */
export interface UsageTotals {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  usd: number;
}

/** What a gateway needs to report usage: one call per finished request; must never block. */
export interface UsageSink {
  record(r: UsageRecord): void;
}

const price = (what: string) => z.number().min(0).max(1e6).describe(`USD per million ${what}`);

export const ModelPriceSchema = z.strictObject({
  inputPerMTok: price('uncached prompt tokens'),
  outputPerMTok: price('completion tokens'),
  cachedInputPerMTok: price('cached prompt tokens').optional().describe('USD per million cached prompt tokens; absent = the input price'),
});
export type ModelPrice = z.infer<typeof ModelPriceSchema>;

/** Prices per served model name (`PUT /api/v1/pricing`). A model not listed costs `default`, or 0. */
export const PriceTableSchema = z.strictObject({
  models: z.record(z.string().min(1).max(256), ModelPriceSchema).default({}).describe('Served model name → prices'),
  default: ModelPriceSchema.optional().describe('Prices of models not listed; absent = free'),
});
export type PriceTable = z.infer<typeof PriceTableSchema>;

/** The built-in price table: every model is free until an admin sets prices. */
export const EMPTY_PRICE_TABLE: PriceTable = Object.freeze({ models: {} });

/**
 * The cost of one request in USD: uncached input × input price + cached input × cached-input
 * price (the input price when unset) + output × output price, prices per million tokens.
 * Pure. Cached tokens are capped at the input tokens (they are a part of them).
 */
export function costOf(r: Pick<UsageRecord, 'model' | 'inputTokens' | 'outputTokens' | 'cachedTokens'>, prices: PriceTable): number {
  const p = Object.hasOwn(prices.models, r.model) ? prices.models[r.model] : prices.default;
  if (!p) return 0;
  const cached = Math.min(r.cachedTokens, r.inputTokens);
  const uncached = r.inputTokens - cached;
  return (uncached * p.inputPerMTok + cached * (p.cachedInputPerMTok ?? p.inputPerMTok) + r.outputTokens * p.outputPerMTok) / 1e6;
}

/** 'YYYY-MM' (UTC) of an epoch ms time: the month Tenant.status.usage counts. */
export function usageMonth(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 7);
}

/** Epoch ms of the start of the UTC month holding `epochMs`. */
export function monthStartMs(epochMs: number): number {
  const d = new Date(epochMs);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

export const DAY_MS = 86_400_000;

/** Epoch ms of the start of the UTC day holding `epochMs`. */
export function dayStartMs(epochMs: number): number {
  return epochMs - (((epochMs % DAY_MS) + DAY_MS) % DAY_MS);
}
