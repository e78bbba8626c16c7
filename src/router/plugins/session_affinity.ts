/**
 * session_affinity scorer: keep a session on the endpoint that served it (its KV cache holds the
 * conversation so far).
 *
 *   key     = sessionKeyOf(request, header)   (x-session-id, else `user`, else the `header` param)
 *   score_i = 1 if i is the key's pinned endpoint, 0 for the others;
 *             0.5 for all (neutral) when there is no key or no live pin
 *
 * Pins are made by onPicked (the key → the endpoint the request went to), expire `ttl` after
 * their last use (refreshed on every pick), and are released when the pinned endpoint is not
 * among the candidates (unhealthy, removed, filtered out or already tried) — the request goes
 * elsewhere and is re-pinned there — and by onEndpointGone. At most `maxKeys` pins are kept; the
 * least recently used is evicted first (Map insertion order = last use, since a refresh
 * re-inserts). Expired pins are dropped lazily on lookup and from the old end on every pick.
 */
import { z } from 'zod';
import { definePlugin } from '../plugin.js';
import { sessionKeyOf } from '../session-key.js';
import { durationParam } from '../util.js';

interface Pin {
  endpointId: string;
  expiresAt: number;
}

export const sessionAffinityScorer = definePlugin({
  type: 'session_affinity',
  kind: 'scorer',
  description: 'score 1 for the endpoint the session is pinned to, 0 for others, 0.5 when unpinned',
  params: z.strictObject({
    header: z.string().min(1).optional(),
    ttl: durationParam().prefault('10m'),
    maxKeys: z.number().int().min(1).default(100_000),
  }),
  create: (params, name) => {
    const pins = new Map<string, Pin>();
    let lastPinned: string | undefined; // endpoint id the last score() call favoured
    return {
      name,
      type: 'session_affinity',
      kind: 'scorer',
      score(ctx, endpoints) {
        lastPinned = undefined;
        const out = new Array<number>(endpoints.length).fill(0.5);
        const key = sessionKeyOf(ctx.request, params.header);
        if (key === undefined) return out;
        const pin = pins.get(key);
        if (pin === undefined) return out;
        if (pin.expiresAt <= ctx.now) {
          pins.delete(key);
          return out;
        }
        const i = endpoints.findIndex((e) => e.id === pin.endpointId);
        if (i < 0) {
          pins.delete(key); // pinned endpoint unavailable: release, re-pinned by onPicked
          return out;
        }
        out.fill(0);
        out[i] = 1;
        lastPinned = pin.endpointId;
        return out;
      },
      onPicked(ctx, endpoint) {
        const key = sessionKeyOf(ctx.request, params.header);
        if (key === undefined) return;
        pins.delete(key); // re-insert: Map order = last use
        pins.set(key, { endpointId: endpoint.id, expiresAt: ctx.now + params.ttl });
        for (const [k, p] of pins) {
          if (pins.size <= params.maxKeys && p.expiresAt > ctx.now) break;
          pins.delete(k);
        }
      },
      onEndpointGone(endpointId) {
        for (const [k, p] of pins) if (p.endpointId === endpointId) pins.delete(k);
      },
      explain: (_ctx, picked) => (picked.endpoint.id === lastPinned ? `pinned to ${lastPinned}` : undefined),
    };
  },
});
