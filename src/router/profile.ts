/**
 * Routing profiles: config schema, compilation into live plugin instances, built-in profiles.
 * RoutingProfilesSchema validates the mapping under `profiles:` (profile name → profile):
 *
 *   profiles:
 *     default:
 *       description: sticky sessions, then short queues   # optional
 *       filters: [ { type: label_match, params: { match: { region: eu } } } ]   # optional
 *       scorers:                                           # optional; none → every score is 1
 *         - { type: session_affinity, weight: 10, params: { ttl: 10m } }
 *         - { name: lr, type: least_request, weight: 2 }  # name defaults to type
 *         - { type: kv_usage }                            # weight defaults to 1
 *       picker: { type: max_score }                       # optional; default max_score
 *
 * Everything is strict: unknown keys, unknown types, a plugin of the wrong kind in a slot, params
 * the type's schema rejects, negative weights and duplicate instance names are errors whose
 * message names the path, e.g. `profiles.default.scorers[1].params.ttl: ...`.
 */
import { z } from 'zod';
import { SwitchyardError } from '../core/index.js';
import { defaultRegistry } from './builtins.js';
import { CompiledProfile } from './framework.js';
import type { PluginKind, PluginSpec, PluginType, ProfileSpec, ScorerSpec } from './plugin.js';
import type { PluginRegistry } from './registry.js';
import type { Filter, PluginHooks } from './types.js';

/** Input shape of one plugin slot (what YAML/JSON holds). */
export interface PluginEntryInput {
  name?: string;
  type: string;
  params?: Record<string, unknown>;
}

/** Input shape of one profile. */
export interface ProfileInput {
  description?: string;
  filters?: PluginEntryInput[];
  scorers?: (PluginEntryInput & { weight?: number })[];
  picker?: PluginEntryInput;
}

/** Output of RoutingProfilesSchema: profile name → validated profile. */
export type RoutingProfilesSpec = Readonly<Record<string, ProfileSpec>>;

/**
 * Profiles available by name without any config. Config profiles with the same name replace them.
 *
 * `default` = prefill_cost (overlapWeight 16, scoreBonus 0.3) with session_affinity ×1 and
 * approx_prefix ×1 as a discount: the endpoint with the shortest expected time to first token.
 * - prefill_cost: argmin of (prefill queued there + this prompt's uncached tokens) / block, plus
 *   decode blocks at 1/16 of that weight (Dynamo's cost with prefill dominating). The uncached part
 *   comes from the exact KV index (ctx.kvIndex + request.tokenIds: the gateway subscribes to the
 *   engines' KV events and tokenizes prompts for models with a tokenizer).
 * - session_affinity and approx_prefix take up to 30% off an endpoint's cost: the session's pin
 *   (KV events lag the engine, so the turn just sent may not be indexed yet when the next arrives)
 *   and, without token ids or events, the prefix tree learned from past decisions. With neither a
 *   key nor a learned prefix they are neutral, and the load terms decide (fewest queued tokens).
 * - Chosen by `npm run bench:routing` (docs/benchmarks.md): on the Mooncake, Dynamo and multi-turn
 *   chat traces it had the lowest TTFT p90 of the built-ins and the peer profiles.
 *
 * `default_v1` is the previous default, kept for comparison and for fleets without KV events:
 * session_affinity ×10 + queue_depth ×2 + kv_usage ×1 + least_request ×1, max_score.
 *
 * `kv_default` is the KV-aware candidate: kv_overlap ×3 + queue_depth ×2 + kv_usage ×2 +
 * session_affinity ×1, max_score:
 * - kv_overlap ×3 is the exact cached fraction of the prompt; the load scorers together (×4)
 *   outweigh it (as in llm-d's default: prefix 3 < queue 2 + KV 2), so a full hit wins against a
 *   moderately busier endpoint but not against a saturated one (no hot-spotting on a shared prefix).
 * - session_affinity ×1 only breaks near-ties: KV events lag the engine, so the turn just sent
 *   may not be indexed yet when the next turn arrives; the pin covers that gap.
 * - Without ctx.kvIndex / request.tokenIds, kv_overlap scores 0 everywhere and the rest decides.
 *
 * Peer profiles are reimplementations from the peers' public documentation (not their code), with
 * their documented defaults: `sglang_cache_aware`, `llmd_default`, `dynamo_kv`. `cluster_score` is
 * the global layer's seed formula (pick a cluster from aggregate views).
 */
