/**
 * The routing pipeline. Pure: no I/O, no timers; time comes from ctx.now and randomness from
 * ctx.random. performance.now() is read only to time plugin calls for Decision.timings.
 *
 *   1. built-in pre-filter: drop `healthy === false` and ids in request.excluded
 *      (matching endpoint.model to request.model is the caller's job)
 *   2. the profile's filters, in order
 *   3. scorers: each returns one score per candidate; NaN / out-of-range values are clamped to
 *      [0,1] (NaN → 0) and counted in stats().clampedScores
 *        base_i  = Σ_j w_j · s_ij / Σ_j w_j        ∈ [0,1]   (no scorers or Σw = 0 → 1)
 *        score_i = base_i · weightFactor_i                   (slow start)
 *   4. the picker chooses among the scored candidates
 *   5. onPicked hooks of the profile's plugins, in slot order
 *
 * Slow start: weightFactor ∈ (0,1] multiplies the score, so a recovering endpoint competes with a
 * handicap that shrinks as the gateway ramps the factor to 1. Under max_score it wins only when
 * its peers score below factor × its own score (i.e. they are clearly busier); under weighted
 * random its share is proportional to the factor; power_of_two divides its load term by the
 * factor and consistent_hash accepts it with probability = factor. round_robin and uniform random
 * ignore scores and so ignore slow start.
 *
 * Timings: one entry per plugin call (`name`, or `name:onPicked`), in µs, from chained
 * performance.now() reads (one read per call; a read costs ~0.15 µs on a busy VM). A scorer's
 * entry includes validating and summing its output; the picker's includes normalising the scores
 * before it and composing the reason after it.
 *
 * Reason: the picker's explain() (e.g. 'round_robin', 'consistent_hash (bounded load, 1 hop)');
 * for score-based pickers also the scorer that decided — the one with the largest weighted lead
 * of the winner over the runner-up — e.g. 'max_score 0.91 (queue_depth)', or that scorer's own
 * wording ('session_affinity: pinned to w2'); '(tie)', '(only candidate)' and '(slow start)'
 * when no scorer decided. No endpoint: 'no endpoints', 'no healthy endpoint', 'all endpoints
 * already tried', '<filter> removed all N candidates', '<picker> picked nothing'.
 */
import { SwitchyardError } from '../core/index.js';
import type { PluginSpec, ProfileSpec, ScorerSpec } from './plugin.js';
import type { Decision, EndpointView, Filter, Picker, PluginHooks, RoutingContext, ScoredEndpoint, Scorer } from './types.js';

export interface RouteOptions {
  /** Fill Decision.scores[].parts with every scorer's (clamped) output. Off on the hot path. */
  readonly debug?: boolean;
  /**
   * Panic routing (as Envoy does): when the pre-filter leaves no healthy untried endpoint but
   * unhealthy untried ones exist, route among those instead, with `Decision.panic` set and the
   * reason prefixed `panic (...)`. A health false positive then costs one slow request, not an
   * outage. Off by default.
   */
  readonly panic?: boolean;
}

export interface ScorerSlot {
  readonly plugin: Scorer & PluginHooks;
  readonly weight: number;
}

export interface ProfileStats {
  /** Decisions that picked an endpoint. */
  readonly routed: number;
  /** Decisions with endpoint null. */
  readonly unrouted: number;
  /** Scorer outputs that were NaN, missing or outside [0,1], by scorer instance name. */
  readonly clampedScores: Readonly<Record<string, number>>;
}

export interface CompiledProfileInit {
  readonly name: string;
  readonly description?: string;
  readonly filters?: readonly (Filter & PluginHooks)[];
  readonly scorers?: readonly ScorerSlot[];
  readonly picker: Picker & PluginHooks;
  /** The configuration the plugins were built from (compileProfiles passes it); derived if absent. */
  readonly spec?: ProfileSpec;
}

type Timing = { plugin: string; us: number };
type ScoreRow = Decision['scores'][number];

const DEBUG: RouteOptions = Object.freeze({ debug: true });
const NO_PARTS: Readonly<Record<string, number>> = Object.freeze({});
const WEIGHT_FACTOR_PART = '@weightFactor';

