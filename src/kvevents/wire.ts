/**
 * ZMQ framing shared by publisher and subscriber (vLLM ZmqEventPublisher):
 *   PUB message:    [topic, seq:8 BE, payload]
 *   replay request: [empty, start_seq:8 BE]            (ROUTER sees [identity, empty, start_seq])
 *   replay reply:   [empty, seq:8 BE, payload] ... then [empty, 0xFF*8 (-1 signed), empty]
 */
import { SwitchyardError } from '../core/index.js';
import { REPLAY_END_SEQ } from './types.js';

export const EMPTY_FRAME: Uint8Array = new Uint8Array(0);

/** 8-byte big-endian encoding of a sequence number (vLLM `seq.to_bytes(8, "big")`). */
export function encodeSeq(seq: bigint | number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigInt64BE(BigInt.asIntN(64, BigInt(seq)));
  return b;
}

/** The replay end marker, `(-1).to_bytes(8, "big", signed=True)`. */
export const REPLAY_END_FRAME: Buffer = encodeSeq(REPLAY_END_SEQ);

/** Reads an 8-byte big-endian sequence number; signed, so the end marker reads as -1n. */
export function decodeSeq(frame: Uint8Array, what = 'sequence frame'): bigint {
  if (frame.length !== 8) {
    throw new SwitchyardError('invalid_argument', `malformed kv event message: ${what} has ${frame.length} bytes, expected 8`);
  }
  return new DataView(frame.buffer, frame.byteOffset, 8).getBigInt64(0);
}

/** Rewrites a port of `0` to ZMQ's wildcard (`tcp://host:0` → `tcp://host:*`) for a random port. */
export function wildcardPort(endpoint: string): string {
  return endpoint.replace(/:0$/, ':*');
}

/** True for ZMQ's "operation timed out / socket closed" error (EAGAIN). */
export function isZmqTimeout(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'EAGAIN';
}
