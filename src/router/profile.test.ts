import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { isSwitchyardError } from '../core/index.js';
import { createRegistry, defaultRegistry } from './builtins.js';
import { definePlugin } from './plugin.js';
import { BUILTIN_PROFILES, RoutingProfilesSchema, compileProfiles } from './profile.js';
import { makeContext, makeEndpoints } from './testing.js';

function compileError(raw: unknown): { message: string; param: string | null } {
  try {
    compileProfiles(raw);
  } catch (e) {
    if (isSwitchyardError(e) && e.code === 'invalid_config') return { message: e.message, param: e.param };
    throw e;
  }
  throw new Error('expected an invalid_config error');
}

const yaml = `
default:
  scorers:
    - { type: session_affinity, weight: 10, params: { ttl: 10m } }
    - { name: lr, type: least_request, weight: 2 }
    - { type: kv_usage, weight: 1 }
  picker: { type: max_score }
eu:
  description: EU only, by queue
  filters: [ { type: label_match, params: { match: { region: eu } } } ]
  scorers:
    - { name: q_short, type: queue_depth, params: { k: 2 } }
    - { name: q_long, type: queue_depth, params: { k: 32 }, weight: 3 }
`;

describe('compileProfiles', () => {
  it('compiles YAML profiles, filling names, weights and params defaults', () => {
    const profiles = compileProfiles(parseYaml(yaml));
    const d = profiles.get('default')!;
    expect(d.spec).toEqual({
      filters: [],
      scorers: [
        { name: 'session_affinity', type: 'session_affinity', weight: 10, params: { ttl: 600_000, maxKeys: 100_000 } },
        { name: 'lr', type: 'least_request', weight: 2, params: {} },
        { name: 'kv_usage', type: 'kv_usage', weight: 1, params: {} },
      ],
      picker: { name: 'max_score', type: 'max_score', params: {} },
    });
    expect(d.totalWeight).toBe(13);
    const eu = profiles.get('eu')!;
    expect(eu.description).toBe('EU only, by queue');
    expect(eu.picker.type).toBe('max_score'); // default picker
    expect(eu.scorers.map((s) => [s.plugin.name, s.plugin.type, s.weight])).toEqual([['q_short', 'queue_depth', 1], ['q_long', 'queue_depth', 3]]);
  });

  it('runs two instances of one type with their own params', () => {
    const eu = compileProfiles(parseYaml(yaml)).get('eu')!;
    const eps = makeEndpoints(1, [4]).map((e) => ({ ...e, labels: { region: 'eu' } }));
    const d = eu.route(makeContext(), eps, { debug: true });
    expect(d.scores[0]!.parts).toEqual({ q_short: 1 / 3, q_long: 1 / (1 + 4 / 32) });
  });

  it('includes the built-in profiles; config profiles replace them by name', () => {
    const profiles = compileProfiles(parseYaml(yaml));
    expect([...profiles.keys()].sort()).toEqual(['cluster_score', 'consistent_hash', 'default', 'default_v1', 'dynamo_kv', 'eu', 'kv_default', 'least_request', 'llmd_default', 'power_of_two', 'random', 'round_robin', 'sglang_cache_aware']);
    expect(profiles.get('default')!.scorers.map((s) => s.plugin.name)).toEqual(['session_affinity', 'lr', 'kv_usage']);
    expect([...compileProfiles(undefined).keys()]).toEqual(Object.keys(BUILTIN_PROFILES));
    expect([...compileProfiles(parseYaml(yaml), { builtins: false }).keys()]).toEqual(['default', 'eu']);
  });

  it('builds the documented default profile', () => {
    const d = compileProfiles(undefined).get('default')!;
    expect(d.scorers.map((s) => `${s.plugin.type}×${s.weight}`)).toEqual(['session_affinity×1', 'approx_prefix×1']);
    expect(d.picker.type).toBe('prefill_cost');
    expect(d.spec.picker.params).toMatchObject({ overlapWeight: 16, scoreBonus: 0.3 });
    const v1 = compileProfiles(undefined).get('default_v1')!;
    expect(v1.scorers.map((s) => `${s.plugin.type}×${s.weight}`)).toEqual(['session_affinity×10', 'queue_depth×2', 'kv_usage×1', 'least_request×1']);
    expect(v1.picker.type).toBe('max_score');
  });

  it.each<[string, string[], string]>([
    ['kv_default', ['kv_overlap×3', 'queue_depth×2', 'kv_usage×2', 'session_affinity×1'], 'max_score'],
    ['sglang_cache_aware', ['approx_prefix×1'], 'cache_aware'],
    ['llmd_default', ['queue-scorer:queue_depth×2', 'kv-cache-utilization-scorer:kv_usage×2', 'prefix-cache-scorer:approx_prefix×3'], 'max-score-picker:max_score'],
    ['dynamo_kv', [], 'prefill_cost'],
    ['cluster_score', ['cluster_score×1'], 'max_score'],
  ])('builds the %s profile as documented', (name, scorers, picker) => {
    const p = compileProfiles(undefined).get(name)!;
    const label = (x: { name: string; type: string }) => (x.name === x.type ? x.type : `${x.name}:${x.type}`);
    expect(p.scorers.map((s) => `${label(s.plugin)}×${s.weight}`)).toEqual(scorers);
    expect(label(p.picker)).toBe(picker);
    if (name !== 'kv_default' && name !== 'cluster_score') expect(p.description).toMatch(/^reimplementation of .* from its public docs/);
  });

  it('peer profiles carry the peers\' documented defaults', () => {
    const spec = (name: string) => compileProfiles(undefined).get(name)!.spec;
    expect(spec('sglang_cache_aware').picker.params).toEqual({ cacheThreshold: 0.3, balanceAbsThreshold: 64, balanceRelThreshold: 1.5 });
    expect(spec('llmd_default').scorers[0]!.params).toEqual({ k: 8, mode: 'minmax' });
    expect(spec('llmd_default').scorers[2]!.params).toMatchObject({ chunkChars: 64, maxBlocks: 256, maxBlocksPerEndpoint: 31_250 });
    expect(spec('dynamo_kv').picker.params).toMatchObject({ overlapWeight: 1, temperature: 0 });
  });

  it('gives every compiled profile its own plugin state', () => {
    const a = compileProfiles(undefined).get('round_robin')!;
    const b = compileProfiles(undefined).get('round_robin')!;
    const eps = makeEndpoints(3);
    expect([a, a, b].map((p) => p.route(makeContext(), eps).endpoint?.id)).toEqual(['w0', 'w1', 'w0']);
  });

  it('parsing is idempotent, so the gateway can pass its parsed config', () => {
    const once = RoutingProfilesSchema.parse(parseYaml(yaml));
    expect(RoutingProfilesSchema.parse(once)).toEqual(once);
    expect(compileProfiles(once).get('default')!.spec).toEqual(once.default);
  });

  it.each<[string, unknown, string]>([
    ['bad duration', { default: { scorers: [{ type: 'least_request' }, { type: 'session_affinity', params: { ttl: '10 min' } }] } }, "profiles.default.scorers[1].params.ttl: '10 min' is not a duration"],
    ['unknown param', { default: { scorers: [{ type: 'queue_depth', params: { kk: 1 } }] } }, "profiles.default.scorers[0].params.kk: unknown field 'kk'"],
    ['bad param value', { default: { scorers: [{ type: 'queue_depth', params: { k: 0 } }] } }, 'profiles.default.scorers[0].params.k: '],
    ['unknown type', { p: { scorers: [{ type: 'least_requests' }] } }, "profiles.p.scorers[0].type: unknown scorer type 'least_requests'; scorers: approx_prefix, cluster_score, kv_overlap, kv_usage, least_request, queue_depth, session_affinity"],
    ['scorer as picker', { p: { picker: { type: 'least_request' } } }, "profiles.p.picker.type: 'least_request' is a scorer, not a picker"],
    ['picker as filter', { p: { filters: [{ type: 'round_robin' }] } }, "profiles.p.filters[0].type: 'round_robin' is a picker, not a filter"],
    ['negative weight', { p: { scorers: [{ type: 'kv_usage', weight: -1 }] } }, 'profiles.p.scorers[0].weight: weight must be >= 0'],
    ['weight on a picker', { p: { picker: { type: 'random', weight: 2 } } }, "profiles.p.picker.weight: unknown field 'weight'"],
    ['unknown profile key', { p: { scorer: [] } }, "profiles.p.scorer: unknown field 'scorer'"],
    ['scorers not a list', { p: { scorers: { type: 'kv_usage' } } }, 'profiles.p.scorers: expected a list, got a mapping'],
    ['missing type', { p: { scorers: [{ weight: 1 }] } }, 'profiles.p.scorers[0].type: missing required field; expected a string'],
    ['bad instance name', { p: { scorers: [{ name: 'has space', type: 'kv_usage' }] } }, 'profiles.p.scorers[0].name: plugin names use letters'],
    ['bad profile name', { 'my profile': {} }, 'profiles["my profile"]: profile names use letters'],
    ['not a mapping', ['default'], 'profiles: expected a mapping, got a list'],
    ['duplicate default names', { p: { scorers: [{ type: 'kv_usage' }, { type: 'kv_usage', weight: 2 }] } }, "profiles.p.scorers[1]: duplicate plugin name 'kv_usage' (also scorers[0])"],
    ['duplicate explicit names across slots', { p: { filters: [{ name: 'x', type: 'label_match' }], scorers: [{ name: 'x', type: 'kv_usage' }] } }, "profiles.p.scorers[0].name: duplicate plugin name 'x' (also filters[0])"],
    ['duplicate with the default picker', { p: { scorers: [{ name: 'max_score', type: 'kv_usage' }] } }, "profiles.p.picker: duplicate plugin name 'max_score' (also scorers[0])"],
  ])('rejects %s with the path', (_name, raw, expected) => {
    const { message, param } = compileError(raw);
    expect(message).toContain(expected);
    expect(param).toBe(expected.slice(0, expected.indexOf(':')));
  });

  it('lists every issue in one error', () => {
    const { message, param } = compileError({
      a: { scorers: [{ type: 'session_affinity', params: { ttl: 'soon' } }], picker: { type: 'kv_usage' } },
      b: { filters: [{ type: 'label_match', params: { match: { region: 1 } } }], extra: true },
    });
    expect(message.split('\n')).toEqual([
      'invalid routing profiles (4 issues):',
      "  profiles.a.scorers[0].params.ttl: 'soon' is not a duration; use a number with a unit, e.g. '250ms', '30s', '5m', '1h30m'",
      "  profiles.a.picker.type: 'kv_usage' is a scorer, not a picker; pickers: cache_aware, consistent_hash, max_score, power_of_two, prefill_cost, random, round_robin",
      '  profiles.b.filters[0].params.match.region: expected a string, got 1',
      "  profiles.b.extra: unknown field 'extra'",
    ]);
    expect(param).toBe('profiles.a.scorers[0].params.ttl');
  });

  it('embeds in a parent config schema with paths rooted there', () => {
    const Gateway = z.strictObject({ port: z.number().default(8080), profiles: RoutingProfilesSchema.optional() });
    const r = Gateway.safeParse({ profiles: { p: { scorers: [{ type: 'queue_depth', params: { k: -1 } }] } } });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(['profiles', 'p', 'scorers', 0, 'params', 'k']);
    expect(Gateway.parse({}).profiles).toBeUndefined();
  });

  it('compiles against a custom registry with extra plugin types', () => {
    const registry = createRegistry().register(
      definePlugin({
        type: 'constant',
        kind: 'scorer',
        description: 'score = value',
        params: z.strictObject({ value: z.number().min(0).max(1).default(0.5) }),
        create: (params, name) => ({ name, type: 'constant', kind: 'scorer', score: (_ctx, eps) => eps.map(() => params.value) }),
      }),
    );
    const profiles = compileProfiles({ c: { scorers: [{ type: 'constant', params: { value: 0.25 } }] } }, { registry });
    expect(profiles.get('c')!.route(makeContext(), makeEndpoints(2)).scores.map((s) => s.total)).toEqual([0.25, 0.25]);
    expect(profiles.has('default')).toBe(true);
    expect(() => compileProfiles({ c: { scorers: [{ type: 'constant' }] } })).toThrow(/unknown scorer type 'constant'/);
  });

  it('keeps the default registry frozen and type names unique', () => {
    expect(defaultRegistry.frozen).toBe(true);
    expect(() => defaultRegistry.register(defaultRegistry.get('kv_usage')!)).toThrow(/frozen/);
    expect(() => createRegistry().register(defaultRegistry.get('kv_usage')!)).toThrow(/already registered/);
  });
});
