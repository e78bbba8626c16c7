/**
 * ApiKey: an application's key to the OpenAI-compatible API, owned by a Tenant. Keys are
 * minted on the server (`POST /api/v1/tenants/{tenant}/keys`, `switchyard keys create`): the
 * secret (`sk-sy-` + 43 base64url characters, 256 random bits) is returned once, and only its
 * SHA-256 and a display prefix are stored. Keys are resources so that the watch stream carries
 * creation, rotation and revocation to every gateway.
 */
import { z } from 'zod';
import { zodDuration } from '../config/index.js';
import { zName } from './meta.js';
import { RateLimitsSchema } from './tenant.js';

/** Every key starts with this. */
export const API_KEY_PREFIX = 'sk-sy-';
/** Characters of the secret kept for display: `sk-sy-` and the first 6 random characters. */
export const API_KEY_DISPLAY_CHARS = 12;
/** The shape of a secret: the prefix and base64url of 32 random bytes (43 characters). */
export const API_KEY_PATTERN = /^sk-sy-[A-Za-z0-9_-]{43}$/;

const isoTime = () => z.iso.datetime({ offset: true, message: "expected an ISO 8601 time, e.g. '2026-12-31T23:59:59Z'" });

export const ApiKeyScopesSchema = z
  .strictObject({
    models: z.array(z.string().min(1).max(256)).min(1).optional().describe("Served model names the key may use (within the tenant's allowedModels); absent = all the tenant's"),
  })
  .describe('What the key may be used for');

export const ApiKeySpecSchema = z.strictObject({
  tenant: zName('tenant').describe('The Tenant that owns the key (must exist)'),
  hash: z.string().regex(/^[0-9a-f]{64}$/, 'hash is the SHA-256 of the secret, 64 lower-case hex digits').describe('SHA-256 of the secret (hex); the secret itself is never stored'),
  prefix: z.string().regex(/^sk-sy-[A-Za-z0-9_-]{1,16}$/, "prefix is the start of the secret, e.g. 'sk-sy-AbCd12'").describe('The first characters of the secret, to recognise it'),
  expiresAt: isoTime().optional().describe('The key is refused from this time on'),
  scopes: ApiKeyScopesSchema.optional(),
  revoked: z.boolean().optional().describe('A revoked key is refused (final)'),
  description: z.string().max(256).optional(),
  limits: RateLimitsSchema.optional().describe("This key's limits (override the tenant's keyLimits)"),
});
export type ApiKeySpec = z.infer<typeof ApiKeySpecSchema>;

export const ApiKeyStatusSchema = z.object({
  /** When a gateway last accepted the key. */
  lastUsedAt: z.string().optional(),
});
export type ApiKeyStatus = z.infer<typeof ApiKeyStatusSchema>;

/** Body of `POST /api/v1/tenants/{tenant}/keys`. */
export const CreateApiKeyRequestSchema = z
  .strictObject({
    description: z.string().max(256).optional(),
    expiresIn: zodDuration({ min: '1m' }).optional().describe("Lifetime, e.g. '30d' or milliseconds"),
    expiresAt: isoTime().optional(),
    scopes: ApiKeyScopesSchema.optional(),
    limits: RateLimitsSchema.optional(),
  })
  .refine((b) => b.expiresIn === undefined || b.expiresAt === undefined, { message: 'give expiresIn or expiresAt, not both', path: ['expiresAt'] });
export type CreateApiKeyRequest = z.input<typeof CreateApiKeyRequestSchema>;
export type CreateApiKeyOptions = z.output<typeof CreateApiKeyRequestSchema>;

/** Body of `POST /api/v1/apikeys/{name}/rotate` (optional): a new expiry for the new secret. */
export const RotateApiKeyRequestSchema = z
  .strictObject({
    expiresIn: zodDuration({ min: '1m' }).optional(),
    expiresAt: isoTime().optional(),
  })
  .refine((b) => b.expiresIn === undefined || b.expiresAt === undefined, { message: 'give expiresIn or expiresAt, not both', path: ['expiresAt'] });
export type RotateApiKeyRequest = z.input<typeof RotateApiKeyRequestSchema>;
export type RotateApiKeyOptions = z.output<typeof RotateApiKeyRequestSchema>;
