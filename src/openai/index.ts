/**
 * The OpenAI HTTP protocol: request schemas and validation, response types and builders,
 * the error shape, Server-Sent Events, and node:http helpers. Used by the engine servers and
 * the gateway.
 */
export * from './errors.js';
export * from './schemas.js';
export { parseRequest, parseJsonBody, formatPath, describeValue } from './validate.js';
export { MAX_STOP_SEQUENCES } from './fields.js';
export * from './types.js';
export * from './types-other.js';
export * from './sse.js';
export { readBody, readJsonBody, sendJson, sendError, startSse, DEFAULT_MAX_BODY_BYTES } from './http.js';
