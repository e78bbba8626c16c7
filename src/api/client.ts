/**
 * SwitchyardClient: the admin API over HTTP, used by the CLI, cluster agents and gateways.
 * Errors come back as SwitchyardErrors carrying the server's code and message.
 */
import { Agent, request, type Dispatcher } from 'undici';
import { ErrorCodes, SwitchyardError, type ErrorCode } from '../core/index.js';
import { SseParser } from '../openai/index.js';
import type { CreateApiKeyRequest, RotateApiKeyRequest } from './apikey.js';
import type { AuditQuery, StoredAuditEntry } from './audit.js';
import type { Heartbeat } from './cluster.js';
import { KINDS, type AnyResource, type ApiKeyResource, type Kind, type ResourceOf } from './kinds.js';
import type { PrefixSummaryItem, PrefixSummaryList, PrefixSummaryPut } from './prefix-summary.js';
import type { AdminRole, TokenInfo } from './token.js';
import type { PriceTable, UsageAggregate, UsageRecord } from './usage.js';

export interface ClientOptions {
  /** Base URL, e.g. http://127.0.0.1:8080 */
  server: string;
  token?: string;
  /** Recorded as the author of changes (with the token's identity). */
  user?: string;
  /** Per-request timeout in ms (not applied to watch and followed logs). Default 30 s. */
  timeoutMs?: number;
}

export interface ListResult<R = AnyResource> {
  items: R[];
  resourceVersion: string;
}
export interface ApplyResult {
  dryRun: boolean;
  results: { kind: Kind; name: string; action: 'created' | 'configured' | 'unchanged'; diff?: string; resourceVersion?: string }[];
}
export interface HistoryEntry {
  revision: string;
  author: string;
  date: string;
  message: string;
}
/** A key as minted: the secret (shown once, never stored) and the stored resource. */
export interface MintedApiKey {
  key: string;
  apiKey: ApiKeyResource;
}
/** A named admin token as created: the token itself is shown once. */
export interface CreatedToken extends TokenInfo {
  token: string;
}
/** Query of `GET /api/v1/usage`: times are epoch ms or durations back from now ('7d'). */
export interface UsageRequest {
  tenant?: string;
  since?: number | string;
  until?: number | string;
  groupBy?: 'day' | 'none';
}
/** Query of `GET /api/v1/audit`: times are epoch ms or durations back from now ('1d'). */
export interface AuditRequest extends Omit<AuditQuery, 'since' | 'until'> {
  since?: number | string;
  until?: number | string;
}
export interface ApiWatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  resourceVersion: string;
  object: AnyResource;
}

export class SwitchyardClient {
  readonly server: string;
  private readonly dispatcher: Dispatcher;

  constructor(private readonly options: ClientOptions) {
    this.server = options.server.replace(/\/+$/, '');
    this.dispatcher = new Agent({ keepAliveTimeout: 10_000, connect: { timeout: 5_000 } });
  }

