/**
 * Object metadata shared by every resource (Kubernetes-style).
 *
 * Manifests (what users apply) carry `metadata.name`, `labels` and `annotations`; the server
 * owns `uid`, `resourceVersion`, `generation` and the timestamps. Server-owned fields are
 * accepted in manifests (so `get -o yaml | apply -f -` round-trips) and ignored, except
 * `resourceVersion`, which, when given, is an optimistic-concurrency precondition.
 */
import { z } from 'zod';

export const API_VERSION = 'switchyard.dev/v1';
export const API_GROUP = 'switchyard.dev';

/** DNS-1123 label: lower-case alphanumerics and '-', starting and ending alphanumeric, ≤ 63. */
export const NAME_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function zName(what = 'name', max = 63) {
  return z
    .string()
    .min(1, `${what} must not be empty`)
    .max(max, `${what} must be at most ${max} characters`)
    .regex(NAME_PATTERN, `${what} must be lower-case letters, digits and '-', starting and ending with a letter or digit (e.g. 'llama-8b')`);
}

const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

export const LabelsSchema = z.record(
  z.string().max(253).regex(LABEL_KEY, "label keys look like 'region' or 'switchyard.dev/gpu'"),
  z.string().max(63).regex(LABEL_VALUE, "label values are alphanumerics, '-', '_' and '.', up to 63 characters"),
);
export const AnnotationsSchema = z.record(z.string().max(253), z.string());

/** metadata as users write it. */
export const ManifestMetaSchema = z.strictObject({
  name: zName('metadata.name'),
  labels: LabelsSchema.optional(),
  annotations: AnnotationsSchema.optional(),
  resourceVersion: z.string().regex(/^\d+$/, 'resourceVersion is a decimal number as returned by the server').optional(),
  // Server-owned, tolerated and ignored on input:
  uid: z.string().optional(),
  generation: z.number().optional(),
  creationTimestamp: z.string().optional(),
  updateTimestamp: z.string().optional(),
});
export type ManifestMeta = z.infer<typeof ManifestMetaSchema>;

/** metadata as the server returns it. */
export const ObjectMetaSchema = z.object({
  name: z.string(),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()),
  uid: z.string(),
  /** Revision of the last write to this object (global, increasing); send it back to update safely. */
  resourceVersion: z.string(),
  /** Incremented on every spec change (not on status changes). */
  generation: z.number().int(),
  creationTimestamp: z.string(),
  updateTimestamp: z.string(),
  /** Set while a cascading delete is in progress. */
  deletionTimestamp: z.string().optional(),
});
export type ObjectMeta = z.infer<typeof ObjectMetaSchema>;

/** A condition, Kubernetes-style: one line of status each. */
export const ConditionSchema = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string(),
  message: z.string(),
  lastTransitionTime: z.string(),
});
export type Condition = z.infer<typeof ConditionSchema>;

export const EventSchema = z.object({
  time: z.string(),
  type: z.enum(['Normal', 'Warning']),
  reason: z.string(),
  message: z.string(),
});
export type ResourceEvent = z.infer<typeof EventSchema>;
