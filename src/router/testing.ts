/**
 * Test helpers: hand-built EndpointViews, requests and contexts. Exported from the index as
 * `routerTesting` for tests outside src/router. Not for production code.
 */
import { Rng } from '../core/index.js';
import { KvBlockIndex } from './kvindex/index.js';
import type { PluginInstance, PluginKind, PluginType } from './plugin.js';
import type { EndpointLoad, EndpointView, KvOverlapIndex, RouteRequest, RoutingContext, ScoredEndpoint } from './types.js';

export interface EndpointOverrides {
  url?: string;
  model?: string;
  labels?: Record<string, string>;
  weight?: number;
  healthy?: boolean;
  weightFactor?: number;
  load?: Partial<EndpointLoad>;
}

/** A never-scraped, idle load; override fields as needed. */
export function makeLoad(over: Partial<EndpointLoad> = {}): EndpointLoad {
  return { inFlight: 0, running: null, waiting: null, kvUsage: null, scrapedAt: null, inFlightAtScrape: 0, ...over };
}

/** A scraped load: `scraped(running, waiting, kvUsage)` at time 0 with inFlightAtScrape = inFlight. */
export function scrapedLoad(running: number, waiting: number, kvUsage: number | null = null, over: Partial<EndpointLoad> = {}): EndpointLoad {
  const inFlight = over.inFlight ?? 0;
  return makeLoad({ running, waiting, kvUsage, scrapedAt: 0, inFlight, inFlightAtScrape: inFlight, ...over });
}

/** A healthy endpoint `id` at weightFactor 1 with an idle, never-scraped load. */
export function makeEndpoint(id: string, over: EndpointOverrides = {}): EndpointView {
  return {
    id,
    url: over.url ?? `http://${id}.test:8000`,
    model: over.model ?? 'test-model',
    labels: over.labels ?? {},
    weight: over.weight ?? 1,
    healthy: over.healthy ?? true,
    weightFactor: over.weightFactor ?? 1,
    load: makeLoad(over.load),
  };
}

/** `makeEndpoints(3)` → w0, w1, w2; `inFlight` optionally per endpoint. */
export function makeEndpoints(n: number, inFlight: readonly number[] = []): EndpointView[] {
  return Array.from({ length: n }, (_, i) => makeEndpoint(`w${i}`, { load: { inFlight: inFlight[i] ?? 0 } }));
}

export interface RequestOverrides {
  requestId?: string;
  model?: string;
  headers?: Record<string, string | undefined>;
  user?: string;
  promptText?: string;
  /** Prompt token ids (wrapped in the lazy `tokenIds` thunk). */
  tokenIds?: ArrayLike<number>;
  loraId?: number | null;
  excluded?: Iterable<string>;
}

export function makeRequest(over: RequestOverrides = {}): RouteRequest {
  return {
    requestId: over.requestId ?? 'req-1',
    model: over.model ?? 'test-model',
    headers: over.headers ?? {},
    ...(over.user === undefined ? {} : { user: over.user }),
    ...(over.promptText === undefined ? {} : { promptText: over.promptText }),
    ...(over.tokenIds === undefined ? {} : { tokenIds: tokensOf(over.tokenIds) }),
    ...(over.loraId === undefined ? {} : { loraId: over.loraId }),
    excluded: new Set(over.excluded ?? []),
  };
}

function tokensOf(ids: ArrayLike<number>): () => ArrayLike<number> {
  return () => ids;
}

export interface ContextOverrides extends RequestOverrides {
  now?: number;
  /** A function, a seed for a deterministic Rng, or a list of values returned in turn (cycled). */
  random?: (() => number) | number | readonly number[];
  request?: RouteRequest;
  kvIndex?: KvOverlapIndex;
}

export function makeContext(over: ContextOverrides = {}): RoutingContext {
  const ctx = { now: over.now ?? 0, random: randomSource(over.random ?? 1), request: over.request ?? makeRequest(over) };
  return over.kvIndex === undefined ? ctx : { ...ctx, kvIndex: over.kvIndex };
}

/**
 * An index where `held[id]` = blocks of `tokens` (in `blockSize`-token blocks) that backend `id`
 * holds, built from BlockStored events (engine hashes made up per backend).
 */
export function makeKvIndex(tokens: ArrayLike<number>, held: Readonly<Record<string, number>>, blockSize = 4): KvBlockIndex {
  const index = new KvBlockIndex({ blockSize });
  let b = 0;
  for (const [id, blocks] of Object.entries(held)) {
    b++;
    if (blocks <= 0) continue;
    const ids = Array.from({ length: blocks * blockSize }, (_, i) => tokens[i]!);
    index.blockStored(id, { blockHashes: Array.from({ length: blocks }, (_, k) => BigInt(b * 100_000 + k + 1)), parentBlockHash: null, tokenIds: ids, blockSize, loraId: null });
  }
  return index;
}

export function randomSource(r: (() => number) | number | readonly number[]): () => number {
  if (typeof r === 'function') return r;
  if (typeof r === 'number') {
    const rng = new Rng(r);
    return () => rng.next();
  }
  if (r.length === 0) return () => 0;
  let i = 0;
  return () => r[i++ % r.length]!;
}

/** Instantiate one plugin type with params (validated by its schema, defaults filled). */
export function createPlugin<K extends PluginKind, P>(def: PluginType<K, P>, params: unknown = {}, name: string = def.type): PluginInstance<K> {
  return def.create(def.params.parse(params), name);
}

/** Candidates for a picker: `makeScored([['w0', 0.5], ['w1', 0.9]])`, or views with scores. */
export function makeScored(entries: readonly (readonly [string | EndpointView, number])[]): ScoredEndpoint[] {
  return entries.map(([e, score]) => ({ endpoint: typeof e === 'string' ? makeEndpoint(e) : e, score }));
}
