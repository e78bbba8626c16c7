/**
 * Request intake for the proxy: request id, bounded body read, one JSON parse, one validation
 * (a cheap pre-check for the common chat request, zod for everything else), model lookup, and —
 * for streams whose client did not ask for usage — `stream_options.include_usage` added to the
 * body: spliced into the client's bytes when the request has no `stream_options`, re-serialised
 * only when it has one to amend. Everything else is forwarded as the bytes the client sent.
 */
import type { IncomingMessage } from 'node:http';
import { randomId, SwitchyardError } from '../core/index.js';
import { ChatCompletionRequest, CompletionRequest, EmbeddingRequest, parseJsonBody, parseRequest, readBody, ResponsesRequest } from '../openai/index.js';
import type { EndpointView, RouteRequest } from '../router/index.js';
import type { PromptTokenizer } from '../tokenizers/index.js';
import { chatRequestCertainlyValid } from './precheck.js';
import type { RoutingTable, TokenizerSpec } from './table.js';
import type { Caller } from './tenancy.js';

export type ApiKind = 'chat' | 'completions' | 'embeddings' | 'responses';

export const API_PATHS: Record<ApiKind, string> = {
  chat: '/v1/chat/completions',
  completions: '/v1/completions',
  embeddings: '/v1/embeddings',
  responses: '/v1/responses',
};

export interface Inbound {
  requestId: string;
  kind: ApiKind;
  model: string;
  stream: boolean;
  /** The gateway added include_usage: strip the usage chunk before the client sees it. */
  stripUsage: boolean;
  body: Buffer | string;
  route: RouteRequest & { excluded: Set<string>; release(): void };
  t0: number;
  /** Who sent it. */
  caller: Caller;
  /** The completion budget the client asked for (max_tokens / max_completion_tokens), if any. */
  maxTokens: number | undefined;
  /** Usage as the backend reported it (set when a response or the stream's usage chunk arrives). */
  usage: { promptTokens: number; completionTokens: number; cachedTokens: number } | null;
  /** Token events relayed to the client (what a disconnected stream is charged for). */
  streamedTokens: number;
  /** The endpoint whose response was committed to the client, if any. */
  servedBy: EndpointView | null;
  /** How it ended: the HTTP status sent, or a word ('client_closed', 'truncated', ...). */
  outcome: number | string;
}

interface ParsedFields {
  model: string;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean | null } | null;
  user?: string | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  messages?: { role: string; content?: unknown }[];
  tools?: unknown;
  prompt?: unknown;
}

/** Where prompt tokenizers come from (KvRouting): undefined while one loads. */
export interface TokenizerSource {
  tokenizer(spec: TokenizerSpec): PromptTokenizer | undefined;
}

/** Request ids need to be unique, not secret: a random per-process prefix and a counter. */
const ID_PREFIX = `req-${randomId(48)}-`;
let idCounter = 0;

/** The client's `x-request-id` when it is a sane token, else a fresh one. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && given.length > 0 && given.length <= 200 && /^[\x21-\x7e]+$/.test(given) ? given : ID_PREFIX + (idCounter++).toString(36);
}

/**
 * Read, parse and validate the request. The caller tags error responses with `requestId` (the
 * response headers are not touched here, so that a successful response can be written with one
 * writeHead() call and no per-response header map).
 */
export async function readInbound(kind: ApiKind, req: IncomingMessage, requestId: string, table: RoutingTable, maxBodyBytes: number, caller: Caller, tokenizers?: TokenizerSource): Promise<Inbound> {
  const t0 = performance.now();
  const raw = await readBody(req, maxBodyBytes);
  const json = parseJsonBody(raw);
  const parsed = validate(kind, json) as ParsedFields;
  const model = parsed.model;
  const allowed = caller.allowedModels;
  const modelRoute = allowed === undefined || allowed.has(model) ? table.route(model) : undefined;
  if (!modelRoute) {
    // A model the caller may not use reads exactly like one that does not exist.
    const available = allowed === undefined ? table.models() : table.models().filter((m) => allowed.has(m));
    throw new SwitchyardError('model_not_found', `The model '${model}' does not exist or you do not have access to it. Available models: ${available.length ? available.map((m) => `'${m}'`).join(', ') : '(none)'}.`, { param: 'model' });
  }
  const stream = kind !== 'embeddings' && parsed.stream === true;
  let body: Buffer | string = raw;
  let stripUsage = false;
  if (stream && (kind === 'chat' || kind === 'completions') && parsed.stream_options?.include_usage !== true) {
    // The gateway needs usage for accounting: ask for it, and strip it before the client sees it.
    const obj = json as Record<string, unknown>;
    if (obj.stream_options === undefined) {
      body = withIncludeUsage(raw);
    } else {
      const so = typeof obj.stream_options === 'object' && obj.stream_options !== null ? obj.stream_options : {};
      body = stringifyBody({ ...obj, stream_options: { ...so, include_usage: true } });
    }
    stripUsage = true;
  }
  return {
    requestId,
    kind,
    model,
    stream,
    stripUsage,
    body,
    t0,
    caller,
    maxTokens: typeof parsed.max_completion_tokens === 'number' ? parsed.max_completion_tokens : typeof parsed.max_tokens === 'number' ? parsed.max_tokens : undefined,
    usage: null,
    streamedTokens: 0,
    servedBy: null,
    outcome: 0,
    route: new InboundRoute(
      requestId,
      model,
      req.headers as Record<string, string | undefined>,
      typeof parsed.user === 'string' ? parsed.user : undefined,
      parsed,
      (kind === 'chat' || kind === 'completions') && modelRoute.tokenizer !== undefined ? tokenizers?.tokenizer(modelRoute.tokenizer) : undefined,
      kind,
    ),
  };
}

