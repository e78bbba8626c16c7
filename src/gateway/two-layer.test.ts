/**
 * routeTwoLayer's cluster layer KV signal: agents' prefix summaries, the gateway's exact index,
 * or both (per cluster), as chosen by the mode; named in the decision's reason.
 */
import { describe, expect, it } from 'vitest';
import { compileProfiles, PrefixSummary, Router, routerTesting, type ClusterPrefixSummaries } from '../router/index.js';
import { routeTwoLayer, type ClusterKvOptions } from './two-layer.js';

const { makeContext, makeEndpoint, makeKvIndex } = routerTesting;
const BS = 4;
const tokens = Array.from({ length: 10 * BS }, (_, i) => 7 + i);
const endpoints = [
  makeEndpoint('eu-0', { labels: { cluster: 'eu' } }),
  makeEndpoint('eu-1', { labels: { cluster: 'eu' } }),
  makeEndpoint('us-0', { labels: { cluster: 'us' } }),
];
// The gateway's exact index says us holds more; eu's agent reports all 10 blocks.
const exact = makeKvIndex(tokens, { 'eu-0': 2, 'us-0': 8 }, BS);
const summaries = (of: Record<string, PrefixSummary>): ClusterPrefixSummaries => ({ summary: (c) => of[c] });
const euSummary = PrefixSummary.build(makeKvIndex(tokens, { 'eu-0': 10 }, BS));
const usSummary = PrefixSummary.build(makeKvIndex(tokens, {}, BS));

function route(kv: ClusterKvOptions): { cluster: string | undefined; reason: string } {
  const router = new Router(compileProfiles({}));
  const d = routeTwoLayer(router, 'cluster_score', 'default', makeContext({ tokenIds: tokens, kvIndex: exact }), endpoints, kv);
  return { cluster: d.endpoint?.labels.cluster, reason: d.reason };
}

describe('routeTwoLayer: the cluster layer KV signal', () => {
  it.each([
    ['summaries when every cluster has one (default)', { summaries: summaries({ eu: euSummary, us: usSummary }) }, 'eu', /^cluster eu \(kv summary 10\/10; /],
    ["a summary where there is one, the exact index for the others", { summaries: summaries({ eu: euSummary }) }, 'eu', /^cluster eu \(kv summary\+exact 10\/10; /],
    ["mode 'summary': a cluster without one holds nothing", { mode: 'summary' as const, summaries: summaries({ us: usSummary }) }, 'eu', /^cluster eu \(kv summary 0\/10; /],
    ["mode 'exact': the gateway's index, summaries ignored", { mode: 'exact' as const, summaries: summaries({ eu: euSummary, us: usSummary }) }, 'us', /^cluster us \(kv exact 8\/10; /],
    ['no summaries at all: the exact index', {}, 'us', /^cluster us \(kv exact 8\/10; /],
    ['summaries of another block size are not used', { summaries: summaries({ eu: PrefixSummary.build(makeKvIndex(tokens, { 'eu-0': 5 }, 8)) }) }, 'us', /^cluster us \(kv exact 8\/10; /],
  ])('%s', (_what, kv, cluster, reason) => {
    const d = route(kv);
    expect(d.cluster, d.reason).toBe(cluster);
    expect(d.reason).toMatch(reason);
  });
});
