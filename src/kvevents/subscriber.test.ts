/** KvEventSubscriber against the real publisher (and raw sockets for hostile cases) over TCP loopback. */
import * as zmq from 'zeromq';
import { describe, expect, it } from 'vitest';
import { SwitchyardError } from '../core/index.js';
import { encodeKvEventBatch } from './codec.js';
import { KvEventPublisher } from './publisher.js';
import type { KvEventPublisherOptions } from './publisher.js';
import { KvEventSubscriber } from './subscriber.js';
import type { KvEventGap, KvEventSubscriberOptions } from './subscriber.js';
import type { KvEventBatch } from './types.js';
import { encodeSeq } from './wire.js';
import { useCleanup, waitFor } from './test-support.js';

const track = useCleanup();

const batch = (i: number): KvEventBatch => ({ ts: 1000 + i, events: [{ type: 'BlockRemoved', blockHashes: [BigInt(i)], medium: 'GPU' }] });
const probe = (): KvEventBatch => ({ ts: 0.5, events: [] });

/** A subscriber that records everything it is told. */
async function recorder(opts: Omit<KvEventSubscriberOptions, 'onBatch'>) {
  const seen = { seqs: [] as bigint[], ts: [] as number[], sources: new Set<string>(), gaps: [] as KvEventGap[], errors: [] as unknown[] };
  const sub = track(await KvEventSubscriber.create({
    onGap: (g) => seen.gaps.push(g),
    onError: (e) => seen.errors.push(e),
    ...opts,
    onBatch: (b, seq, source) => {
      seen.seqs.push(seq);
      seen.ts.push(b.ts);
      seen.sources.add(source.endpoint);
    },
  }));
  return { sub, seen };
}

/** Publisher whose PUB socket silently skips the seqs in `skip` (they are still buffered for replay). */
async function lossyPublisher(skip: Set<bigint>, opts: Partial<KvEventPublisherOptions> = {}): Promise<KvEventPublisher> {
  return track(await KvEventPublisher.create({ endpoint: 'tcp://127.0.0.1:*', replayEndpoint: 'tcp://127.0.0.1:*', skipPublish: (s) => skip.has(s), ...opts }));
}

/** Beat the slow joiner: publish probes until the subscriber has delivered the latest one. */
async function sync(pub: KvEventPublisher, sub: KvEventSubscriber): Promise<bigint> {
  const deadline = performance.now() + 5000;
  for (;;) {
    const target = pub.publish(probe());
    try {
      await waitFor(() => sub.lastSeq === target, 30);
      return target;
    } catch (e) {
      if (performance.now() > deadline) throw e;
    }
  }
}

const range = (from: bigint, to: bigint): bigint[] => Array.from({ length: Number(to - from + 1n) }, (_, i) => from + BigInt(i));

