/**
 * Encode/decode vLLM KV-event batches (msgpack) in both wire encodings — see ./types.ts.
 *
 * array:  [ts:f64, [event...], data_parallel_rank?]
 *         ["BlockStored", block_hashes, parent_block_hash, token_ids, block_size, lora_id, medium, lora_name?]
 *         ["BlockRemoved", block_hashes, medium]
 *         ["AllBlocksCleared"]
 * map:    {ts:f64, events:[...], data_parallel_rank?}
 *         {type:"BlockStored", block_hashes, parent_block_hash, token_ids, block_size, lora_id, medium, lora_name}
 *         {type:"BlockRemoved", block_hashes, medium}    {type:"AllBlocksCleared"}
 *
 * Decoding is tolerant the way msgspec is across vLLM versions: array events may lack trailing
 * optional fields (lora_id, medium, lora_name → null) or carry extra ones (ignored); map events may
 * carry unknown keys (ignored). Each event is decoded by its own container type, so the two forms
 * may even be mixed. Decoded batches are normalised: `dataParallelRank` and BlockStored's
 * `loraName` are always present (null when absent on the wire).
 */
import { SwitchyardError } from '../core/index.js';
import { isArrayByte, isMapByte, msgpackTypeName, strTable } from './msgpack-format.js';
import { MsgpackReader } from './msgpack-reader.js';
import { encodeBatchInto } from './encode.js';
import { MsgpackWriter } from './msgpack-writer.js';
import type { BlockRemoved, BlockStored, KvCacheEvent, KvEventBatch, KvEventEncoding } from './types.js';

const scratch = new MsgpackWriter(64 * 1024);

// Known strings, matched by bytes (no string allocation on the hot path). Indexes are the T_/K_/B_ constants.
const TAGS = strTable(['BlockStored', 'BlockRemoved', 'AllBlocksCleared']);
const T_STORED = 0;
const T_REMOVED = 1;
const BATCH_KEYS = strTable(['ts', 'events', 'data_parallel_rank']);
const B_TS = 0;
const B_EVENTS = 1;
const B_RANK = 2;
const EVENT_KEYS = strTable(['type', 'block_hashes', 'parent_block_hash', 'token_ids', 'block_size', 'lora_id', 'medium', 'lora_name']);
const [K_TYPE, K_HASHES, K_PARENT, K_TOKENS, K_BLOCK_SIZE, K_LORA_ID, K_MEDIUM, K_LORA_NAME] = [0, 1, 2, 3, 4, 5, 6, 7];
const MEDIUMS = strTable(['GPU', 'CPU', 'DISK']);

/**
 * Encode a batch. Hashes must be bigint in [0, 2^64); token ids, block size, lora id and rank safe
 * integers; anything else throws SwitchyardError('invalid_argument'). Returns a right-sized copy.
 */
export function encodeKvEventBatch(batch: KvEventBatch, encoding: KvEventEncoding = 'map'): Uint8Array {
  scratch.reset();
  encodeBatchInto(scratch, batch, encoding);
  return scratch.toBytes();
}

/** Decode a batch in either encoding. Malformed input throws SwitchyardError('invalid_argument'). */
export function decodeKvEventBatch(bytes: Uint8Array): KvEventBatch {
  return decodeKvEventBatchWithEncoding(bytes).batch;
}

/** Decode and report which encoding the producer used. */
export function decodeKvEventBatchWithEncoding(bytes: Uint8Array): { batch: KvEventBatch; encoding: KvEventEncoding } {
  if (!(bytes instanceof Uint8Array)) {
    throw new SwitchyardError('invalid_argument', 'malformed kv event batch: expected bytes (Uint8Array)');
  }
  try {
    const r = new MsgpackReader(bytes);
    const b = r.peek('batch');
    let result: { batch: KvEventBatch; encoding: KvEventEncoding };
    if (isArrayByte(b)) result = { batch: decodeArrayBatch(r), encoding: 'array' };
    else if (isMapByte(b)) result = { batch: decodeMapBatch(r), encoding: 'map' };
    else return r.fail('batch', `expected array or map, got ${msgpackTypeName(b)}`);
    r.expectEnd('batch');
    return result;
  } catch (e) {
    if (e instanceof SwitchyardError) throw e;
    // Defensive: a bug in the reader must still surface as a decode error, not a raw TypeError.
    const message = e instanceof Error ? e.message : String(e);
    throw new SwitchyardError('invalid_argument', `malformed kv event batch: ${message}`, { cause: e });
  }
}

function decodeArrayBatch(r: MsgpackReader): KvEventBatch {
  const n = r.readArrayLen('batch');
  if (n < 2) r.fail('batch', `array has ${n} elements, expected [ts, events, data_parallel_rank?]`);
  const ts = readTs(r);
  const events = decodeEvents(r);
  const dataParallelRank = n >= 3 ? readOptInt(r, 'data_parallel_rank') : null;
  for (let i = 3; i < n; i++) r.skip('batch');
  return { ts, events, dataParallelRank };
}

function decodeMapBatch(r: MsgpackReader): KvEventBatch {
  const n = r.readMapLen('batch');
  let ts: number | undefined;
  let events: KvCacheEvent[] | undefined;
  let dataParallelRank: number | null = null;
  for (let i = 0; i < n; i++) {
    const key = r.matchStr('batch key', BATCH_KEYS);
    if (key === B_TS) ts = readTs(r);
    else if (key === B_EVENTS) events = decodeEvents(r);
    else if (key === B_RANK) dataParallelRank = readOptInt(r, 'data_parallel_rank');
    else r.skip(r.readStr('batch key'));
  }
  if (ts === undefined) return r.fail('batch', 'missing key "ts"');
  if (events === undefined) return r.fail('batch', 'missing key "events"');
  return { ts, events, dataParallelRank };
}

