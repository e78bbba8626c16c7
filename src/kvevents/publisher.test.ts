/** KvEventPublisher on the wire, checked with raw zeromq sockets (independently of KvEventSubscriber). */
import * as zmq from 'zeromq';
import { describe, expect, it } from 'vitest';
import { SwitchyardError } from '../core/index.js';
import { decodeKvEventBatch, decodeKvEventBatchWithEncoding } from './codec.js';
import { KvEventPublisher } from './publisher.js';
import type { KvEventBatch } from './types.js';
import { decodeSeq, encodeSeq, isZmqTimeout } from './wire.js';
import { useCleanup, waitFor } from './test-support.js';

const track = useCleanup();

const batch = (i: number): KvEventBatch => ({
  ts: 1000 + i,
  events: [{ type: 'BlockStored', blockHashes: [BigInt(i)], parentBlockHash: null, tokenIds: [i, i + 1], blockSize: 2, loraId: null, medium: 'GPU' }],
});
const probe: KvEventBatch = { ts: 0.5, events: [] };

/** Beat the slow joiner: publish probes until the raw SUB has seen the latest one. Returns its seq. */
async function syncRawSub(pub: KvEventPublisher, sub: zmq.Subscriber): Promise<bigint> {
  const deadline = performance.now() + 5000;
  sub.receiveTimeout = 20;
  try {
    for (;;) {
      const target = pub.publish(probe);
      for (;;) {
        let frames: Buffer[];
        try {
          frames = await sub.receive();
        } catch (e) {
          if (!isZmqTimeout(e)) throw e;
          break; // nothing yet: publish another probe
        }
        if (decodeSeq(frames[1]!) === target) return target;
      }
      if (performance.now() > deadline) throw new Error('subscriber never joined');
    }
  } finally {
    sub.receiveTimeout = -1;
  }
}

async function rawSub(endpoint: string, topic = ''): Promise<zmq.Subscriber> {
  const sub = track(new zmq.Subscriber({ linger: 0 }));
  sub.subscribe(topic);
  sub.connect(endpoint);
  return sub;
}