describe('KvEventSubscriber', () => {
  it('delivers batches in seq order with the source endpoint', async () => {
    const pub = await lossyPublisher(new Set());
    const { sub, seen } = await recorder({ endpoint: pub.endpoint, replayEndpoint: pub.replayEndpoint! });
    const base = await sync(pub, sub);
    for (let i = 1; i <= 50; i++) pub.publish(batch(i));
    await waitFor(() => sub.lastSeq === base + 50n);
    const after = seen.seqs.filter((s) => s > base);
    expect(after).toEqual(range(base + 1n, base + 50n));
    expect(seen.ts.slice(-50)).toEqual(Array.from({ length: 50 }, (_, i) => 1001 + i));
    expect([...seen.sources]).toEqual([pub.endpoint]);
    expect(seen.gaps).toEqual([]);
    expect(sub.gapsRepaired + sub.gapsUnrepaired).toBe(0);
  });

  it('repairs a gap from the replay buffer: every batch exactly once, in order', async () => {
    const skip = new Set<bigint>();
    const pub = await lossyPublisher(skip);
    const { sub, seen } = await recorder({ endpoint: pub.endpoint, replayEndpoint: pub.replayEndpoint! });
    const base = await sync(pub, sub);
    const firstSeen = seen.seqs.length;
    for (const s of [base + 2n, base + 3n, base + 4n]) skip.add(s);
    for (let i = 1; i <= 6; i++) pub.publish(batch(i));
    await waitFor(() => sub.lastSeq === base + 6n);
    expect(seen.seqs.slice(firstSeen)).toEqual(range(base + 1n, base + 6n));
    expect(seen.ts.slice(firstSeen)).toEqual([1001, 1002, 1003, 1004, 1005, 1006]);
    expect(seen.gaps).toEqual([{ expected: base + 2n, got: base + 5n, repaired: true }]);
    expect(sub.gapsRepaired).toBe(1);
    expect(sub.gapsUnrepaired).toBe(0);
    expect(sub.replayed).toBe(3);
    // Still healthy afterwards (the replay socket is reused or recreated cleanly).
    skip.add(base + 8n);
    for (let i = 7; i <= 9; i++) pub.publish(batch(i));
    await waitFor(() => sub.lastSeq === base + 9n);
    expect(seen.seqs.slice(firstSeen)).toEqual(range(base + 1n, base + 9n));
    expect(sub.gapsRepaired).toBe(2);
  });

  it('reports repaired:false when the replay buffer no longer holds the missed batches', async () => {
    const skip = new Set<bigint>();
    const pub = await lossyPublisher(skip, { bufferSteps: 2 });
    const { sub, seen } = await recorder({ endpoint: pub.endpoint, replayEndpoint: pub.replayEndpoint! });
    const base = await sync(pub, sub);
    const firstSeen = seen.seqs.length;
    for (let k = 1n; k <= 4n; k++) skip.add(base + k);
    for (let i = 1; i <= 5; i++) pub.publish(batch(i)); // ring now holds base+4, base+5 only
    await waitFor(() => sub.lastSeq === base + 5n);
    expect(seen.seqs.slice(firstSeen)).toEqual([base + 4n, base + 5n]);
    expect(seen.gaps).toEqual([{ expected: base + 1n, got: base + 4n, repaired: false }]);
    expect(sub.gapsUnrepaired).toBe(1);
    expect(sub.gapsRepaired).toBe(0);
  });

  it('reports repaired:false at once without a replay endpoint', async () => {
    const skip = new Set<bigint>();
    const pub = await lossyPublisher(skip);
    const { sub, seen } = await recorder({ endpoint: pub.endpoint });
    const base = await sync(pub, sub);
    skip.add(base + 1n);
    pub.publish(batch(1));
    pub.publish(batch(2));
    await waitFor(() => sub.lastSeq === base + 2n);
    expect(seen.gaps).toEqual([{ expected: base + 1n, got: base + 2n, repaired: false }]);
  });

  it('gives up after replayTimeoutMs when the replay server does not answer', async () => {
    const skip = new Set<bigint>();
    const pub = await lossyPublisher(skip);
    const mute = track(new zmq.Router({ linger: 0 }));
    await mute.bind('tcp://127.0.0.1:*');
    const { sub, seen } = await recorder({ endpoint: pub.endpoint, replayEndpoint: mute.lastEndpoint!, replayTimeoutMs: 100 });
    const base = await sync(pub, sub);
    skip.add(base + 1n);
    pub.publish(batch(1));
    pub.publish(batch(2));
    await waitFor(() => sub.lastSeq === base + 2n);
    expect(seen.gaps).toEqual([{ expected: base + 1n, got: base + 2n, repaired: false }]);
    expect(seen.errors).toEqual([]);
  });

  it('survives undecodable and malformed messages, and treats a seq reset as a publisher restart', async () => {
    const raw = track(new zmq.Publisher({ linger: 0 }));
    await raw.bind('tcp://127.0.0.1:*');
    const { sub, seen } = await recorder({ endpoint: raw.lastEndpoint! });
    let seq = 100;
    const send = async (payload: Uint8Array, s = seq++): Promise<void> => raw.send(['', encodeSeq(s), payload]);
    const deadline = performance.now() + 5000;
    while (sub.received === 0) {
      if (performance.now() > deadline) throw new Error('subscriber never joined');
      await send(encodeKvEventBatch(probe()));
      await waitFor(() => sub.received > 0, 30).catch(() => undefined);
    }
    await waitFor(() => sub.lastSeq === BigInt(seq - 1));
    const received = sub.received;
    await send(new Uint8Array([0xc1, 0x00])); // garbage payload
    await raw.send(['', Buffer.from([1, 2, 3]), encodeKvEventBatch(probe())]); // bad seq frame
    await raw.send(['only-two-frames', encodeSeq(0)]);
    await send(encodeKvEventBatch(batch(1)));
    await waitFor(() => sub.lastSeq === BigInt(seq - 1));
    expect(sub.received).toBe(received + 1);
    expect(seen.errors).toHaveLength(3);
    for (const e of seen.errors) expect(e).toBeInstanceOf(SwitchyardError);
    expect(seen.gaps).toEqual([]); // the undecodable message still consumed its seq
    const before = BigInt(seq - 1);
    await send(encodeKvEventBatch(batch(2)), 0); // the publisher restarted
    await waitFor(() => sub.lastSeq === 0n);
    expect(seen.gaps).toEqual([{ expected: before + 1n, got: 0n, repaired: false }]);
    expect(seen.ts.at(-1)).toBe(1002);
  });

  it('reports exceptions thrown by onBatch and keeps going; close() is idempotent', async () => {
    const pub = await lossyPublisher(new Set());
    const errors: unknown[] = [];
    const sub = await KvEventSubscriber.create({
      endpoint: pub.endpoint,
      onBatch: (b) => {
        if (b.ts === 1001) throw new Error('consumer bug');
      },
      onError: (e) => errors.push(e),
    });
    try {
      const base = await sync(pub, sub);
      pub.publish(batch(1));
      pub.publish(batch(2));
      await waitFor(() => sub.lastSeq === base + 2n);
      expect(errors).toEqual([new Error('consumer bug')]);
      expect(sub.errors).toBe(1);
    } finally {
      await Promise.all([sub.close(), sub.close()]);
    }
  });
});
