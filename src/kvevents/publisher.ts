/**
 * KvEventPublisher — the TypeScript twin of vLLM's ZmqEventPublisher.
 *
 * PUB socket:    every publish() becomes [topic, seq:8 BE, msgpack(batch)]; seq starts at 0, +1 per batch.
 * ROUTER socket: (optional) replay. A request [identity, empty, start_seq:8 BE] (REQ/DEALER with the
 *                delimiter) or [identity, start_seq:8 BE] (DEALER without it) is answered with
 *                [identity, empty, seq, payload] for every buffered seq >= start_seq, then the end
 *                marker [identity, empty, 0xFF*8, empty].
 *
 * publish() is synchronous and never blocks: it encodes, assigns the seq, stores the payload in the
 * replay ring (last `bufferSteps` batches) and queues the frames; a single async loop drains the
 * queue into the PUB socket (zeromq allows one send in flight per socket). If the local queue ever
 * exceeds `maxQueue` the oldest queued message is dropped (counted in `dropped`) — it stays in the
 * replay ring, so subscribers can still repair the gap.
 */
import * as zmq from 'zeromq';
import { SwitchyardError } from '../core/index.js';
import { encodeKvEventBatch } from './codec.js';
import type { KvEventBatch, KvEventEncoding } from './types.js';
import { EMPTY_FRAME, REPLAY_END_FRAME, encodeSeq, wildcardPort } from './wire.js';

export interface KvEventPublisherOptions {
  /** PUB endpoint. Bound by default (the worker owns the port); `tcp://127.0.0.1:*` or `:0` picks a port. */
  endpoint: string;
  /** Connect the PUB socket to `endpoint` instead of binding it. */
  connect?: boolean;
  /** ROUTER endpoint for replay requests (always bound). Omit to disable replay. */
  replayEndpoint?: string;
  /** Default 'map' (current vLLM). */
  encoding?: KvEventEncoding;
  /** Default '' (vLLM's default). */
  topic?: string;
  /** Batches kept for replay. Default 10_000 (vLLM's buffer_steps). */
  bufferSteps?: number;
  /** Set on batches that carry no data_parallel_rank. */
  dataParallelRank?: number;
  /** PUB send high-water mark. Default 100_000 (vLLM's hwm). */
  hwm?: number;
  /** Max messages waiting for the PUB socket before the oldest is dropped. Default 100_000. */
  maxQueue?: number;
  /** Errors from the background loops (they keep running). Default: ignored. */
  onError?: (e: unknown) => void;
  /** Test hook: when true for a seq, the batch is buffered for replay but not sent on PUB. */
  skipPublish?: (seq: bigint) => boolean;
}

type Frames = [Uint8Array, Uint8Array, Uint8Array];

export class KvEventPublisher {
  /** Actual PUB address (with the real port when a wildcard was bound). */
  readonly endpoint: string;
  /** Actual ROUTER address, if replay is enabled. */
  readonly replayEndpoint: string | undefined;
  /** Messages handed to the PUB socket. */
  published = 0;
  /** Messages dropped from the local send queue (still replayable). */
  dropped = 0;

  private readonly topic: Buffer;
  private readonly encoding: KvEventEncoding;
  private readonly rank: number | undefined;
  private readonly maxQueue: number;
  private readonly onError: (e: unknown) => void;
  private readonly skipPublish: ((seq: bigint) => boolean) | undefined;
  private nextSeq = 0;
  // Replay ring: slot = seq % capacity.
  private readonly ringSeq: number[] = [];
  private readonly ringPayload: Uint8Array[] = [];
  private readonly capacity: number;
  // Send queue with a moving head (avoids O(n) shift).
  private queue: Frames[] = [];
  private head = 0;
  private sending: Promise<void> | null = null;
  private replayLoop: Promise<void> | null = null;
  private closing = false;
  private closed: Promise<void> | null = null;

  private constructor(
    private readonly pub: zmq.Publisher,
    private readonly router: zmq.Router | null,
    endpoint: string,
    replayEndpoint: string | undefined,
    opts: KvEventPublisherOptions,
  ) {
    this.endpoint = endpoint;
    this.replayEndpoint = replayEndpoint;
    this.topic = Buffer.from(opts.topic ?? '', 'utf8');
    this.encoding = opts.encoding ?? 'map';
    this.rank = opts.dataParallelRank;
    this.capacity = opts.bufferSteps ?? 10_000;
    this.maxQueue = opts.maxQueue ?? 100_000;
    this.onError = opts.onError ?? (() => undefined);
    this.skipPublish = opts.skipPublish;
  }

