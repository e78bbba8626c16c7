/**
 * Plugin types: what a plugin TYPE registers (its kind, a strict params schema with defaults, and
 * a factory). A profile instantiates a type under an instance name, so one type can appear twice
 * in a profile with different params (e.g. two `queue_depth` scorers with different `k`).
 */
import type { z } from 'zod';
import type { Filter, Picker, PluginHooks, Scorer } from './types.js';

export type PluginKind = 'filter' | 'scorer' | 'picker';

export type PluginOfKind<K extends PluginKind> = K extends 'filter' ? Filter : K extends 'scorer' ? Scorer : Picker;

/** A live plugin instance: the plugin itself plus its optional hooks. */
export type PluginInstance<K extends PluginKind = PluginKind> = PluginOfKind<K> & PluginHooks;

export interface PluginType<K extends PluginKind = PluginKind, P = unknown> {
  /** Type name used in profiles, e.g. 'least_request'. */
  readonly type: string;
  readonly kind: K;
  /** One line for `--help`/debug listings, ideally with the formula. */
  readonly description: string;
  /** Strict zod schema; every field has a default so `params` may be omitted. */
  readonly params: z.ZodType<P>;
  /** A fresh instance (own state) for one profile slot. */
  create(params: P, name: string): PluginInstance<K>;
}

/** Identity helper that infers P from the params schema. */
export function definePlugin<K extends PluginKind, P>(def: PluginType<K, P>): PluginType<K, P> {
  return def;
}

/** One plugin slot of a compiled profile, as configured (after defaults). */
export interface PluginSpec {
  /** Instance name (unique in the profile); defaults to `type`. */
  readonly name: string;
  readonly type: string;
  /** Params after the type's schema (defaults filled, durations in ms). */
  readonly params: unknown;
}

export interface ScorerSpec extends PluginSpec {
  /** ≥ 0. Weight 0 runs the scorer for debug output only ("shadow" mode). */
  readonly weight: number;
}

/** A profile after validation: the output of RoutingProfilesSchema for one profile. */
export interface ProfileSpec {
  readonly description?: string;
  readonly filters: readonly PluginSpec[];
  readonly scorers: readonly ScorerSpec[];
  readonly picker: PluginSpec;
}
