/**
 * KvEventSubscriber — consumes a vLLM-style KV-event stream (SUB [topic, seq:8 BE, payload]) and
 * delivers batches to `onBatch` in strict sequence order, exactly once, repairing gaps via replay.
 *
 * Sequence handling (one message at a time, so ordering is structural):
 * - first message: taken as the baseline (a late joiner cannot recover history anyway);
 * - seq == last+1: delivered;
 * - seq >  last+1 (missed messages): replay is requested from last+1 over a DEALER socket
 *   ([empty, seq:8 BE]; the publisher's ROUTER answers [empty, seq, payload]... then the end marker
 *   seq -1). Replayed batches with last < seq < current are delivered in order until current-1 is
 *   reached, the end marker arrives, or `replayTimeoutMs` passes; then the current message;
 * - seq <= last (the publisher restarted and counts from 0 again): delivered as a new baseline.
 *
 * `onGap` reports every discontinuity: repaired:true once a gap was fully filled by replay (called
 * before the current message is delivered); repaired:false right before delivering a batch that does
 * not follow the previous one (replay disabled, buffer overflowed, timeout, or restart when
 * got < expected) — the consumer decides, e.g. drops that backend's cache entries.
 * Undecodable messages go to `onError` (their seq still counts as consumed); so do exceptions thrown
 * by the callbacks. The subscriber keeps running until close().
 */
import * as zmq from 'zeromq';
import { SwitchyardError } from '../core/index.js';
import { decodeKvEventBatch } from './codec.js';
import type { KvEventBatch } from './types.js';
import { REPLAY_END_SEQ } from './types.js';
import { EMPTY_FRAME, decodeSeq, encodeSeq, isZmqTimeout } from './wire.js';

export interface KvEventGap {
  /** The seq that should have come next. */
  expected: bigint;
  /** The seq that came (or is about to be delivered) instead. */
  got: bigint;
  repaired: boolean;
}

export interface KvEventSubscriberOptions {
  endpoint: string;
  /** The publisher's ROUTER endpoint; without it gaps cannot be repaired. */
  replayEndpoint?: string;
  /** Topic prefix to subscribe to. Default '' (everything). */
  topic?: string;
  onBatch: (batch: KvEventBatch, seq: bigint, source: { endpoint: string }) => void;
  onGap?: (info: KvEventGap) => void;
  onError?: (e: unknown) => void;
  /** Max time to wait for a replay to fill a gap. Default 1000 ms. */
  replayTimeoutMs?: number;
  /** SUB receive high-water mark (messages held while a replay is in progress). Default 100_000. */
  hwm?: number;
}

export class KvEventSubscriber {
  readonly endpoint: string;
  /** Last delivered (or consumed) seq; -1n before the first message. */
  lastSeq = -1n;
  /** Batches delivered to onBatch (live and replayed). */
  received = 0;
  /** Batches of those that came from replay. */
  replayed = 0;
  gapsRepaired = 0;
  gapsUnrepaired = 0;
  /** Errors passed to onError (undecodable messages, callback exceptions, socket errors). */
  errors = 0;

  private readonly source: { endpoint: string };
  private readonly replayEndpoint: string | undefined;
  private readonly replayTimeoutMs: number;
  private dealer: zmq.Dealer | null = null;
  private started = false;
  private closing = false;
  private loop: Promise<void> | null = null;
  private closed: Promise<void> | null = null;

  private constructor(
    private readonly sub: zmq.Subscriber,
    private readonly opts: KvEventSubscriberOptions,
  ) {
    this.endpoint = opts.endpoint;
    this.source = Object.freeze({ endpoint: opts.endpoint });
    this.replayEndpoint = opts.replayEndpoint;
    this.replayTimeoutMs = opts.replayTimeoutMs ?? 1000;
  }