/** The routing view of a request. */
class InboundRoute implements RouteRequest {
  readonly excluded = new Set<string>();
  private text: string | undefined | null = null;
  /** Present when the model's prompts can be tokenized here (exact KV-aware routing). */
  readonly tokenIds?: () => ArrayLike<number>;

  constructor(
    readonly requestId: string,
    readonly model: string,
    readonly headers: Record<string, string | undefined>,
    readonly user: string | undefined,
    private parsed: ParsedFields | null,
    tokenizer: PromptTokenizer | undefined,
    kind: ApiKind,
  ) {
    if (tokenizer !== undefined) {
      // Called at most once per request (promptTokenIds memoises), during routing.
      this.tokenIds = () => (this.parsed === null ? undefined : tokenizer.tokens(kind === 'chat' ? 'chat' : 'completions', this.parsed)) ?? NO_TOKENS;
    }
  }

  /** Only prompt-hashing plugins read it: built on first read, at most once. */
  get promptText(): string | undefined {
    if (this.text === null) this.text = this.parsed === null ? undefined : promptTextOf(this.parsed);
    return this.text;
  }

  /** Routing is over: let go of the parsed request. */
  release(): void {
    this.parsed = null;
  }
}

const NO_BODY = Buffer.alloc(0);
const NO_TOKENS: readonly number[] = [];

/**
 * The response is committed (no attempt follows): drop the request body and the parsed request,
 * which a long stream would otherwise keep alive for its whole duration.
 */
export function releaseBody(inb: Inbound): void {
  inb.body = NO_BODY;
  inb.route.release();
}

const INCLUDE_USAGE = Buffer.from(',"stream_options":{"include_usage":true}');
const CLOSE_BRACE = 0x7d;

/**
 * `raw` (a JSON object with at least one member and no `stream_options`) with
 * `"stream_options":{"include_usage":true}` added as its last member — what
 * `JSON.stringify({ ...obj, stream_options: { include_usage: true } })` means, without
 * re-serialising the rest.
 */
export function withIncludeUsage(raw: Buffer): Buffer {
  const close = raw.lastIndexOf(CLOSE_BRACE);
  return Buffer.concat([raw.subarray(0, close), INCLUDE_USAGE, raw.subarray(close)]);
}

function validate(kind: ApiKind, json: unknown): unknown {
  switch (kind) {
    case 'chat':
      // The common request shape is checked by hand; zod validates (and words errors for) the rest.
      return chatRequestCertainlyValid(json) ? json : parseRequest(ChatCompletionRequest, json);
    case 'completions':
      return parseRequest(CompletionRequest, json);
    case 'embeddings':
      return parseRequest(EmbeddingRequest, json);
    case 'responses':
      return parseRequest(ResponsesRequest, json);
  }
}

/** JSON text of a request body; a value too deep to serialize is the client's error (400). */
function stringifyBody(body: unknown): string {
  try {
    return JSON.stringify(body);
  } catch {
    throw new SwitchyardError('invalid_request', 'The request body is nested too deeply.');
  }
}

function promptTextOf(p: ParsedFields): string | undefined {
  if (typeof p.prompt === 'string') return p.prompt.slice(0, 2048);
  // Only chat requests are validated to have messages: elsewhere it is whatever the client sent.
  if (!Array.isArray(p.messages)) return undefined;
  let s = '';
  for (const m of p.messages as readonly unknown[]) {
    const content = m !== null && typeof m === 'object' ? (m as { content?: unknown }).content : undefined;
    if (typeof content === 'string') s += content + '\n';
    if (s.length >= 2048) break;
  }
  return s.slice(0, 2048);
}
