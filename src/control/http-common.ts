/**
 * Shared pieces of the admin API handlers: the route shape, request context, body parsing and
 * the path segments. Routes live in http-api.ts (resources) and http-tenancy.ts (keys, tokens).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { KIND_NAMES, KINDS, kindOfPlural, type Kind } from '../api/index.js';
import { clip, ConfigError, formatZodIssues, MAX_CONFIG_NESTING, nestsDeeperThan, zodParseOptions } from '../config/index.js';
import { SwitchyardError } from '../core/index.js';
import { readBody } from '../openai/index.js';
import type { ControlPlane } from './control-plane.js';
import type { Need } from './permissions.js';
import type { Actor } from './resources.js';
import type { Principal } from './tokens.js';

const MAX_BODY_BYTES = 8 << 20;

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  principal: Principal;
  actor: Actor;
  params: string[];
}
export type Handler = (cp: ControlPlane, ctx: Ctx) => Promise<void>;

export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: RegExp;
  /** What the caller must be allowed (checked before the handler runs). */
  readonly need: (cp: ControlPlane, params: string[]) => Need | Promise<Need>;
  readonly handler: Handler;
}

/** `(functions|deployments|...)`: every kind's plural. */
export const KIND_SEG = `(${KIND_NAMES.map((k) => KINDS[k].plural).join('|')})`;
export const NAME_SEG = '([a-z0-9][-a-z0-9]{0,62})';

export function kindOf(plural: string | undefined): Kind {
  const k = kindOfPlural(plural ?? '');
  if (!k) throw new SwitchyardError('not_found', `unknown resource type '${plural}'`);
  return k;
}

/** The tenant an object belongs to, for permission checks: a Tenant itself, an ApiKey's owner. */
export async function tenantOf(cp: ControlPlane, kind: Kind, name: string): Promise<string | undefined> {
  if (kind === 'Tenant') return name;
  if (kind === 'ApiKey') return (await cp.service.find('ApiKey', name))?.spec.tenant;
  return undefined;
}

export async function readText(req: IncomingMessage): Promise<string> {
  return (await readBody(req, MAX_BODY_BYTES)).toString('utf8');
}

export function parseJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new SwitchyardError('invalid_request', `request body is not valid JSON: ${e instanceof Error ? clip(e.message, 200) : String(e)}`);
  }
  // Deep values would overflow the stack later (serializing, diffing, storing).
  if (nestsDeeperThan(value, MAX_CONFIG_NESTING)) throw new SwitchyardError('invalid_request', `request body is nested too deeply (more than ${MAX_CONFIG_NESTING} levels)`);
  return value;
}

/** The JSON body validated by `schema` (an empty body counts as `{}`). @throws ConfigError naming the paths. */
export async function parseBody<S extends z.ZodType>(req: IncomingMessage, schema: S, label: string): Promise<z.output<S>> {
  const text = await readText(req);
  const r = schema.safeParse(text.trim() === '' ? {} : parseJson(text), zodParseOptions);
  if (!r.success) throw new ConfigError(label, formatZodIssues(r.error));
  return r.data;
}