  static async create(opts: KvEventPublisherOptions): Promise<KvEventPublisher> {
    const steps = opts.bufferSteps ?? 10_000;
    if (!Number.isSafeInteger(steps) || steps < 0) throw new SwitchyardError('invalid_argument', `bufferSteps must be an integer >= 0, got ${steps}`);
    const pub = new zmq.Publisher({ linger: 0, sendHighWaterMark: opts.hwm ?? 100_000 });
    let router: zmq.Router | null = null;
    try {
      let endpoint = opts.endpoint;
      if (opts.connect === true) {
        pub.connect(endpoint);
      } else {
        await pub.bind(wildcardPort(endpoint));
        endpoint = pub.lastEndpoint ?? endpoint;
      }
      let replayEndpoint: string | undefined;
      if (opts.replayEndpoint !== undefined) {
        router = new zmq.Router({ linger: 0 });
        await router.bind(wildcardPort(opts.replayEndpoint));
        replayEndpoint = router.lastEndpoint ?? opts.replayEndpoint;
      }
      const p = new KvEventPublisher(pub, router, endpoint, replayEndpoint, opts);
      p.startReplay();
      return p;
    } catch (e) {
      pub.close();
      router?.close();
      throw new SwitchyardError('unavailable', `kv event publisher: cannot open ${opts.endpoint}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  /** Sequence number of the last published batch, -1n before the first. */
  get lastSeq(): bigint {
    return BigInt(this.nextSeq - 1);
  }

  /** Messages waiting for the PUB socket. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /**
   * Encode and queue a batch; returns its sequence number. Throws SwitchyardError('invalid_argument')
   * for an unencodable batch (no seq is consumed) and 'unavailable' after close().
   */
  publish(batch: KvEventBatch): bigint {
    if (this.closing) throw new SwitchyardError('unavailable', 'kv event publisher is closed');
    const withRank = (batch.dataParallelRank ?? null) === null && this.rank !== undefined ? { ...batch, dataParallelRank: this.rank } : batch;
    const payload = encodeKvEventBatch(withRank, this.encoding);
    const seq = this.nextSeq++;
    if (this.capacity > 0) {
      const slot = seq % this.capacity;
      this.ringSeq[slot] = seq;
      this.ringPayload[slot] = payload;
    }
    const seqBig = BigInt(seq);
    if (this.skipPublish?.(seqBig) === true) return seqBig;
    this.queue.push([this.topic, encodeSeq(seq), payload]);
    if (this.queued > this.maxQueue) {
      this.head++;
      this.dropped++;
    }
    this.sending ??= this.drain().catch((e: unknown) => this.onError(e));
    return seqBig;
  }

  private async drain(): Promise<void> {
    try {
      while (this.head < this.queue.length && !this.closing) {
        const frames = this.queue[this.head++];
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
        if (frames === undefined) continue;
        try {
          await this.pub.send(frames);
          this.published++;
        } catch (e) {
          if (this.closing) return;
          this.onError(e);
        }
      }
    } finally {
      this.sending = null;
    }
  }

  /** Buffered (seq, payload) pairs with seq >= start, oldest first. */
  private buffered(start: number): Array<[number, Uint8Array]> {
    const out: Array<[number, Uint8Array]> = [];
    const first = Math.max(start, this.nextSeq - this.capacity, 0);
    for (let seq = first; seq < this.nextSeq; seq++) {
      const slot = seq % this.capacity;
      const payload = this.ringPayload[slot];
      if (this.ringSeq[slot] === seq && payload !== undefined) out.push([seq, payload]);
    }
    return out;
  }

  private startReplay(): void {
    const router = this.router;
    if (router === null) return;
    this.replayLoop = (async () => {
      while (!this.closing) {
        let frames: Buffer[];
        try {
          frames = await router.receive();
        } catch (e) {
          if (this.closing) return;
          this.onError(e);
          continue;
        }
        try {
          await this.serveReplay(router, frames);
        } catch (e) {
          if (this.closing) return;
          this.onError(e);
        }
      }
    })();
  }

  private async serveReplay(router: zmq.Router, frames: Buffer[]): Promise<void> {
    const [id, a, b] = frames;
    const startFrame = frames.length === 3 && a?.length === 0 ? b : frames.length === 2 ? a : undefined;
    if (id === undefined || startFrame === undefined || startFrame.length === 0 || startFrame.length > 8) {
      this.onError(new SwitchyardError('invalid_argument', `invalid kv event replay request: ${frames.length} frames`));
      return;
    }
    // vLLM: int.from_bytes(start_seq_bytes, "big") — unsigned, any length up to 8.
    const start = Number(BigInt('0x' + startFrame.toString('hex')));
    for (const [seq, payload] of this.buffered(start)) {
      if (this.closing) return;
      await router.send([id, EMPTY_FRAME, encodeSeq(seq), payload]);
    }
    await router.send([id, EMPTY_FRAME, REPLAY_END_FRAME, EMPTY_FRAME]);
  }

  /** Stop the loops and close both sockets (linger 0). Queued, unsent messages are discarded. Idempotent. */
  async close(): Promise<void> {
    if (this.closed === null) {
      this.closing = true;
      this.pub.close();
      this.router?.close();
      this.closed = Promise.allSettled([this.sending, this.replayLoop]).then(() => undefined);
    }
    return this.closed;
  }
}