/** A profile with live plugin instances (and their state). Build with compileProfiles(). */
export class CompiledProfile {
  readonly name: string;
  readonly description: string | undefined;
  readonly filters: readonly (Filter & PluginHooks)[];
  readonly scorers: readonly ScorerSlot[];
  readonly picker: Picker & PluginHooks;
  readonly totalWeight: number;
  /** The normalised configuration (for debug listings). */
  readonly spec: ProfileSpec;
  private readonly pickedHooks: PluginHooks[];
  private readonly pickedLabels: string[];
  private totals = new Float64Array(16);
  private readonly allPlugins: readonly PluginHooks[];
  private readonly clamped: number[];
  private readonly raw: (readonly number[])[];
  private routed = 0;
  private unrouted = 0;

  constructor(init: CompiledProfileInit) {
    this.name = init.name;
    this.description = init.description;
    this.filters = init.filters ?? [];
    this.scorers = init.scorers ?? [];
    this.picker = init.picker;
    this.totalWeight = this.scorers.reduce((s, x) => s + x.weight, 0);
    const all = [...this.filters, ...this.scorers.map((s) => s.plugin), this.picker];
    this.allPlugins = all;
    const hooked = all.filter((p) => p.onPicked !== undefined);
    this.pickedHooks = hooked;
    this.pickedLabels = hooked.map((p) => `${p.name}:onPicked`);
    this.clamped = this.scorers.map(() => 0);
    this.raw = this.scorers.map(() => []);
    const spec = (p: { name: string; type: string }): PluginSpec => ({ name: p.name, type: p.type, params: {} });
    this.spec = init.spec ?? {
      ...(init.description === undefined ? {} : { description: init.description }),
      filters: this.filters.map(spec),
      scorers: this.scorers.map((s): ScorerSpec => ({ ...spec(s.plugin), weight: s.weight })),
      picker: spec(this.picker),
    };
  }

  route(ctx: RoutingContext, endpoints: readonly EndpointView[], options?: RouteOptions): Decision {
    const debug = options?.debug === true;
    const timings: Timing[] = [];
    const excluded = ctx.request.excluded;
    const anyExcluded = excluded.size > 0;
    let cands: EndpointView[] = [];
    let sick: EndpointView[] | undefined;
    let unhealthy = 0;
    let tried = 0;
    for (const e of endpoints) {
      if (e.healthy === false) {
        unhealthy++;
        if (!(anyExcluded && excluded.has(e.id))) (sick ??= []).push(e);
      } else if (anyExcluded && excluded.has(e.id)) tried++;
      else cands.push(e);
    }
    let panic: string | undefined;
    if (cands.length === 0) {
      const why = emptyReason(endpoints.length, unhealthy, tried);
      if (options?.panic !== true || sick === undefined) return this.none(why, timings);
      cands = sick;
      panic = `panic (${why})`;
    }

    // Chained timestamps: one clock read per plugin call (reads cost ~0.1 µs on some VMs).
    let t = performance.now();
    for (const f of this.filters) {
      const next = f.filter(ctx, cands);
      const t1 = performance.now();
      timings.push({ plugin: f.name, us: (t1 - t) * 1000 });
      t = t1;
      if (next.length === 0) return this.none(`${f.name} removed all ${cands.length} candidates`, timings);
      cands = next;
    }

    const n = cands.length;
    const scorers = this.scorers;
    let totals = this.totals;
    if (totals.length < n) totals = this.totals = new Float64Array(Math.max(n, 2 * totals.length));
    totals.fill(0, 0, n);
    const parts: Record<string, number>[] | undefined = debug ? cands.map(() => ({})) : undefined;
    for (let j = 0; j < scorers.length; j++) {
      const { plugin, weight } = scorers[j]!;
      const out = plugin.score(ctx, cands);
      this.raw[j] = out;
      for (let i = 0; i < n; i++) {
        let v = out[i]!;
        if (!(v >= 0 && v <= 1)) {
          v = v > 1 ? 1 : 0; // NaN, undefined (short array) and negatives → 0
          this.clamped[j]!++;
        }
        totals[i]! += weight * v;
        if (parts !== undefined) parts[i]![plugin.name] = v;
      }
      const t1 = performance.now();
      timings.push({ plugin: plugin.name, us: (t1 - t) * 1000 });
      t = t1;
    }

    const tw = this.totalWeight;
    const scored = new Array<ScoredEndpoint>(n);
    for (let i = 0; i < n; i++) {
      const e = cands[i]!;
      const base = tw > 0 ? Math.min(1, totals[i]! / tw) : 1;
      const wf = e.weightFactor;
      const factor = wf >= 0 && wf <= 1 ? wf : wf > 1 ? 1 : Number.isNaN(wf) ? 1 : 0;
      scored[i] = { endpoint: e, score: base * factor };
      if (parts !== undefined && factor !== 1) parts[i]![WEIGHT_FACTOR_PART] = factor;
    }

    const picker = this.picker;
    const picked = picker.pick(ctx, scored);
    let reason = picked === undefined ? `${picker.name} picked nothing` : this.reason(ctx, scored, picked);
    if (panic !== undefined) reason = `${panic}: ${reason}`;
    let t1 = performance.now();
    timings.push({ plugin: picker.name, us: (t1 - t) * 1000 });
    t = t1;
    if (picked === undefined) return this.none(reason, timings, scored, parts);

    const hooks = this.pickedHooks;
    for (let k = 0; k < hooks.length; k++) {
      hooks[k]!.onPicked!(ctx, picked.endpoint);
      t1 = performance.now();
      timings.push({ plugin: this.pickedLabels[k]!, us: (t1 - t) * 1000 });
      t = t1;
    }
    this.routed++;
    return decision(picked.endpoint, this.name, reason, scored, parts, timings, panic !== undefined);
  }

