/**
 * Admin-API tokens with roles (besides the bootstrap admin token and cluster agent tokens).
 * Like API keys they are shown once and stored only as SHA-256 hashes; unlike keys they are
 * not resources (nothing watches them), they live in the store's meta table.
 */
import { z } from 'zod';
import { zName } from './meta.js';

/** Roles of admin-API tokens. */
export const ADMIN_ROLES = ['admin', 'operator', 'viewer', 'tenant-admin'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

/** Body of `POST /api/v1/tokens`. */
export const CreateTokenRequestSchema = z
  .strictObject({
    name: zName('name'),
    role: z.enum(ADMIN_ROLES).describe('admin: everything; operator: write functions, deployments, clusters, read all; viewer: read-only; tenant-admin: one tenant\'s keys'),
    tenant: zName('tenant').optional().describe('The tenant of a tenant-admin token'),
  })
  .superRefine((b, ctx) => {
    if (b.role === 'tenant-admin' && !b.tenant) ctx.addIssue({ code: 'custom', path: ['tenant'], message: "role 'tenant-admin' needs a tenant" });
    if (b.role !== 'tenant-admin' && b.tenant) ctx.addIssue({ code: 'custom', path: ['tenant'], message: `'tenant' applies only to role 'tenant-admin' (role is '${b.role}')` });
  });
export type CreateTokenRequest = z.input<typeof CreateTokenRequestSchema>;

/** A named admin token as listed (never its hash). */
export interface TokenInfo {
  name: string;
  role: AdminRole;
  tenant?: string;
  /** The first characters of the token, to recognise it. */
  prefix: string;
  createdAt: string;
  createdBy: string;
}
