/**
 * The audit log of admin actions: who did what, when, and the object before and after. It
 * covers what git history does not: minting, rotating and revoking keys, admin tokens, price
 * changes, deletes and rollbacks, as well as ordinary writes. Entries never hold a secret:
 * ApiKeys carry only their hash and prefix, tokens only their name and role.
 */

/** A JSON object (an audited object's state). */
export type AuditObject = { [key: string]: unknown };

export interface AuditEntry {
  /** When (epoch ms). */
  ts: number;
  /** Who, as history records it, e.g. `alice (token ci, operator)`. */
  actor: string;
  /** The caller's role (admin, operator, tenant-admin, ..., or agent). */
  role?: string;
  /** What, `<kind>.<verb>` in lower case: `apikey.revoke`, `function.update`, `token.create`, `pricing.update`. */
  action: string;
  /** The object's kind: a resource kind, or Token, PriceTable. */
  kind: string;
  name: string;
  /** The object before the action; null when it did not exist. */
  before: AuditObject | null;
  /** The object after the action; null when it no longer exists. */
  after: AuditObject | null;
  /** Free text, e.g. `rollback to 1a2b3c4`, `cascade from Tenant/acme`. */
  note?: string;
}

/** An entry as stored: with its sequence number (increasing). */
export interface StoredAuditEntry extends AuditEntry {
  id: number;
}

export interface AuditQuery {
  /** Epoch ms, inclusive. */
  since?: number | undefined;
  /** Epoch ms, exclusive. */
  until?: number | undefined;
  /** Entries whose actor contains this text. */
  actor?: string | undefined;
  kind?: string | undefined;
  action?: string | undefined;
  /** The newest this many entries (default 1000, at most 10,000), returned oldest first. */
  limit?: number | undefined;
}

export const AUDIT_DEFAULT_LIMIT = 1000;
export const AUDIT_MAX_LIMIT = 10_000;
