/**
 * Tokens of the admin API:
 * - the bootstrap admin token (role admin), taken from SWITCHYARD_ADMIN_TOKEN at first start
 *   or generated, and returned once so `switchyard up` can print it;
 * - named tokens with a role (admin, operator, viewer, tenant-admin bound to one tenant),
 *   created through `POST /api/v1/tokens` and shown once;
 * - per-cluster agent tokens;
 * - in-memory tokens of this process's own components (the embedded gateway).
 * Only SHA-256 hashes are stored (store meta), and hashes are compared in constant time.
 * Named tokens are `sy-token-<name>.<43 base64url characters>`: the name selects the record,
 * the hash decides.
 */
import { randomId, SwitchyardError, type Clock } from '../core/index.js';
import type { AdminRole, TokenInfo } from '../api/index.js';
import type { ResourceStore } from '../store/index.js';
import { randomSecret, sameHash, sha256Hex } from './secrets.js';

const ADMIN_KEY = 'admin-token-sha256';
/** One JSON object of every named token: name → { role, tenant?, hash, prefix, createdAt, createdBy }. */
const NAMED_KEY = 'admin-tokens-v1';
const clusterKey = (name: string) => `cluster-token-sha256/${name}`;
const NAMED_TOKEN = /^sy-token-([a-z0-9-]{1,63})\.[A-Za-z0-9_-]{43}$/;

/**
 * Who is calling. `user`: an admin-API token (the bootstrap token, a named token, or an
 * in-process component), with its role; `agent`: a cluster agent.
 */
export type Principal =
  | { readonly kind: 'user'; readonly name: string; readonly role: AdminRole; readonly tenant?: string; readonly token?: string }
  | { readonly kind: 'agent'; readonly cluster: string; readonly name: string };

interface NamedRecord extends TokenInfo {
  hash: string;
}

export class Tokens {
  private adminHash: string | undefined;
  /** In-memory admin-equivalent tokens of this process's own components (e.g. the embedded gateway), by hash. */
  private readonly internal = new Map<string, string>();

  constructor(
    private readonly store: ResourceStore,
    private readonly clock?: Clock,
  ) {}

  /** Create a token for an in-process component; valid until this process exits. */
  internalToken(name: string): string {
    const token = `sy-internal-${randomId(160)}`;
    this.internal.set(sha256Hex(token), name);
    return token;
  }

  /**
   * Make sure an admin token exists. Returns the token when it was created now (print it
   * once), or undefined when one already existed.
   */
  async bootstrap(fromEnv: string | undefined): Promise<{ token: string; generated: boolean } | undefined> {
    this.adminHash = await this.store.getMeta(ADMIN_KEY);
    if (this.adminHash) return undefined;
    const token = fromEnv && fromEnv.length > 0 ? fromEnv : `sy-admin-${randomId(160)}`;
    this.adminHash = sha256Hex(token);
    await this.store.setMeta(ADMIN_KEY, this.adminHash);
    return { token, generated: !fromEnv };
  }

  /** True when the stored admin token is this one. */
  isAdmin(token: string): boolean {
    return this.adminHash !== undefined && sameHash(this.adminHash, sha256Hex(token));
  }

  /** Issue (replace) a cluster's agent token. */
  async issueClusterToken(cluster: string): Promise<string> {
    const token = `sy-agent-${cluster}.${randomId(160)}`;
    await this.store.setMeta(clusterKey(cluster), sha256Hex(token));
    return token;
  }

  /** Create a named token with a role; the token is returned once. @throws already_exists. */
  async create(req: { name: string; role: AdminRole; tenant?: string | undefined }, createdBy: string): Promise<{ token: string; info: TokenInfo }> {
    const all = await this.named();
    if (all.has(req.name)) throw new SwitchyardError('already_exists', `token '${req.name}' already exists; delete it first (switchyard tokens delete ${req.name})`, { param: 'name' });
    const token = `sy-token-${req.name}.${randomSecret()}`;
    const info: TokenInfo = {
      name: req.name,
      role: req.role,
      ...(req.tenant ? { tenant: req.tenant } : {}),
      prefix: token.slice(0, `sy-token-${req.name}.`.length + 4),
      createdAt: new Date(this.clock?.epochMs() ?? Date.now()).toISOString(),
      createdBy,
    };
    all.set(req.name, { ...info, hash: sha256Hex(token) });
    await this.save(all);
    return { token, info };
  }

  /** Named tokens, by name (never their hashes). */
  async list(): Promise<TokenInfo[]> {
    return [...(await this.named()).values()]
      .map(({ hash: _hash, ...info }) => info)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Delete a named token (it stops working at once). @throws not_found. */
  async delete(name: string): Promise<TokenInfo> {
    const all = await this.named();
    const rec = all.get(name);
    if (!rec) throw new SwitchyardError('not_found', `token '${name}' not found`, { param: 'name' });
    all.delete(name);
    await this.save(all);
    const { hash: _hash, ...info } = rec;
    return info;
  }

  /** Who a bearer token belongs to. @throws unauthorized. */
  async authenticate(header: string | undefined): Promise<Principal> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!m?.[1]) throw new SwitchyardError('unauthorized', 'missing bearer token: send Authorization: Bearer <token> (switchyard CLI: --token or SWITCHYARD_TOKEN)');
    const token = m[1];
    if (this.isAdmin(token)) return { kind: 'user', name: 'admin', role: 'admin' };
    const internal = this.internal.get(sha256Hex(token));
    if (internal) return { kind: 'user', name: internal, role: 'admin' };
    const named = NAMED_TOKEN.exec(token)?.[1];
    if (named) {
      const rec = (await this.named()).get(named);
      if (rec && sameHash(rec.hash, sha256Hex(token))) return { kind: 'user', name: named, role: rec.role, token: named, ...(rec.tenant ? { tenant: rec.tenant } : {}) };
    }
    const cluster = /^sy-agent-([a-z0-9-]+)\.[A-Za-z0-9_-]+$/.exec(token)?.[1];
    if (cluster) {
      const want = await this.store.getMeta(clusterKey(cluster));
      if (want && sameHash(want, sha256Hex(token))) return { kind: 'agent', cluster, name: `agent:${cluster}` };
    }
    throw new SwitchyardError('unauthorized', 'invalid token');
  }

  /** The named tokens (read on every use, so a deletion on any control-plane replica applies at once). */
  private async named(): Promise<Map<string, NamedRecord>> {
    const text = await this.store.getMeta(NAMED_KEY);
    return new Map(text ? Object.entries(JSON.parse(text) as Record<string, NamedRecord>) : []);
  }

  private save(all: ReadonlyMap<string, NamedRecord>): Promise<void> {
    return this.store.setMeta(NAMED_KEY, JSON.stringify(Object.fromEntries(all)));
  }
}