export const BUILTIN_PROFILES: Readonly<Record<string, Readonly<ProfileInput>>> = deepFreeze({
  round_robin: { description: 'rotate over endpoints in id order', picker: { type: 'round_robin' } },
  random: { description: 'uniform random', picker: { type: 'random' } },
  least_request: { description: 'fewest requests in flight', scorers: [{ type: 'least_request' }], picker: { type: 'max_score' } },
  power_of_two: { description: 'two random choices, lower load wins', picker: { type: 'power_of_two' } },
  consistent_hash: { description: 'session/prompt-prefix hashing with bounded loads', picker: { type: 'consistent_hash' } },
  kv_default: {
    description: 'exact KV-cache overlap, short queues, free KV cache, then sticky sessions (needs ctx.kvIndex and request.tokenIds for the overlap)',
    scorers: [
      { type: 'kv_overlap', weight: 3 },
      { type: 'queue_depth', weight: 2 },
      { type: 'kv_usage', weight: 2 },
      { type: 'session_affinity', weight: 1 },
    ],
    picker: { type: 'max_score' },
  },
  sglang_cache_aware: {
    description:
      "reimplementation of the SGLang router's cache_aware policy from its public docs: approximate prefix tree per endpoint learned from routing decisions; best match if > cache_threshold 0.3 while load is balanced (abs 64, rel 1.5), else least loaded / most free KV",
    scorers: [{ type: 'approx_prefix' }],
    picker: { type: 'cache_aware' },
  },
  llmd_default: {
    description:
      "reimplementation of llm-d's default scheduling profile from its public docs: queue-scorer ×2 (min-max), kv-cache-utilization-scorer ×2, prefix-cache-scorer ×3 (approximate), max-score-picker",
    scorers: [
      { name: 'queue-scorer', type: 'queue_depth', weight: 2, params: { mode: 'minmax' } },
      { name: 'kv-cache-utilization-scorer', type: 'kv_usage', weight: 2 },
      { name: 'prefix-cache-scorer', type: 'approx_prefix', weight: 3 },
    ],
    picker: { name: 'max-score-picker', type: 'max_score' },
  },
  dynamo_kv: {
    description:
      "reimplementation of NVIDIA Dynamo's KV router cost from its public docs: argmin overlap_score_weight·prefill blocks + decode blocks (weight 1, temperature 0) over the exact KV index",
    picker: { type: 'prefill_cost' },
  },
  cluster_score: {
    description: 'global layer (seed formula): 0.35·cache + 0.25·session + 0.25·load headroom + 0.15·latency',
    scorers: [{ type: 'cluster_score' }],
    picker: { type: 'max_score' },
  },
  default: {
    description: 'least expected time to first token: queued + uncached prefill from the exact KV index (prefill_cost), with session pins and learned prefixes as a discount',
    scorers: [{ type: 'session_affinity' }, { type: 'approx_prefix' }],
    picker: { type: 'prefill_cost', params: { overlapWeight: 16, scoreBonus: 0.3 } },
  },
  default_v1: {
    description: 'sticky sessions, then short queues, free KV cache and few in flight (the default before KV-aware routing)',
    scorers: [
      { type: 'session_affinity', weight: 10 },
      { type: 'queue_depth', weight: 2 },
      { type: 'kv_usage', weight: 1 },
      { type: 'least_request', weight: 1 },
    ],
    picker: { type: 'max_score' },
  },
});

const NAME_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;
const nameSchema = (what: string) => z.string().regex(NAME_RE, { error: `${what} names use letters, digits, '_' and '-', starting with a letter` });
const weightSchema = z.number().min(0, { error: 'weight must be >= 0' }).default(1);

