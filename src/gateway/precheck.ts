/**
 * A cheap pre-check for the common shape of a chat completion request, so the gateway can skip
 * the zod validation (~15 µs for a small request) on its hot path.
 *
 * It answers only "certainly valid": true means `parseRequest(ChatCompletionRequest, body)` would
 * succeed and return the same values for every field the gateway reads (model, stream,
 * stream_options, user, messages[].content) — the schemas are loose objects, so zod's output
 * holds the input's values unchanged. Anything it does not recognise (a field the schema checks
 * but this code does not, a message with tool calls, a value out of range, …) answers false, and
 * the caller validates with zod as before, which words any error exactly as it always did.
 *
 * Kept in step with src/openai/schemas.ts and fields.ts by precheck.test.ts, which runs both on
 * many generated bodies and fails if this ever accepts what zod rejects.
 */

import { ChatCompletionRequest, ChatMessage, MESSAGE_ROLES } from '../openai/index.js';

/** role 'tool' needs tool_call_id, which defers to zod (see MESSAGE_DEFER). */
const ROLES = new Set<string>(MESSAGE_ROLES.filter((r) => r !== 'tool'));

/** Fields of ChatCompletionRequest this pre-check validates, with their rule (as in fields.ts). */
const CHECKS = new Map<string, (v: unknown) => boolean>([
  ['model', (v) => typeof v === 'string' && v.length >= 1],
  ['messages', (v) => Array.isArray(v) && v.length >= 1 && v.every(simpleMessage)],
  ['max_tokens', (v) => v === null || (isInt(v) && v >= 1)],
  ['max_completion_tokens', (v) => v === null || (isInt(v) && v >= 1)],
  ['temperature', (v) => v === null || (isNum(v) && v >= 0 && v <= 2)],
  ['top_p', (v) => v === null || (isNum(v) && v > 0 && v <= 1)],
  ['n', (v) => v === null || (isInt(v) && v >= 1)],
  ['stream', (v) => v === null || typeof v === 'boolean'],
  ['stream_options', (v) => v === null || streamOptions(v)],
  ['stop', (v) => v === null || typeof v === 'string' || (Array.isArray(v) && v.length <= 16 && v.every((s) => typeof s === 'string'))],
  ['seed', (v) => v === null || isInt(v)],
  ['user', (v) => v === null || typeof v === 'string'],
  ['presence_penalty', (v) => v === null || (isNum(v) && v >= -2 && v <= 2)],
  ['frequency_penalty', (v) => v === null || (isNum(v) && v >= -2 && v <= 2)],
]);

/**
 * Every other field the schema knows (logit_bias, tools, tool_choice, …, and any added to the
 * schema later): its presence sends the request to zod. Fields unknown to the schema pass
 * through unchecked, as they do in zod.
 */
export const DEFERRED_FIELDS: ReadonlySet<string> = new Set(Object.keys(ChatCompletionRequest.shape).filter((k) => !CHECKS.has(k)));

/** Message fields of the schema other than role, content and name: their presence defers to zod. */
export const DEFERRED_MESSAGE_FIELDS: ReadonlySet<string> = new Set(Object.keys(ChatMessage.shape).filter((k) => k !== 'role' && k !== 'content' && k !== 'name'));

/** True only if zod's ChatCompletionRequest would accept `body` (see the module comment). */
export function chatRequestCertainlyValid(body: unknown): boolean {
  if (!isObject(body)) return false;
  const b = body as Record<string, unknown>;
  if (typeof b.model !== 'string' || !Array.isArray(b.messages)) return false;
  for (const key in b) {
    if (!Object.hasOwn(b, key)) continue;
    const check = CHECKS.get(key);
    if (check !== undefined) {
      if (!check(b[key])) return false;
    } else if (DEFERRED_FIELDS.has(key)) return false;
  }
  // Cross-field rule (checkStreamOptions): stream_options requires stream: true.
  if (b.stream_options != null && b.stream !== true) return false;
  return true;
}

function simpleMessage(m: unknown): boolean {
  if (!isObject(m)) return false;
  const o = m as Record<string, unknown>;
  if (typeof o.role !== 'string' || !ROLES.has(o.role) || typeof o.content !== 'string') return false;
  for (const key in o) {
    if (!Object.hasOwn(o, key)) continue;
    if (key === 'name') {
      if (o.name !== null && typeof o.name !== 'string') return false;
    } else if (DEFERRED_MESSAGE_FIELDS.has(key)) return false;
  }
  return true;
}

function isObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isInt(v: unknown): v is number {
  return Number.isSafeInteger(v);
}

function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function streamOptions(v: unknown): boolean {
  if (!isObject(v)) return false;
  const o = v as Record<string, unknown>;
  for (const key of ['include_usage', 'continuous_usage_stats', 'include_obfuscation']) {
    if (Object.hasOwn(o, key) && o[key] !== null && typeof o[key] !== 'boolean') return false;
  }
  return true;
}
