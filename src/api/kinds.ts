/**
 * The resource kinds: one registry that drives validation (manifests), the TypeScript types,
 * the OpenAPI document and the CLI's kind names. Adding a kind means adding one entry here.
 */
import { z } from 'zod';
import { ApiKeySpecSchema, ApiKeyStatusSchema, type ApiKeySpec, type ApiKeyStatus } from './apikey.js';
import { ClusterSpecSchema, ClusterStatusSchema, type ClusterSpec, type ClusterStatus } from './cluster.js';
import { DeploymentSpecSchema, DeploymentStatusSchema, type DeploymentSpec, type DeploymentStatus } from './deployment.js';
import { FunctionSpecSchema, FunctionStatusSchema, type FunctionSpec, type FunctionStatus } from './function.js';
import { API_VERSION, ManifestMetaSchema, ObjectMetaSchema, type ObjectMeta } from './meta.js';
import { TenantSpecSchema, TenantStatusSchema, type TenantSpec, type TenantStatus } from './tenant.js';

interface KindDef {
  readonly plural: string;
  readonly aliases: readonly string[];
  readonly spec: z.ZodType;
  readonly status: z.ZodType;
  readonly description: string;
}

export const KINDS = {
  Function: {
    plural: 'functions',
    aliases: ['function', 'functions', 'fn', 'fns', 'func'],
    spec: FunctionSpecSchema,
    status: FunctionStatusSchema,
    description: 'A model defined once: runtime, resources, scaling, routing and the clusters it targets.',
  },
  Deployment: {
    plural: 'deployments',
    aliases: ['deployment', 'deployments', 'deploy', 'dep', 'deps'],
    spec: DeploymentSpecSchema,
    status: DeploymentStatusSchema,
    description: 'One Function on one cluster, and its replicas. Usually created by the reconciler from Function.targetClusters.',
  },
  Cluster: {
    plural: 'clusters',
    aliases: ['cluster', 'clusters', 'cl'],
    spec: ClusterSpecSchema,
    status: ClusterStatusSchema,
    description: "Where replicas run, and what its agent reports (GPUs, nodes, endpoint health).",
  },
  Tenant: {
    plural: 'tenants',
    aliases: ['tenant', 'tenants', 'tn'],
    spec: TenantSpecSchema,
    status: TenantStatusSchema,
    description: 'A team sharing the fleet: allowed models and clusters, GPU quota, rate limits, monthly budget, priority, and its usage.',
  },
  ApiKey: {
    plural: 'apikeys',
    aliases: ['apikey', 'apikeys', 'key', 'keys'],
    spec: ApiKeySpecSchema,
    status: ApiKeyStatusSchema,
    description: "A tenant's key to the OpenAI API (only its SHA-256 and a display prefix). Minted by POST /api/v1/tenants/{tenant}/keys, not created directly.",
  },
} as const satisfies Record<string, KindDef>;

export type Kind = keyof typeof KINDS;
export const KIND_NAMES = Object.keys(KINDS) as Kind[];

interface SpecByKind {
  Function: FunctionSpec;
  Deployment: DeploymentSpec;
  Cluster: ClusterSpec;
  Tenant: TenantSpec;
  ApiKey: ApiKeySpec;
}
interface StatusByKind {
  Function: FunctionStatus;
  Deployment: DeploymentStatus;
  Cluster: ClusterStatus;
  Tenant: TenantStatus;
  ApiKey: ApiKeyStatus;
}

/** A stored resource as the API returns it. */
export interface Resource<K extends Kind = Kind> {
  apiVersion: typeof API_VERSION;
  kind: K;
  metadata: ObjectMeta;
  spec: SpecByKind[K];
  status?: StatusByKind[K];
}
export type FunctionResource = Resource<'Function'>;
export type DeploymentResource = Resource<'Deployment'>;
export type ClusterResource = Resource<'Cluster'>;
export type TenantResource = Resource<'Tenant'>;
export type ApiKeyResource = Resource<'ApiKey'>;
export type AnyResource = { [K in Kind]: Resource<K> }[Kind];
/** Resource<K>, distributed over a union of kinds (Resource<'A' | 'B'> = Resource<'A'> | Resource<'B'>). */
export type ResourceOf<K extends Kind> = K extends Kind ? Resource<K> : never;

/** `fn`, `functions`, `Function` → 'Function'. */
export function resolveKind(text: string): Kind | undefined {
  const t = text.toLowerCase();
  return KIND_NAMES.find((k) => k.toLowerCase() === t || (KINDS[k].aliases as readonly string[]).includes(t));
}

export function kindOfPlural(plural: string): Kind | undefined {
  return KIND_NAMES.find((k) => KINDS[k].plural === plural);
}

const manifestSchemas = new Map<Kind, z.ZodType>();

/** The schema of a manifest of this kind (what `apply` accepts). */
export function manifestSchema<K extends Kind>(kind: K): z.ZodType<{ apiVersion: string; kind: K; metadata: z.infer<typeof ManifestMetaSchema>; spec: SpecByKind[K] }> {
  let s = manifestSchemas.get(kind);
  if (!s) {
    s = z.strictObject({
      apiVersion: z.literal(API_VERSION),
      kind: z.literal(kind),
      metadata: ManifestMetaSchema,
      spec: KINDS[kind].spec,
      status: z.unknown().optional().describe('Ignored on input: status is written by the server'),
    });
    manifestSchemas.set(kind, s);
  }
  return s as never;
}

/** The schema of a resource as returned by the API. */
export function resourceSchema(kind: Kind): z.ZodType {
  return z.object({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal(kind),
    metadata: ObjectMetaSchema,
    spec: KINDS[kind].spec,
    status: KINDS[kind].status.optional(),
  });
}