describe('KvEventPublisher', () => {
  it('binds a random port and publishes [topic, seq BE, payload], seq +1 per batch, rank filled in', async () => {
    const pub = track(await KvEventPublisher.create({ endpoint: 'tcp://127.0.0.1:*', topic: 'kv@w1', dataParallelRank: 2, encoding: 'array' }));
    expect(pub.endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(pub.lastSeq).toBe(-1n);
    const sub = await rawSub(pub.endpoint, 'kv@w1');
    const base = await syncRawSub(pub, sub);
    for (let i = 0; i < 3; i++) pub.publish(batch(i));
    pub.publish({ ...batch(3), dataParallelRank: 0 }); // an explicit rank wins
    for (let i = 0; i < 4; i++) {
      const frames = await sub.receive();
      expect(frames).toHaveLength(3);
      expect(frames[0]!.toString()).toBe('kv@w1');
      expect(frames[1]).toHaveLength(8);
      expect(frames[1]!.readBigUInt64BE()).toBe(base + 1n + BigInt(i));
      const { batch: got, encoding } = decodeKvEventBatchWithEncoding(frames[2]!);
      expect(encoding).toBe('array');
      expect(got).toMatchObject({ ts: 1000 + i, dataParallelRank: i === 3 ? 0 : 2 });
    }
    expect(pub.lastSeq).toBe(base + 4n);
    await waitFor(() => pub.published === Number(base) + 5);
    expect(pub.dropped).toBe(0);
  });

  it('the first batch is seq 0 and port 0 means a random port', async () => {
    const pub = track(await KvEventPublisher.create({ endpoint: 'tcp://127.0.0.1:0' }));
    expect(pub.endpoint).not.toMatch(/:0$/);
    expect(pub.publish(batch(0))).toBe(0n);
    expect(pub.publish(batch(1))).toBe(1n);
  });

  it('publish() never blocks or throws without subscribers, and rejects bad batches without consuming a seq', async () => {
    const pub = track(await KvEventPublisher.create({ endpoint: 'tcp://127.0.0.1:*', hwm: 10 }));
    for (let i = 0; i < 5000; i++) pub.publish(batch(i));
    expect(() => pub.publish({ ts: 1, events: [{ type: 'BlockRemoved', blockHashes: [-1n], medium: null }] })).toThrow(SwitchyardError);
    expect(pub.lastSeq).toBe(4999n);
    await waitFor(() => pub.queued === 0);
    expect(pub.published + pub.dropped).toBe(5000);
  });

  it('can connect instead of bind (the consumer owns the port)', async () => {
    const sub = track(new zmq.Subscriber({ linger: 0 }));
    sub.subscribe('');
    await sub.bind('tcp://127.0.0.1:*');
    const pub = track(await KvEventPublisher.create({ endpoint: sub.lastEndpoint!, connect: true }));
    expect(pub.endpoint).toBe(sub.lastEndpoint);
    await syncRawSub(pub, sub);
  });

  it('serves replay over ROUTER: buffered batches from start_seq, then the end marker', async () => {
    const pub = track(await KvEventPublisher.create({ endpoint: 'tcp://127.0.0.1:*', replayEndpoint: 'tcp://127.0.0.1:*', bufferSteps: 5 }));
    for (let i = 0; i < 8; i++) pub.publish(batch(i)); // seqs 0..7; the ring keeps 3..7
    const dealer = track(new zmq.Dealer({ linger: 0, receiveTimeout: 5000 }));
    dealer.connect(pub.replayEndpoint!);

    const replay = async (request: Uint8Array[]): Promise<bigint[]> => {
      await dealer.send(request);
      const seqs: bigint[] = [];
      for (;;) {
        const frames = await dealer.receive();
        expect(frames).toHaveLength(3);
        expect(frames[0]).toHaveLength(0);
        const seq = decodeSeq(frames[1]!);
        if (seq === -1n) {
          expect([...frames[1]!]).toEqual([255, 255, 255, 255, 255, 255, 255, 255]);
          expect(frames[2]).toHaveLength(0);
          return seqs;
        }
        expect(decodeKvEventBatch(frames[2]!).ts).toBe(1000 + Number(seq));
        seqs.push(seq);
      }
    };
    expect(await replay([new Uint8Array(0), encodeSeq(5)])).toEqual([5n, 6n, 7n]);
    expect(await replay([new Uint8Array(0), encodeSeq(0)])).toEqual([3n, 4n, 5n, 6n, 7n]);
    expect(await replay([new Uint8Array(0), encodeSeq(8)])).toEqual([]);
    expect(await replay([encodeSeq(6)])).toEqual([6n, 7n]); // DEALER without the empty delimiter
  });

  it('survives an invalid replay request and keeps serving', async () => {
    const errors: unknown[] = [];
    const pub = track(await KvEventPublisher.create({ endpoint: 'tcp://127.0.0.1:*', replayEndpoint: 'tcp://127.0.0.1:*', onError: (e) => errors.push(e) }));
    pub.publish(batch(0));
    const dealer = track(new zmq.Dealer({ linger: 0, receiveTimeout: 5000 }));
    dealer.connect(pub.replayEndpoint!);
    await dealer.send([new Uint8Array(0), Buffer.from('a'), Buffer.from('b')]);
    await waitFor(() => errors.length === 1);
    expect(errors[0]).toBeInstanceOf(SwitchyardError);
    await dealer.send([new Uint8Array(0), encodeSeq(0)]);
    expect(decodeSeq((await dealer.receive())[1]!)).toBe(0n);
    expect(decodeSeq((await dealer.receive())[1]!)).toBe(-1n);
  });

  it('close() is idempotent, frees the port and makes publish() throw', async () => {
    const pub = await KvEventPublisher.create({ endpoint: 'tcp://127.0.0.1:*', replayEndpoint: 'tcp://127.0.0.1:*' });
    pub.publish(batch(0));
    await Promise.all([pub.close(), pub.close()]);
    await pub.close();
    expect(() => pub.publish(batch(1))).toThrow(/closed/);
    const again = track(await KvEventPublisher.create({ endpoint: pub.endpoint, replayEndpoint: pub.replayEndpoint! }));
    expect(again.endpoint).toBe(pub.endpoint);
  });

  it('reports a port that cannot be bound as unavailable', async () => {
    const pub = track(await KvEventPublisher.create({ endpoint: 'tcp://127.0.0.1:*' }));
    await expect(KvEventPublisher.create({ endpoint: pub.endpoint })).rejects.toMatchObject({ code: 'unavailable' });
  });
});
