/**
 * consistent_hash picker with bounded loads (Mirrokni, Thorup, Zadimoghaddam 2018).
 *
 *   ring     = `replicas` virtual nodes per endpoint id at hash32(`${id}#${r}`)
 *   key      = sessionKeyOf(request, header) ?? promptText.slice(0, promptChars)
 *   capacity = ceil(c · (Σ inFlight over candidates + 1) / n)
 *   pick     = walking clockwise from hash32(key), the first candidate with inFlight < capacity
 *
 * Same key → same endpoint while it has room; removing one of n endpoints moves only the keys it
 * owned (≈ 1/n). A hot key overflows to the next endpoints on the ring, and no endpoint exceeds
 * c × the average load (c > 1 guarantees some candidate is under capacity). Slow start: a
 * candidate with weightFactor w < 1 is accepted with probability w, else the walk moves on.
 * No key → the candidate with the fewest in flight (ties → ctx.random).
 * The ring is cached and rebuilt only when a new endpoint id appears (or on onEndpointGone).
 */
import { z } from 'zod';
import { definePlugin } from '../plugin.js';
import { sessionKeyOf } from '../session-key.js';
import type { ScoredEndpoint } from '../types.js';
import { hash32 } from '../util.js';

class Ring {
  hashes = new Uint32Array(0);
  owners: string[] = [];
  readonly members = new Set<string>();
  constructor(private readonly replicas: number) {}

  rebuild(ids: Iterable<string>): void {
    this.members.clear();
    for (const id of ids) this.members.add(id);
    const points: { h: number; id: string }[] = [];
    for (const id of this.members) for (let r = 0; r < this.replicas; r++) points.push({ h: hash32(`${id}#${r}`), id });
    points.sort((a, b) => a.h - b.h || (a.id < b.id ? -1 : 1));
    this.hashes = Uint32Array.from(points, (p) => p.h);
    this.owners = points.map((p) => p.id);
  }

  /** Index of the first point with hash ≥ h (wrapping to 0). */
  start(h: number): number {
    let lo = 0;
    let hi = this.hashes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.hashes[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    return lo === this.hashes.length ? 0 : lo;
  }
}

export const consistentHashPicker = definePlugin({
  type: 'consistent_hash',
  kind: 'picker',
  description: 'ring of virtual nodes keyed by session/prompt prefix, bounded loads: capacity = ceil(c·(Σ inFlight + 1)/n)',
  params: z.strictObject({
    replicas: z.number().int().min(1).max(10_000).default(100),
    c: z.number().min(1).default(1.25),
    promptChars: z.number().int().min(1).default(256),
    header: z.string().min(1).optional(),
  }),
  create: (params, name) => {
    const ring = new Ring(params.replicas);
    let note = 'consistent_hash';
    const leastLoaded = (random: () => number, candidates: readonly ScoredEndpoint[]): ScoredEndpoint | undefined => {
      let best: ScoredEndpoint | undefined;
      let ties = 0;
      for (const c of candidates) {
        if (best === undefined || c.endpoint.load.inFlight < best.endpoint.load.inFlight) [best, ties] = [c, 1];
        else if (c.endpoint.load.inFlight === best.endpoint.load.inFlight && random() * ++ties < 1) best = c;
      }
      return best;
    };
    return {
      name,
      type: 'consistent_hash',
      kind: 'picker',
      pick(ctx, candidates) {
        const n = candidates.length;
        const prompt = ctx.request.promptText;
        const key = sessionKeyOf(ctx.request, params.header) ?? (prompt ? prompt.slice(0, params.promptChars) : undefined);
        if (key === undefined || n === 0) {
          note = 'consistent_hash (no key, least in flight)';
          return leastLoaded(ctx.random, candidates);
        }
        const index = new Map<string, number>();
        let total = 0;
        let missing = false;
        for (let i = 0; i < n; i++) {
          const e = candidates[i]!.endpoint;
          index.set(e.id, i);
          total += e.load.inFlight;
          if (!ring.members.has(e.id)) missing = true;
        }
        // Rebuild on a new id; drop long-gone ids once the ring holds far more than the candidates.
        if (missing) ring.rebuild(ring.members.size > 2 * n + 8 ? index.keys() : [...ring.members, ...index.keys()]);
        const capacity = Math.ceil((params.c * (total + 1)) / n);
        const seen = new Uint8Array(n);
        const points = ring.owners.length;
        let hops = 0;
        for (let k = 0, p = ring.start(hash32(key)); k < points; k++, p = p + 1 === points ? 0 : p + 1) {
          const i = index.get(ring.owners[p]!);
          if (i === undefined || seen[i] === 1) continue;
          seen[i] = 1;
          const c = candidates[i]!;
          const wf = c.endpoint.weightFactor;
          if (c.endpoint.load.inFlight < capacity && (wf >= 1 || ctx.random() < wf)) {
            note = hops === 0 ? 'consistent_hash' : `consistent_hash (bounded load, ${hops} hop${hops === 1 ? '' : 's'})`;
            return c;
          }
          hops++;
        }
        note = 'consistent_hash (all full, least in flight)'; // only reachable through slow-start rejections
        return leastLoaded(ctx.random, candidates);
      },
      explain: () => note,
      onEndpointGone(endpointId) {
        if (ring.members.has(endpointId)) ring.rebuild([...ring.members].filter((id) => id !== endpointId));
      },
    };
  },
});
