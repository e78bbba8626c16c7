/**
 * node:http helpers for OpenAI-compatible servers: read a JSON body with a size limit, send
 * JSON, and send an error (as JSON, or as a final SSE event when a stream already started).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SwitchyardError } from '../core/index.js';
import { sseErrorEvent, toOpenAIError } from './errors.js';
import { SSE_HEADERS } from './sse.js';
import { parseJsonBody } from './validate.js';

/** Default request body limit (bytes). */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

function tooLarge(limit: number): SwitchyardError {
  return new SwitchyardError('payload_too_large', `The request body exceeds the limit of ${limit} bytes.`);
}

/**
 * Read a request body into one Buffer. Rejects with `payload_too_large` (413) past `maxBytes`
 * (the rest of the body is drained and discarded). Its listeners are removed once the body is
 * read, so a long-lived request (a gateway stream) does not keep them, or the buffered chunks,
 * alive; they are shared functions that find the read's state on the request (no closures per
 * request).
 */
export function readBody(req: IncomingMessage, maxBytes: number = DEFAULT_MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      req.resume();
      reject(tooLarge(maxBytes));
      return;
    }
    (req as BodyReadTarget)[kBodyRead] = new BodyRead(maxBytes, resolve, reject);
    req.on('data', onBodyData);
    req.on('end', onBodyEnd);
    req.on('error', onBodyError);
    req.on('close', onBodyClose);
  });
}

const kBodyRead = Symbol('switchyard.bodyRead');
type BodyReadTarget = IncomingMessage & { [kBodyRead]?: BodyRead | undefined };

class BodyRead {
  chunks: Buffer[] = [];
  size = 0;
  failed = false;
  constructor(
    readonly maxBytes: number,
    readonly resolve: (b: Buffer) => void,
    readonly reject: (e: unknown) => void,
  ) {}
}

function onBodyData(this: BodyReadTarget, chunk: Buffer): void {
  const r = this[kBodyRead];
  if (r === undefined || r.failed) return;
  r.size += chunk.length;
  if (r.size > r.maxBytes) {
    r.failed = true;
    r.chunks = [];
    r.reject(tooLarge(r.maxBytes));
    return;
  }
  r.chunks.push(chunk);
}

function onBodyEnd(this: BodyReadTarget): void {
  const r = this[kBodyRead];
  if (r === undefined || r.failed) return;
  this.off('data', onBodyData);
  this.off('end', onBodyEnd);
  this.off('close', onBodyClose);
  this.off('error', onBodyError);
  // As before, a late 'error' on the request must not become an uncaught exception.
  this.on('error', ignore);
  this[kBodyRead] = undefined;
  r.resolve(r.chunks.length === 1 ? r.chunks[0]! : Buffer.concat(r.chunks, r.size));
}

function onBodyError(this: BodyReadTarget, e?: unknown): void {
  const r = this[kBodyRead];
  if (r === undefined || r.failed) return;
  r.failed = true;
  r.reject(new SwitchyardError('invalid_request', 'The request body could not be read (the client went away).', { cause: e }));
}

function onBodyClose(this: BodyReadTarget): void {
  if (!this.complete) onBodyError.call(this);
}


function ignore(): void {
  // a request that was read completely: nothing to do
}

/**
 * Read and JSON-parse a request body: `readBody`, then `invalid_request` (code `invalid_json`)
 * when it is not JSON. The result is not validated: pass it to `parseRequest`.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number = DEFAULT_MAX_BODY_BYTES): Promise<unknown> {
  return parseJsonBody(await readBody(req, maxBytes));
}

/** Send `body` as a JSON response. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Start an SSE response: 200 with `SSE_HEADERS` (plus `extra`), flushed at once so the client
 * sees the stream open before the first token. Headers are set with setHeader, so
 * `sendError` can recognise the stream later.
 */
export function startSse(res: ServerResponse, extra: Readonly<Record<string, string>> = {}): void {
  for (const [k, v] of Object.entries(SSE_HEADERS)) res.setHeader(k, v);
  for (const [k, v] of Object.entries(extra)) res.setHeader(k, v);
  res.writeHead(200);
  res.flushHeaders();
}

/** Is the (already started) response an SSE stream? */
function isEventStream(res: ServerResponse): boolean {
  const type = res.getHeader('content-type');
  if (typeof type === 'string') return type.toLowerCase().startsWith('text/event-stream');
  // Headers passed straight to writeHead() are invisible to getHeader(); Node keeps the raw
  // header block in `_header` (internal, but stable since Node 0.x).
  const raw = (res as unknown as { _header?: unknown })._header;
  return typeof raw === 'string' && /\r\ncontent-type:\s*text\/event-stream/i.test(raw);
}

/**
 * Send an error the OpenAI way. Before the headers went out: a JSON error with its status.
 * After, in an SSE stream: a final `data: {"error":…}` event, then end the response.
 * After, in any other response: destroy the socket (a truncated body is the honest signal).
 */
export function sendError(res: ServerResponse, e: unknown): void {
  if (!res.headersSent) {
    const { status, body } = toOpenAIError(e);
    sendJson(res, status, body);
    return;
  }
  if (res.writableEnded || res.destroyed) return;
  if (isEventStream(res)) res.end(sseErrorEvent(e));
  else res.destroy();
}