  async list<K extends Kind>(kind: K): Promise<ListResult<ResourceOf<K>>> {
    return (await this.call('GET', `/api/v1/${KINDS[kind].plural}`)) as ListResult<ResourceOf<K>>;
  }
  async get<K extends Kind>(kind: K, name: string): Promise<ResourceOf<K>> {
    return (await this.call('GET', `/api/v1/${KINDS[kind].plural}/${encodeURIComponent(name)}`)) as ResourceOf<K>;
  }
  async create(manifest: object): Promise<AnyResource> {
    const kind = (manifest as { kind: Kind }).kind;
    return (await this.call('POST', `/api/v1/${KINDS[kind].plural}`, manifest)) as AnyResource;
  }
  async replace(manifest: object): Promise<AnyResource> {
    const m = manifest as { kind: Kind; metadata: { name: string } };
    return (await this.call('PUT', `/api/v1/${KINDS[m.kind].plural}/${encodeURIComponent(m.metadata.name)}`, manifest)) as AnyResource;
  }
  async delete(kind: Kind, name: string, opts: { cascade?: boolean } = {}): Promise<AnyResource> {
    return (await this.call('DELETE', `/api/v1/${KINDS[kind].plural}/${encodeURIComponent(name)}${opts.cascade ? '?cascade=true' : ''}`)) as AnyResource;
  }
  /** Apply YAML text (one or more documents) or manifest objects, all-or-nothing. */
  async apply(input: string | readonly object[], opts: { dryRun?: boolean; source?: string } = {}): Promise<ApplyResult> {
    const qs = new URLSearchParams();
    if (opts.dryRun) qs.set('dryRun', 'true');
    if (opts.source) qs.set('source', opts.source);
    const q = qs.size ? `?${qs.toString()}` : '';
    if (typeof input === 'string') return (await this.call('POST', `/api/v1/apply${q}`, input, 'application/yaml')) as ApplyResult;
    return (await this.call('POST', `/api/v1/apply${q}`, { items: input })) as ApplyResult;
  }
  async history(kind: Kind, name: string): Promise<HistoryEntry[]> {
    return (await this.call('GET', `/api/v1/history/${KINDS[kind].plural}/${encodeURIComponent(name)}`)) as HistoryEntry[];
  }
  async rollback<K extends Kind>(kind: K, name: string, to: string): Promise<ResourceOf<K>> {
    return (await this.call('POST', `/api/v1/rollback/${KINDS[kind].plural}/${encodeURIComponent(name)}`, { to })) as ResourceOf<K>;
  }
  async heartbeat(cluster: string, hb: Heartbeat & { intervalMs?: number }): Promise<void> {
    await this.call('POST', `/api/v1/clusters/${encodeURIComponent(cluster)}/heartbeat`, hb);
  }
  /** Report the cluster's prefix summary (agent token of that cluster). */
  async putPrefixSummary(cluster: string, body: PrefixSummaryPut): Promise<void> {
    await this.call('PUT', `/api/v1/clusters/${encodeURIComponent(cluster)}/prefix-summary`, body);
  }
  /** One cluster's latest prefix summary (404 when none). */
  async prefixSummary(cluster: string): Promise<PrefixSummaryItem> {
    return (await this.call('GET', `/api/v1/clusters/${encodeURIComponent(cluster)}/prefix-summary`)) as PrefixSummaryItem;
  }
  /** Every cluster's latest prefix summary, or null when nothing changed since `etag` (304). */
  async prefixSummaries(etag?: string, signal?: AbortSignal): Promise<{ list: PrefixSummaryList; etag: string } | null> {
    const res = await this.raw('GET', '/api/v1/prefix-summaries', { signal, headers: etag ? { 'if-none-match': etag } : {} });
    if (res.statusCode === 304) {
      await res.body.dump();
      return null;
    }
    const list = JSON.parse(await res.body.text()) as PrefixSummaryList;
    return { list, etag: String(res.headers.etag ?? '') };
  }
  async clusterToken(cluster: string): Promise<string> {
    return ((await this.call('POST', `/api/v1/clusters/${encodeURIComponent(cluster)}/token`, {})) as { token: string }).token;
  }

  /** Mint an API key for a tenant; `key` is the secret, returned only now. */
  async createKey(tenant: string, req: CreateApiKeyRequest = {}): Promise<MintedApiKey> {
    return (await this.call('POST', `/api/v1/tenants/${encodeURIComponent(tenant)}/keys`, req)) as MintedApiKey;
  }
  /** API keys of one tenant, or (without a tenant) every key. */
  async listKeys(tenant?: string): Promise<ListResult<ApiKeyResource>> {
    if (tenant === undefined) return this.list('ApiKey');
    return (await this.call('GET', `/api/v1/tenants/${encodeURIComponent(tenant)}/keys`)) as ListResult<ApiKeyResource>;
  }
  /** A new secret for a key (the old one stops working). */
  async rotateKey(name: string, req: RotateApiKeyRequest = {}): Promise<MintedApiKey> {
    return (await this.call('POST', `/api/v1/apikeys/${encodeURIComponent(name)}/rotate`, req)) as MintedApiKey;
  }
  async revokeKey(name: string): Promise<ApiKeyResource> {
    return (await this.call('POST', `/api/v1/apikeys/${encodeURIComponent(name)}/revoke`, {})) as ApiKeyResource;
  }
  /** Create a named admin token with a role; `token` is returned only now. */
  async createToken(req: { name: string; role: AdminRole; tenant?: string }): Promise<CreatedToken> {
    return (await this.call('POST', '/api/v1/tokens', req)) as CreatedToken;
  }
  async listTokens(): Promise<TokenInfo[]> {
    return ((await this.call('GET', '/api/v1/tokens')) as { items: TokenInfo[] }).items;
  }
  async deleteToken(name: string): Promise<TokenInfo> {
    return (await this.call('DELETE', `/api/v1/tokens/${encodeURIComponent(name)}`)) as TokenInfo;
  }

  /** Report finished requests' usage (at most 5,000 records per call). */
  async postUsage(records: readonly UsageRecord[]): Promise<void> {
    await this.call('POST', '/api/v1/usage', { records });
  }
  /** Usage per tenant × model (× UTC day with groupBy 'day', the default). */
  async usage(q: UsageRequest = {}): Promise<UsageAggregate[]> {
    return ((await this.call('GET', `/api/v1/usage${query(q)}`)) as { items: UsageAggregate[] }).items;
  }
  async getPricing(): Promise<PriceTable> {
    return (await this.call('GET', '/api/v1/pricing')) as PriceTable;
  }
  /** Replace the price table (admin). */
  async setPricing(table: PriceTable): Promise<PriceTable> {
    return (await this.call('PUT', '/api/v1/pricing', table)) as PriceTable;
  }
  /** Audit entries of admin actions (admin), oldest first. */
  async audit(q: AuditRequest = {}): Promise<StoredAuditEntry[]> {
    return ((await this.call('GET', `/api/v1/audit${query(q)}`)) as { items: StoredAuditEntry[] }).items;
  }