  /** Broadcast onEndpointGone: the endpoint became unhealthy or was removed. */
  endpointGone(endpointId: string): void {
    for (const p of this.allPlugins) p.onEndpointGone?.(endpointId);
  }

  stats(): ProfileStats {
    const clampedScores: Record<string, number> = {};
    this.scorers.forEach((s, j) => (clampedScores[s.plugin.name] = this.clamped[j] ?? 0));
    return { routed: this.routed, unrouted: this.unrouted, clampedScores };
  }

  private none(reason: string, timings: Timing[], scored?: readonly ScoredEndpoint[], parts?: Record<string, number>[]): Decision {
    this.unrouted++;
    return decision(null, this.name, reason, scored ?? [], parts, timings);
  }

  /**
   * Picker's own note, plus — for score-based pickers with several candidates — the scorer that
   * decided: the one with the largest weighted lead of the winner over the runner-up. A deciding
   * scorer may word the reason itself (session_affinity: 'pinned to w2').
   */
  private reason(ctx: RoutingContext, scored: readonly ScoredEndpoint[], picked: ScoredEndpoint): string {
    const picker = this.picker;
    const own = picker.explain?.(ctx, picked) ?? picker.name;
    const n = scored.length;
    if (picker.usesScores !== true || this.scorers.length === 0) return own;
    if (n === 1) return `${own} (only candidate)`;
    let w = scored.indexOf(picked);
    if (w < 0) w = scored.findIndex((s) => s.endpoint.id === picked.endpoint.id);
    if (w < 0) return own;
    let r = -1;
    for (let i = 0; i < n; i++) if (i !== w && (r < 0 || scored[i]!.score > scored[r]!.score)) r = i;
    const lead = scored[w]!.score - scored[r]!.score;
    if (lead < 0) return own;
    if (lead <= 1e-9) return `${own} (tie)`;
    let best = -1;
    let bestLead = 1e-12;
    for (let j = 0; j < this.scorers.length; j++) {
      const out = this.raw[j]!;
      const d = this.scorers[j]!.weight * (unit(out[w]) - unit(out[r]));
      if (d > bestLead) [best, bestLead] = [j, d];
    }
    if (best < 0) return `${own} (slow start)`;
    const decider = this.scorers[best]!.plugin;
    const text = decider.explain?.(ctx, picked);
    return text === undefined ? `${own} (${decider.name})` : `${decider.name}: ${text}`;
  }
}