function slotSchema(registry: PluginRegistry, kind: PluginKind) {
  const defs = registry.list(kind);
  const known = defs.map((d) => d.type).join(', ') || '(none registered)';
  const type = z.string().superRefine((t, ctx) => {
    const def = registry.get(t);
    if (def === undefined) ctx.addIssue({ code: 'custom', message: `unknown ${kind} type '${t}'; ${kind}s: ${known}`, input: t });
    else if (def.kind !== kind) ctx.addIssue({ code: 'custom', message: `'${t}' is a ${def.kind}, not a ${kind}; ${kind}s: ${known}`, input: t });
  });
  const withWeight = kind === 'scorer' ? { weight: weightSchema } : {};
  const first = z.strictObject({ name: nameSchema('plugin').optional(), type, params: z.unknown().optional(), ...withWeight });
  const variants = defs.map((d) =>
    z.object({ name: z.string().optional(), type: z.literal(d.type), params: d.params.prefault({}), ...withWeight }),
  );
  const [v0, ...rest] = variants;
  const second = v0 === undefined ? z.never() : z.discriminatedUnion('type', [v0, ...rest]);
  return first.pipe(second) as unknown as z.ZodType<{ name?: string | undefined; type: string; params: unknown; weight?: number }>;
}

type Slot = 'filters' | 'scorers' | 'picker';

/** The schema for the `profiles:` mapping (name → profile), validating plugin params against `registry`. */
export function routingProfilesSchema(registry: PluginRegistry = defaultRegistry): z.ZodType<RoutingProfilesSpec> {
  const filter = slotSchema(registry, 'filter');
  const scorer = slotSchema(registry, 'scorer');
  const picker = slotSchema(registry, 'picker');
  const profile = z
    .strictObject({
      description: z.string().optional(),
      filters: z.array(filter).default([]),
      scorers: z.array(scorer).default([]),
      picker: picker.prefault({ type: 'max_score' }),
    })
    .superRefine((p, ctx) => {
      const seen = new Map<string, string>();
      const check = (slot: Slot, e: { name?: string | undefined; type: string }, i?: number): void => {
        const name = e.name ?? e.type;
        const here = i === undefined ? slot : `${slot}[${i}]`;
        const before = seen.get(name);
        if (before !== undefined) {
          const path = i === undefined ? [slot] : [slot, i];
          ctx.addIssue({ code: 'custom', path: e.name === undefined ? path : [...path, 'name'], message: `duplicate plugin name '${name}' (also ${before}); give one of them a distinct name`, input: e });
        } else seen.set(name, here);
      };
      p.filters.forEach((e, i) => check('filters', e, i));
      p.scorers.forEach((e, i) => check('scorers', e, i));
      check('picker', p.picker);
    })
    .transform((p): ProfileSpec => {
      const spec = (e: { name?: string | undefined; type: string; params: unknown }): PluginSpec => ({ name: e.name ?? e.type, type: e.type, params: e.params });
      return {
        ...(p.description === undefined ? {} : { description: p.description }),
        filters: p.filters.map(spec),
        scorers: p.scorers.map((e): ScorerSpec => ({ ...spec(e), weight: e.weight ?? 1 })),
        picker: spec(p.picker),
      };
    });
  return z.record(nameSchema('profile'), profile);
}

/**
 * The `profiles:` mapping validated against the built-in plugin types. Embed it in a config
 * schema (`profiles: RoutingProfilesSchema.optional()`) and pass the parsed value to compileProfiles.
 */
export const RoutingProfilesSchema: z.ZodType<RoutingProfilesSpec> = routingProfilesSchema(defaultRegistry);

export interface CompileOptions {
  /** Plugin types to compile against (default: the built-in types). */
  readonly registry?: PluginRegistry;
  /** Include BUILTIN_PROFILES (config profiles of the same name replace them). Default true. */
  readonly builtins?: boolean;
}

/**
 * Validate and instantiate routing profiles. `raw` is the `profiles:` mapping (name → profile) as
 * read from YAML, or as already parsed by RoutingProfilesSchema (parsing is idempotent), or
 * undefined/null for the built-ins only. Every profile gets fresh plugin instances (own session
 * pins, cursors, rings). Throws SwitchyardError('invalid_config') listing every issue with its
 * path, rooted at `profiles`, e.g. `profiles.default.scorers[1].params.ttl: ...`.
 */