  /** Lines of a replica's log; with follow, until the signal aborts or the server ends the stream. */
  async *logs(deployment: string, opts: { replica?: number; follow?: boolean; tail?: number; signal?: AbortSignal } = {}): AsyncGenerator<string> {
    const qs = new URLSearchParams({ replica: String(opts.replica ?? 0) });
    if (opts.follow) qs.set('follow', 'true');
    if (opts.tail !== undefined) qs.set('tail', String(opts.tail));
    const res = await this.raw('GET', `/api/v1/deployments/${encodeURIComponent(deployment)}/logs?${qs.toString()}`, { signal: opts.signal, timeout: !opts.follow });
    let rest = '';
    for await (const chunk of res.body) {
      rest += (chunk as Buffer).toString('utf8');
      const lines = rest.split('\n');
      rest = lines.pop() ?? '';
      yield* lines;
    }
    if (rest) yield rest;
  }

  /**
   * One watch connection: events after `resourceVersion`. Ends when the server closes the stream
   * or the signal aborts. `onOpen` runs once the server accepted the watch (before any event).
   * @throws SwitchyardError `gone` when the version is too old (re-list).
   */
  async *watch(opts: { resourceVersion?: string; kinds?: readonly Kind[]; signal?: AbortSignal; onOpen?: () => void } = {}): AsyncGenerator<ApiWatchEvent> {
    const qs = new URLSearchParams();
    if (opts.resourceVersion) qs.set('resourceVersion', opts.resourceVersion);
    if (opts.kinds?.length) qs.set('kinds', opts.kinds.join(','));
    const res = await this.raw('GET', `/api/v1/watch?${qs.toString()}`, { signal: opts.signal, timeout: false });
    opts.onOpen?.();
    const parser = new SseParser();
    for await (const chunk of res.body) {
      for (const ev of parser.feed(chunk as Buffer)) {
        if (ev.event === 'ADDED' || ev.event === 'MODIFIED' || ev.event === 'DELETED') {
          yield { type: ev.event, resourceVersion: ev.id ?? '', object: JSON.parse(ev.data) as AnyResource };
        }
      }
    }
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }

  private headers(contentType?: string): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json' };
    if (this.options.token) h.authorization = `Bearer ${this.options.token}`;
    if (this.options.user) h['x-switchyard-user'] = this.options.user;
    if (contentType) h['content-type'] = contentType;
    return h;
  }

  private async raw(method: Dispatcher.HttpMethod, path: string, opts: { body?: string; contentType?: string; signal?: AbortSignal | undefined; timeout?: boolean; headers?: Record<string, string> }): Promise<Dispatcher.ResponseData> {
    const timeout = opts.timeout === false ? 0 : (this.options.timeoutMs ?? 30_000);
    let res: Dispatcher.ResponseData;
    try {
      res = await request(this.server + path, {
        method,
        headers: { ...this.headers(opts.contentType), ...opts.headers },
        body: opts.body,
        dispatcher: this.dispatcher,
        signal: opts.signal,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
    } catch (e) {
      if (opts.signal?.aborted) throw e;
      const why = e instanceof Error ? ((e as { code?: string }).code ?? e.message) : String(e);
      throw new SwitchyardError('unavailable', `cannot reach the Switchyard server at ${this.server} (${why}); is it running? (set --server or SWITCHYARD_SERVER)`, { cause: e });
    }
    if (res.statusCode >= 400) throw await errorFrom(res);
    return res;
  }

  private async call(method: Dispatcher.HttpMethod, path: string, body?: unknown, contentType = 'application/json'): Promise<unknown> {
    const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const res = await this.raw(method, path, { body: text, contentType: text === undefined ? undefined : contentType });
    const out = await res.body.text();
    return out ? JSON.parse(out) : undefined;
  }
}

/** `?a=1&b=x` from the defined values ('' when none). */
function query(q: object): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') qs.set(k, String(v));
  return qs.size ? `?${qs.toString()}` : '';
}

async function errorFrom(res: Dispatcher.ResponseData): Promise<SwitchyardError> {
  const text = await res.body.text().catch(() => '');
  let message = text || `HTTP ${res.statusCode}`;
  let code: ErrorCode = codeForStatus(res.statusCode);
  let param: string | null = null;
  try {
    const err = (JSON.parse(text) as { error?: { message?: string; code?: string; param?: string | null } }).error;
    if (err?.message) message = err.message;
    if (err?.code && err.code in ErrorCodes) code = err.code as ErrorCode;
    param = err?.param ?? null;
  } catch {
    // not JSON: keep the text
  }
  return new SwitchyardError(code, message, { status: res.statusCode, param });
}

function codeForStatus(status: number): ErrorCode {
  const found = (Object.keys(ErrorCodes) as ErrorCode[]).find((c) => ErrorCodes[c].status === status);
  return found ?? (status >= 500 ? 'internal_error' : 'invalid_request');
}
