/**
 * Acceptance: "with least_request across 4 workers that have different speeds, the load follows
 * speed". A small discrete-event loop, pure (no timers): each tick requests arrive and are routed;
 * then every endpoint completes up to `rate` of its in-flight requests.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../core/index.js';
import { Router } from './framework.js';
import { compileProfiles } from './profile.js';
import { makeContext, makeEndpoint, makeRequest } from './testing.js';

interface SimResult {
  share: number[];
  maxInFlight: number[];
}

function simulate(profile: string, rates: readonly number[], ticks = 4000, seed = 1): SimResult {
  const router = new Router(compileProfiles(undefined));
  const rng = new Rng(seed);
  const eps = rates.map((_, i) => makeEndpoint(`w${i}`));
  const sent = rates.map(() => 0);
  const maxInFlight = rates.map(() => 0);
  const capacity = rates.reduce((a, b) => a + b, 0);
  let id = 0;
  for (let t = 0; t < ticks; t++) {
    // Arrivals: uniform 0..2·(0.8·capacity) per tick, i.e. ~80% utilisation on average.
    const arrivals = rng.int(Math.round(1.6 * capacity) + 1);
    for (let a = 0; a < arrivals; a++) {
      const ctx = makeContext({ now: t, random: () => rng.next(), request: makeRequest({ requestId: `r${id++}` }) });
      const d = router.route(profile, ctx, eps);
      const i = eps.indexOf(d.endpoint!);
      eps[i]!.load.inFlight++;
      sent[i]!++;
    }
    // Service: endpoint i finishes up to rates[i] requests per tick (fractional rates accumulate).
    eps.forEach((e, i) => {
      maxInFlight[i] = Math.max(maxInFlight[i]!, e.load.inFlight);
      const done = Math.floor(rates[i]!) + (rng.next() < rates[i]! % 1 ? 1 : 0);
      e.load.inFlight = Math.max(0, e.load.inFlight - done);
    });
  }
  const total = sent.reduce((a, b) => a + b, 0);
  return { share: sent.map((s) => s / total), maxInFlight };
}

describe('simulation: least_request follows service speed', () => {
  const rates = [0.5, 1, 2, 4];

  it('gives faster endpoints a larger share, roughly in proportion to speed', () => {
    const { share, maxInFlight } = simulate('least_request', rates);
    for (let i = 1; i < share.length; i++) expect(share[i]!).toBeGreaterThan(share[i - 1]!);
    expect(share[3]! / share[0]!).toBeGreaterThan(3); // speed ratio 8
    const speedShare = rates.map((r) => r / rates.reduce((a, b) => a + b, 0));
    share.forEach((s, i) => expect(Math.abs(s - speedShare[i]!)).toBeLessThan(0.1));
    expect(Math.max(...maxInFlight)).toBeLessThan(40); // queues stay bounded
  });

  it('round_robin, for contrast, ignores speed and lets the slow endpoint queue up', () => {
    const { share, maxInFlight } = simulate('round_robin', rates);
    share.forEach((s) => expect(s).toBeCloseTo(0.25, 2));
    expect(maxInFlight[0]!).toBeGreaterThan(500); // arrivals 1.5/tick vs service 0.5/tick
  });

  it('power_of_two also follows speed', () => {
    const { share } = simulate('power_of_two', rates);
    for (let i = 1; i < share.length; i++) expect(share[i]!).toBeGreaterThan(share[i - 1]!);
  });
});
