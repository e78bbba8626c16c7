/**
 * Tokens: the bootstrap admin token and per-cluster agent tokens. Only SHA-256 hashes are
 * stored (store meta). The admin token is taken from SWITCHYARD_ADMIN_TOKEN at first start,
 * or generated; either way it is returned once so `switchyard up` can print it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { randomId, SwitchyardError } from '../core/index.js';
import type { ResourceStore } from '../store/index.js';

const ADMIN_KEY = 'admin-token-sha256';
const clusterKey = (name: string) => `cluster-token-sha256/${name}`;
const hash = (token: string) => createHash('sha256').update(token).digest('hex');

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export type Principal = { readonly kind: 'admin'; readonly name: string } | { readonly kind: 'agent'; readonly cluster: string; readonly name: string };

export class Tokens {
  private adminHash: string | undefined;
  /** In-memory admin-equivalent tokens of this process's own components (e.g. the embedded gateway), by hash. */
  private readonly internal = new Map<string, string>();

  /** Create a token for an in-process component; valid until this process exits. */
  internalToken(name: string): string {
    const token = `sy-internal-${randomId(160)}`;
    this.internal.set(hash(token), name);
    return token;
  }

  constructor(private readonly store: ResourceStore) {}

  /**
   * Make sure an admin token exists. Returns the token when it was created now (print it
   * once), or undefined when one already existed.
   */
  async bootstrap(fromEnv: string | undefined): Promise<{ token: string; generated: boolean } | undefined> {
    this.adminHash = await this.store.getMeta(ADMIN_KEY);
    if (this.adminHash) return undefined;
    const token = fromEnv && fromEnv.length > 0 ? fromEnv : `sy-admin-${randomId(160)}`;
    this.adminHash = hash(token);
    await this.store.setMeta(ADMIN_KEY, this.adminHash);
    return { token, generated: !fromEnv };
  }

  /** True when the stored admin token is this one. */
  isAdmin(token: string): boolean {
    return this.adminHash !== undefined && same(this.adminHash, hash(token));
  }

  /** Issue (replace) a cluster's agent token. */
  async issueClusterToken(cluster: string): Promise<string> {
    const token = `sy-agent-${cluster}.${randomId(160)}`;
    await this.store.setMeta(clusterKey(cluster), hash(token));
    return token;
  }

  /** Who a bearer token belongs to. @throws unauthorized. */
  async authenticate(header: string | undefined): Promise<Principal> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!m?.[1]) throw new SwitchyardError('unauthorized', 'missing bearer token: send Authorization: Bearer <token> (switchyard CLI: --token or SWITCHYARD_TOKEN)');
    const token = m[1];
    if (this.isAdmin(token)) return { kind: 'admin', name: 'admin' };
    const internal = this.internal.get(hash(token));
    if (internal) return { kind: 'admin', name: internal };
    const cluster = /^sy-agent-([a-z0-9-]+)\.[A-Za-z0-9_-]+$/.exec(token)?.[1];
    if (cluster) {
      const want = await this.store.getMeta(clusterKey(cluster));
      if (want && same(want, hash(token))) return { kind: 'agent', cluster, name: `agent:${cluster}` };
    }
    throw new SwitchyardError('unauthorized', 'invalid token');
  }
}