export function compileProfiles(raw: unknown, options: CompileOptions = {}): Map<string, CompiledProfile> {
  const registry = options.registry ?? defaultRegistry;
  const schema = registry === defaultRegistry ? RoutingProfilesSchema : routingProfilesSchema(registry);
  const parsed = schema.safeParse(raw ?? {}, { error: errorMap });
  if (!parsed.success) throw configError(parsed.error.issues);
  const out = new Map<string, CompiledProfile>();
  if (options.builtins !== false) {
    for (const [name, input] of Object.entries(BUILTIN_PROFILES)) {
      const spec = schema.safeParse({ [name]: input }).data?.[name];
      if (spec !== undefined) out.set(name, instantiate(name, spec, registry)); // skipped if the registry lacks its types
    }
  }
  for (const [name, spec] of Object.entries(parsed.data)) out.set(name, instantiate(name, spec, registry));
  return out;
}

function instantiate(name: string, spec: ProfileSpec, registry: PluginRegistry): CompiledProfile {
  const make = <K extends PluginKind>(s: PluginSpec, kind: K) => {
    const def = registry.get(s.type) as PluginType<K> | undefined;
    if (def?.kind !== kind) throw new SwitchyardError('internal_error', `plugin type '${s.type}' is not a registered ${kind}`);
    const p = def.create(s.params, s.name);
    if (p.kind !== kind || p.name !== s.name) throw new SwitchyardError('internal_error', `plugin type '${s.type}' built a ${p.kind} named '${p.name}', expected a ${kind} named '${s.name}'`);
    return p;
  };
  return new CompiledProfile({
    name,
    ...(spec.description === undefined ? {} : { description: spec.description }),
    filters: spec.filters.map((s) => make(s, 'filter') as Filter & PluginHooks),
    scorers: spec.scorers.map((s) => ({ plugin: make(s, 'scorer'), weight: s.weight })),
    picker: make(spec.picker, 'picker'),
    spec,
  });
}

// ---------------------------------------------------------------------------------------------
// Error messages (router may not import config; this is a small subset of its house style).

const IDENT = /^[A-Za-z_$][\w$-]*$/;

export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'symbol') out += `[${String(key)}]`;
    else if (IDENT.test(key)) out += out.length === 0 ? key : `.${key}`;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return `'${v.length > 60 ? `${v.slice(0, 57)}...` : v}'`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'a mapping' : typeof v;
}

const TYPE_NAMES: Readonly<Record<string, string>> = { object: 'a mapping', record: 'a mapping', array: 'a list', int: 'an integer', boolean: 'true or false' };

const errorMap: z.core.$ZodErrorMap = (iss) => {
  if (iss.code === 'invalid_type') {
    const expected = TYPE_NAMES[iss.expected] ?? `a ${iss.expected}`;
    return iss.input === undefined ? `missing required field; expected ${expected}` : `expected ${expected}, got ${describe(iss.input)}`;
  }
  if (iss.code === 'invalid_key') return iss.issues[0]?.message ?? undefined;
  if (iss.code === 'invalid_value') return `expected one of ${iss.values.map((v) => describe(v)).join(', ')}, got ${describe(iss.input)}`;
  return undefined;
};

function configError(issues: readonly z.core.$ZodIssue[]): SwitchyardError {
  const lines: { path: string; message: string }[] = [];
  for (const issue of issues) {
    const at = ['profiles', ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) lines.push({ path: formatIssuePath([...at, k]), message: `unknown field '${k}'` });
    } else lines.push({ path: formatIssuePath(at), message: issue.message });
  }
  const text = lines.map((l) => `${l.path}: ${l.message}`);
  const message = text.length === 1 ? `invalid routing profiles: ${text[0]}` : `invalid routing profiles (${text.length} issues):\n  ${text.join('\n  ')}`;
  return new SwitchyardError('invalid_config', message, { param: lines[0]?.path ?? null, detail: { issues: lines } });
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}
