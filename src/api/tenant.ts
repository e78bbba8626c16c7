/**
 * Tenant: a team sharing the fleet. Which models and clusters it may use, how many GPUs its
 * Deployments may hold, its rate limits (per tenant, and the default per key), its monthly
 * budget and its priority under saturation. Status carries its usage this month.
 */
import { z } from 'zod';
import { zName } from './meta.js';

/** RPM / TPM / concurrency limits of one scope; absent = unlimited (matches src/limits `Limits`). */
export const RateLimitsSchema = z
  .strictObject({
    rpm: z.number().int().min(1).optional().describe('Requests per minute'),
    tpm: z.number().int().min(1).optional().describe('Tokens (prompt + completion) per minute'),
    maxConcurrent: z.number().int().min(1).optional().describe('Requests in flight at once'),
  })
  .describe('Rate limits; absent fields are unlimited');
export type RateLimits = z.infer<typeof RateLimitsSchema>;

export const TenantSpecSchema = z.strictObject({
  displayName: z.string().min(1).max(200).optional().describe('Human-readable name'),
  allowedModels: z.array(z.string().min(1).max(256)).optional().describe('Served model names this tenant may use; absent = every model'),
  allowedClusters: z.array(zName('cluster name')).optional().describe('Clusters this tenant may be routed to (data residency); absent = every cluster'),
  gpuQuota: z.number().int().min(0).optional().describe("GPUs the tenant's Deployments may hold in total (gpu.count x replicas); absent = unlimited"),
  limits: RateLimitsSchema.optional().describe('Limits for the whole tenant'),
  keyLimits: RateLimitsSchema.optional().describe("Default limits of each of the tenant's keys (a key's own limits override them)"),
  budget: z
    .strictObject({
      tokensPerMonth: z.number().int().min(0).optional().describe('Input + output tokens per calendar month (UTC)'),
      usdPerMonth: z.number().min(0).optional().describe('Spend per calendar month (UTC), from the price table'),
    })
    .optional()
    .describe('Monthly budget; requests beyond it get 429 budget_exceeded'),
  priority: z.number().int().min(1).max(100).default(1).describe('Weight in fair sharing under saturation (higher gets more)'),
});
export type TenantSpec = z.infer<typeof TenantSpecSchema>;

export const TenantUsageSchema = z.object({
  month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, "month looks like '2026-01'"),
  requests: z.number().int().min(0),
  inputTokens: z.number().int().min(0),
  outputTokens: z.number().int().min(0),
  cachedTokens: z.number().int().min(0),
  usd: z.number().min(0),
});
export type TenantUsage = z.infer<typeof TenantUsageSchema>;

export const TenantStatusSchema = z.object({
  /** Usage in the current month (written by usage metering). */
  usage: TenantUsageSchema.optional(),
  /** API keys of this tenant that are not revoked. */
  keys: z.number().int().optional(),
  /** GPUs the tenant's Deployments hold: what gpuQuota counts. */
  gpusInUse: z.number().int().optional(),
});
export type TenantStatus = z.infer<typeof TenantStatusSchema>;