  static async create(opts: KvEventSubscriberOptions): Promise<KvEventSubscriber> {
    const sub = new zmq.Subscriber({ linger: 0, receiveHighWaterMark: opts.hwm ?? 100_000 });
    try {
      sub.subscribe(opts.topic ?? '');
      sub.connect(opts.endpoint);
    } catch (e) {
      sub.close();
      throw new SwitchyardError('unavailable', `kv event subscriber: cannot connect to ${opts.endpoint}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    const s = new KvEventSubscriber(sub, opts);
    s.loop = s.run();
    return s;
  }

  private report(e: unknown): void {
    this.errors++;
    try {
      this.opts.onError?.(e);
    } catch {
      // An onError that throws must not kill the loop.
    }
  }

  private async run(): Promise<void> {
    while (!this.closing) {
      let frames: Buffer[];
      try {
        frames = await this.sub.receive();
      } catch (e) {
        if (this.closing) return;
        this.report(e);
        continue;
      }
      try {
        await this.handle(frames);
      } catch (e) {
        if (this.closing) return;
        this.report(e);
      }
    }
  }

  private async handle(frames: Buffer[]): Promise<void> {
    const seqFrame = frames[1];
    const payload = frames[2];
    if (frames.length !== 3 || seqFrame === undefined || payload === undefined) {
      this.report(new SwitchyardError('invalid_argument', `malformed kv event message: ${frames.length} frames, expected 3`));
      return;
    }
    const seq = decodeSeq(seqFrame);
    const expected = this.lastSeq + 1n;
    if (this.started && seq > expected) {
      await this.repair(expected, seq);
      if (this.closing) return;
    } else if (this.started && seq < expected) {
      this.gap(expected, seq, false);
    }
    this.started = true;
    this.deliver(seq, payload, false);
  }

  private gap(expected: bigint, got: bigint, repaired: boolean): void {
    if (repaired) this.gapsRepaired++;
    else this.gapsUnrepaired++;
    try {
      this.opts.onGap?.({ expected, got, repaired });
    } catch (e) {
      this.report(e);
    }
  }

  private deliver(seq: bigint, payload: Uint8Array, fromReplay: boolean): void {
    this.lastSeq = seq;
    let batch: KvEventBatch;
    try {
      batch = decodeKvEventBatch(payload);
    } catch (e) {
      this.report(e);
      return;
    }
    this.received++;
    if (fromReplay) this.replayed++;
    try {
      this.opts.onBatch(batch, seq, this.source);
    } catch (e) {
      this.report(e);
    }
  }

  /** Fill [from, to) from the publisher's replay buffer, delivering in order. */
  private async repair(from: bigint, to: bigint): Promise<void> {
    const dealer = this.replayEndpoint === undefined ? null : this.replaySocket(this.replayEndpoint);
    let next = from;
    let holes = false;
    let clean = false; // saw the end marker: nothing stale left on the socket
    if (dealer !== null) {
      const deadline = performance.now() + this.replayTimeoutMs;
      try {
        dealer.sendTimeout = Math.max(1, Math.ceil(this.replayTimeoutMs));
        await dealer.send([EMPTY_FRAME, encodeSeq(from)]);
        while (next < to) {
          const remaining = Math.ceil(deadline - performance.now());
          if (remaining <= 0) break;
          dealer.receiveTimeout = remaining;
          const reply = await dealer.receive();
          // [empty, seq, payload]; tolerate a ROUTER that omits the delimiter.
          const [seqFrame, payload] = reply.length === 3 && reply[0]?.length === 0 ? reply.slice(1) : reply;
          if (seqFrame === undefined || payload === undefined) throw new SwitchyardError('invalid_argument', `malformed kv event replay reply: ${reply.length} frames`);
          const rseq = decodeSeq(seqFrame, 'replay sequence frame');
          if (rseq === REPLAY_END_SEQ) {
            clean = true;
            break;
          }
          if (rseq < next || rseq >= to) continue;
          if (rseq > next) {
            holes = true;
            this.gap(next, rseq, false);
          }
          this.deliver(rseq, payload, true);
          next = rseq + 1n;
        }
      } catch (e) {
        if (this.closing) return;
        if (!isZmqTimeout(e)) this.report(e);
      }
      // Replies to this request may still be in flight; a fresh socket guarantees none are mistaken
      // for answers to the next request.
      if (!clean) this.resetReplaySocket();
    }
    if (next < to) this.gap(next, to, false);
    else if (!holes) this.gap(from, to, true);
  }

  private replaySocket(endpoint: string): zmq.Dealer {
    if (this.dealer === null) {
      this.dealer = new zmq.Dealer({ linger: 0 });
      this.dealer.connect(endpoint);
    }
    return this.dealer;
  }

  private resetReplaySocket(): void {
    this.dealer?.close();
    this.dealer = null;
  }

  /** Stop receiving and close the sockets. Idempotent. */
  async close(): Promise<void> {
    if (this.closed === null) {
      this.closing = true;
      this.sub.close();
      this.resetReplaySocket();
      this.closed = (this.loop ?? Promise.resolve()).then(() => undefined);
    }
    return this.closed;
  }
}
