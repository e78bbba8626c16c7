/** PrefixSummaryFeed against a fake control plane: ETags, decode once per version, keep the last set on errors. */
import { describe, expect, it } from 'vitest';
import type { PrefixSummaryItem, PrefixSummaryList } from '../api/index.js';
import { VirtualClock } from '../core/index.js';
import { createNullLogger } from '../observability/index.js';
import { PrefixSummary } from '../router/index.js';
import { PrefixSummaryFeed, type PrefixSummarySource } from './prefix-summaries.js';

const item = (cluster: string, version: number, blocks: number): PrefixSummaryItem => {
  const s = PrefixSummary.build({ blockSize: 16, forEachBlock: (cb) => Array.from({ length: blocks }, (_, i) => cb(i + 1, i)) });
  return { cluster, version, receivedAt: '2026-01-01T00:00:00.000Z', bytes: s.byteLength, blockSize: 16, blocks, entries: s.entries, sampleShift: s.sampleShift, backends: [], summary: Buffer.from(s.encode()).toString('base64') };
};

class FakeSource implements PrefixSummarySource {
  list: PrefixSummaryList = { items: [], version: '"a-0"' };
  asked: (string | undefined)[] = [];
  fail = false;
  async prefixSummaries(etag?: string): Promise<{ list: PrefixSummaryList; etag: string } | null> {
    this.asked.push(etag);
    if (this.fail) throw new Error('ECONNREFUSED');
    return etag === this.list.version ? null : { list: this.list, etag: this.list.version };
  }
}

describe('PrefixSummaryFeed', () => {
  it('polls every interval with the last ETag, decodes new versions, keeps the last set while the control plane is down', async () => {
    const src = new FakeSource();
    const clock = new VirtualClock();
    const feed = new PrefixSummaryFeed({ source: src, logger: createNullLogger('t'), clock, intervalMs: 1000 });
    src.list = { items: [item('eu', 1, 5), item('us', 1, 0)], version: '"a-2"' };
    feed.start();
    await new Promise((r) => setImmediate(r));
    const eu = feed.summary('eu');
    expect(eu?.blocks).toBe(5);
    expect(feed.summary('us')?.blocks).toBe(0);
    expect(feed.summary('ap')).toBeUndefined();

    clock.advance(1000);
    await new Promise((r) => setImmediate(r));
    expect(src.asked).toEqual([undefined, '"a-2"']); // 304: nothing decoded again

    src.list = { items: [item('eu', 1, 5), item('us', 2, 3)], version: '"a-3"' };
    expect(await feed.poll()).toBe(true);
    expect(feed.summary('eu')).toBe(eu); // same version: the same object
    expect(feed.summary('us')?.blocks).toBe(3);

    src.fail = true;
    expect(await feed.poll()).toBe(false);
    expect(feed.summary('us')?.blocks).toBe(3);
    src.fail = false;
    src.list = { items: [item('eu', 2, 6)], version: '"a-4"' };
    expect(await feed.poll()).toBe(true);
    expect(feed.summary('us')).toBeUndefined();
    expect(feed.stats().clusters.map((c) => [c.cluster, c.version])).toEqual([['eu', 2]]);
    await feed.stop();
  });

  it('skips an undecodable summary and keeps the others', async () => {
    const src = new FakeSource();
    src.list = { items: [{ ...item('eu', 1, 2), summary: 'AAAA' }, item('us', 1, 2)], version: '"b-1"' };
    const feed = new PrefixSummaryFeed({ source: src, logger: createNullLogger('t'), clock: new VirtualClock() });
    expect(await feed.poll()).toBe(true);
    expect(feed.summary('eu')).toBeUndefined();
    expect(feed.summary('us')?.blocks).toBe(2);
  });
});
