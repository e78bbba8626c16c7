/** KvEventFeeds against real publishers over TCP loopback: subscribe, resubscribe on a new source, drop. */
import { describe, expect, it } from 'vitest';
import { createNullLogger } from '../observability/index.js';
import { KvEventFeeds, type KvFeedSource } from './feeds.js';
import { KvEventPublisher } from './publisher.js';
import type { KvEventBatch } from './types.js';
import { useCleanup, waitFor } from './test-support.js';

const track = useCleanup();
const probe = (ts: number): KvEventBatch => ({ ts, events: [] });

function recorder() {
  const log: string[] = [];
  const feeds = track(
    new KvEventFeeds({
      logger: createNullLogger('feeds'),
      onBatch: (id, b) => log.push(`batch ${id} ${b.ts}`),
      onReset: (id) => log.push(`reset ${id}`),
      onGone: (id) => log.push(`gone ${id}`),
    }),
  );
  return { feeds, log };
}

const source = (p: KvEventPublisher): KvFeedSource => ({ endpoint: p.endpoint, replayEndpoint: p.replayEndpoint });

/** Publish until the feed has delivered one of ours (ZMQ subscriptions join asynchronously). */
async function delivered(pub: KvEventPublisher, log: string[], id: string, ts: number): Promise<void> {
  await waitFor(() => {
    pub.publish(probe(ts));
    return log.includes(`batch ${id} ${ts}`);
  });
}

describe('KvEventFeeds', () => {
  it('subscribes per backend, resubscribes (reset) when the source changes, and drops (gone) what is no longer wanted', async () => {
    const a = track(await KvEventPublisher.create({ endpoint: 'tcp://127.0.0.1:*', replayEndpoint: 'tcp://127.0.0.1:*' }));
    const b = track(await KvEventPublisher.create({ endpoint: 'tcp://127.0.0.1:*', replayEndpoint: 'tcp://127.0.0.1:*' }));
    const { feeds, log } = recorder();
    feeds.sync(new Map([['w0', source(a)]]));
    expect(feeds.ids()).toEqual(['w0']);
    await delivered(a, log, 'w0', 1);
    expect(feeds.stats().w0).toMatchObject({ endpoint: a.endpoint, gapsUnrepaired: 0 });

    feeds.sync(new Map([['w0', source(a)]])); // unchanged: nothing happens
    expect(log.filter((l) => !l.startsWith('batch'))).toEqual([]);

    feeds.sync(new Map([['w0', source(b)]]));
    expect(log).toContain('reset w0');
    await delivered(b, log, 'w0', 2);

    feeds.sync(new Map());
    expect(log.at(-1)).toBe('gone w0');
    expect(feeds.ids()).toEqual([]);
  });
});
