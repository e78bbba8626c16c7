/**
 * Request intake for the proxy: request id, bounded body read, one JSON parse, one validation,
 * model lookup, and — for streams whose client did not ask for usage — the one re-serialisation
 * the gateway needs (adding `stream_options.include_usage`). Everything else is forwarded as the
 * bytes the client sent.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomId, SwitchyardError } from '../core/index.js';
import { ChatCompletionRequest, CompletionRequest, EmbeddingRequest, parseJsonBody, parseRequest, readBody, ResponsesRequest } from '../openai/index.js';
import type { RouteRequest } from '../router/index.js';
import type { RoutingTable } from './table.js';

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
  route: RouteRequest & { excluded: Set<string> };
  t0: number;
}

interface ParsedFields {
  model: string;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean | null } | null;
  user?: string | null;
  messages?: { content?: unknown }[];
  prompt?: unknown;
}

/** Request ids need to be unique, not secret: a random per-process prefix and a counter. */
const ID_PREFIX = `req-${randomId(48)}-`;
let idCounter = 0;

export async function readInbound(kind: ApiKind, req: IncomingMessage, res: ServerResponse, table: RoutingTable, maxBodyBytes: number): Promise<Inbound> {
  const t0 = performance.now();
  const given = req.headers['x-request-id'];
  const requestId = typeof given === 'string' && given.length > 0 && given.length <= 200 && /^[\x21-\x7e]+$/.test(given) ? given : ID_PREFIX + (idCounter++).toString(36);
  res.setHeader('x-request-id', requestId);
  const raw = await readBody(req, maxBodyBytes);
  const json = parseJsonBody(raw);
  const parsed = validate(kind, json) as ParsedFields;
  const model = parsed.model;
  if (!table.route(model)) {
    const available = table.models();
    throw new SwitchyardError('model_not_found', `The model '${model}' does not exist or you do not have access to it. Available models: ${available.length ? available.map((m) => `'${m}'`).join(', ') : '(none)'}.`, { param: 'model' });
  }
  const stream = kind !== 'embeddings' && parsed.stream === true;
  let body: Buffer | string = raw;
  let stripUsage = false;
  if (stream && (kind === 'chat' || kind === 'completions') && parsed.stream_options?.include_usage !== true) {
    // The gateway needs usage for accounting: ask for it, and strip it before the client sees it.
    const obj = json as Record<string, unknown>;
    const so = typeof obj.stream_options === 'object' && obj.stream_options !== null ? obj.stream_options : {};
    body = JSON.stringify({ ...obj, stream_options: { ...so, include_usage: true } });
    stripUsage = true;
  }
  let promptText: string | undefined | null = null;
  return {
    requestId,
    kind,
    model,
    stream,
    stripUsage,
    body,
    t0,
    route: {
      requestId,
      model,
      headers: req.headers as Record<string, string | undefined>,
      user: typeof parsed.user === 'string' ? parsed.user : undefined,
      // Only prompt-hashing plugins read it: built on first read, at most once.
      get promptText() {
        if (promptText === null) promptText = promptTextOf(parsed);
        return promptText;
      },
      excluded: new Set<string>(),
    },
  };
}

function validate(kind: ApiKind, json: unknown): unknown {
  switch (kind) {
    case 'chat':
      return parseRequest(ChatCompletionRequest, json);
    case 'completions':
      return parseRequest(CompletionRequest, json);
    case 'embeddings':
      return parseRequest(EmbeddingRequest, json);
    case 'responses':
      return parseRequest(ResponsesRequest, json);
  }
}

function promptTextOf(p: ParsedFields): string | undefined {
  if (typeof p.prompt === 'string') return p.prompt.slice(0, 2048);
  if (!p.messages) return undefined;
  let s = '';
  for (const m of p.messages) {
    if (typeof m.content === 'string') s += m.content + '\n';
    if (s.length >= 2048) break;
  }
  return s.slice(0, 2048);
}