function decodeEvents(r: MsgpackReader): KvCacheEvent[] {
  const n = r.readArrayLen('events');
  const events: KvCacheEvent[] = [];
  for (let i = 0; i < n; i++) {
    r.eventIndex = i;
    const b = r.peek('event');
    if (isArrayByte(b)) events.push(decodeArrayEvent(r));
    else if (isMapByte(b)) events.push(decodeMapEvent(r));
    else r.fail('event', `expected array or map, got ${msgpackTypeName(b)}`);
  }
  r.eventIndex = -1;
  return events;
}

function decodeArrayEvent(r: MsgpackReader): KvCacheEvent {
  const n = r.readArrayLen('event');
  if (n < 1) r.fail('event', 'empty array, expected a type tag first');
  const tag = readTag(r);
  let used: number;
  let event: KvCacheEvent;
  if (tag === T_STORED) {
    if (n < 5) r.fail('event', `BlockStored has ${n - 1} fields, need at least 4 (block_hashes, parent_block_hash, token_ids, block_size)`);
    event = {
      type: 'BlockStored',
      blockHashes: readHashes(r, 'block_hashes'),
      parentBlockHash: r.tryNil('parent_block_hash') ? null : r.readHash('parent_block_hash'),
      tokenIds: r.readIntArray('token_ids'),
      blockSize: readBlockSize(r),
      loraId: n > 5 ? readOptInt(r, 'lora_id') : null,
      medium: n > 6 ? readOptStr(r, 'medium') : null,
      loraName: n > 7 ? readOptStr(r, 'lora_name') : null,
    };
    used = 8;
  } else if (tag === T_REMOVED) {
    if (n < 2) r.fail('event', 'BlockRemoved has no block_hashes');
    event = { type: 'BlockRemoved', blockHashes: readHashes(r, 'block_hashes'), medium: n > 2 ? readOptStr(r, 'medium') : null };
    used = 3;
  } else {
    event = { type: 'AllBlocksCleared' };
    used = 1;
  }
  for (let i = used; i < n; i++) r.skip('event');
  return event;
}

function decodeMapEvent(r: MsgpackReader): KvCacheEvent {
  const n = r.readMapLen('event');
  let type = -1;
  let blockHashes: bigint[] | undefined;
  let parentBlockHash: bigint | null = null;
  let tokenIds: number[] | undefined;
  let blockSize: number | undefined;
  let loraId: number | null = null;
  let medium: string | null = null;
  let loraName: string | null = null;
  for (let i = 0; i < n; i++) {
    switch (r.matchStr('event key', EVENT_KEYS)) {
      case K_TYPE: type = readTag(r); break;
      case K_HASHES: blockHashes = readHashes(r, 'block_hashes'); break;
      case K_PARENT: parentBlockHash = r.tryNil('parent_block_hash') ? null : r.readHash('parent_block_hash'); break;
      case K_TOKENS: tokenIds = r.readIntArray('token_ids'); break;
      case K_BLOCK_SIZE: blockSize = readBlockSize(r); break;
      case K_LORA_ID: loraId = readOptInt(r, 'lora_id'); break;
      case K_MEDIUM: medium = readOptStr(r, 'medium'); break;
      case K_LORA_NAME: loraName = readOptStr(r, 'lora_name'); break;
      default: r.skip(r.readStr('event key'));
    }
  }
  if (type === T_STORED) {
    if (blockHashes === undefined) return r.fail('event', 'BlockStored missing key "block_hashes"');
    if (tokenIds === undefined) return r.fail('event', 'BlockStored missing key "token_ids"');
    if (blockSize === undefined) return r.fail('event', 'BlockStored missing key "block_size"');
    const e: BlockStored = { type: 'BlockStored', blockHashes, parentBlockHash, tokenIds, blockSize, loraId, medium, loraName };
    return e;
  }
  if (type === T_REMOVED) {
    if (blockHashes === undefined) return r.fail('event', 'BlockRemoved missing key "block_hashes"');
    const e: BlockRemoved = { type: 'BlockRemoved', blockHashes, medium };
    return e;
  }
  if (type === -1) return r.fail('event', 'missing key "type"');
  return { type: 'AllBlocksCleared' };
}

/** The event type tag as a TAGS index; an unknown tag is an error. */
function readTag(r: MsgpackReader): number {
  const t = r.matchStr('type', TAGS);
  if (t >= 0) return t;
  return r.fail('type', `unknown event type ${JSON.stringify(r.readStr('type'))}`);
}

function readHashes(r: MsgpackReader, what: string): bigint[] {
  const n = r.readArrayLen(what);
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) out.push(r.readHash(what));
  return out;
}

/** block_size: an int. The very first vLLM release sent `num_toks_per_block: list[int]` here instead. */
function readBlockSize(r: MsgpackReader): number {
  if (isArrayByte(r.peek('block_size'))) return r.readIntArray('block_size')[0] ?? 0;
  const n = r.readInt('block_size');
  if (n < 0) r.fail('block_size', `must be >= 0, got ${n}`);
  return n;
}

function readTs(r: MsgpackReader): number {
  const ts = r.readFloat('ts');
  if (!Number.isFinite(ts)) r.fail('ts', `expected a finite number, got ${ts}`);
  return ts;
}

function readOptInt(r: MsgpackReader, what: string): number | null {
  return r.tryNil(what) ? null : r.readInt(what);
}

function readOptStr(r: MsgpackReader, what: string): string | null {
  if (r.tryNil(what)) return null;
  const known = r.matchStr(what, MEDIUMS);
  return known >= 0 ? (MEDIUMS.strings[known] ?? null) : r.readStr(what);
}