function unit(v: number | undefined): number {
  return v !== undefined && v >= 0 && v <= 1 ? v : v !== undefined && v > 1 ? 1 : 0;
}

function emptyReason(total: number, unhealthy: number, tried: number): string {
  if (total === 0) return 'no endpoints';
  if (unhealthy === total) return 'no healthy endpoint';
  if (tried === total) return 'all endpoints already tried';
  return `no healthy untried endpoint (${unhealthy} unhealthy, ${tried} already tried)`;
}

/**
 * The Decision. `scores` is built on first read (the gateway reads it only for debug output, so
 * the hot path skips n row allocations). It is a prototype getter: JSON.stringify includes it
 * (toJSON), but an object spread `{ ...decision }` does not — read `decision.scores` explicitly.
 */
class RouteDecision implements Decision {
  private rows: ScoreRow[] | undefined;
  constructor(
    readonly endpoint: EndpointView | null,
    readonly profile: string,
    readonly reason: string,
    private readonly scored: readonly ScoredEndpoint[],
    private readonly parts: readonly Record<string, number>[] | undefined,
    readonly timings: readonly Timing[],
    readonly panic: boolean,
  ) {}

  get candidates(): number {
    return this.scored.length;
  }

  get scores(): readonly ScoreRow[] {
    if (this.rows === undefined) {
      const scored = this.scored;
      const rows = new Array<ScoreRow>(scored.length);
      for (let i = 0; i < scored.length; i++) {
        const s = scored[i]!;
        rows[i] = { endpointId: s.endpoint.id, total: s.score, parts: this.parts?.[i] ?? NO_PARTS };
      }
      this.rows = rows;
    }
    return this.rows;
  }

  toJSON(): Decision {
    const { endpoint, profile, reason, candidates, scores, timings, panic } = this;
    return { endpoint, profile, reason, candidates, scores, timings, panic };
  }
}

function decision(
  endpoint: EndpointView | null,
  profile: string,
  reason: string,
  scored: readonly ScoredEndpoint[],
  parts: readonly Record<string, number>[] | undefined,
  timings: readonly Timing[],
  panic = false,
): Decision {
  return new RouteDecision(endpoint, profile, reason, scored, parts, timings, panic);
}

/** Route one request with one profile (same as profile.route). */
export function routeWith(profile: CompiledProfile, ctx: RoutingContext, endpoints: readonly EndpointView[], options?: RouteOptions): Decision {
  return profile.route(ctx, endpoints, options);
}

/** A set of named profiles. The gateway keeps one and calls route() per request. */
export class Router {
  private readonly byName: ReadonlyMap<string, CompiledProfile>;

  constructor(profiles: ReadonlyMap<string, CompiledProfile> | Iterable<CompiledProfile>) {
    this.byName = profiles instanceof Map ? new Map(profiles) : new Map([...(profiles as Iterable<CompiledProfile>)].map((p) => [p.name, p]));
  }

  /**
   * Route with the named profile. `options` may be a boolean (= debug), so a Router satisfies the
   * gateway's RouterPort as is. Throws invalid_argument for an unknown profile name.
   */
  route(profile: string, ctx: RoutingContext, endpoints: readonly EndpointView[], options?: RouteOptions | boolean): Decision {
    const p = this.byName.get(profile);
    if (p === undefined) throw new SwitchyardError('invalid_argument', `unknown routing profile '${profile}'; known: ${this.names().join(', ')}`, { param: 'profile' });
    return p.route(ctx, endpoints, options === true ? DEBUG : options === false ? undefined : options);
  }

  hasProfile(name: string): boolean {
    return this.byName.has(name);
  }

  profile(name: string): CompiledProfile | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  /** The endpoint became unhealthy or was removed: every plugin of every profile drops its state. */
  endpointGone(endpointId: string): void {
    for (const p of this.byName.values()) p.endpointGone(endpointId);
  }
}
