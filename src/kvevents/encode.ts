/**
 * Batch → msgpack, in vLLM's field order (wire formats in ./codec.ts). Validates as it writes:
 * a bad value throws SwitchyardError('invalid_argument') naming the field, and nothing is sent.
 *
 * msgspec `omit_defaults`: the batch's data_parallel_rank is omitted when null (it has a default);
 * in the array form, BlockStored's lora_name is appended only when non-null (trailing default).
 * Map-form events always carry every field (vLLM's fields have no defaults there).
 */
import { SwitchyardError } from '../core/index.js';
import { encodedStr } from './msgpack-writer.js';
import type { MsgpackWriter } from './msgpack-writer.js';
import type { KvCacheEvent, KvEventBatch, KvEventEncoding } from './types.js';

const K = {
  ts: encodedStr('ts'),
  events: encodedStr('events'),
  rank: encodedStr('data_parallel_rank'),
  type: encodedStr('type'),
  blockHashes: encodedStr('block_hashes'),
  parent: encodedStr('parent_block_hash'),
  tokenIds: encodedStr('token_ids'),
  blockSize: encodedStr('block_size'),
  loraId: encodedStr('lora_id'),
  medium: encodedStr('medium'),
  loraName: encodedStr('lora_name'),
  BlockStored: encodedStr('BlockStored'),
  BlockRemoved: encodedStr('BlockRemoved'),
  AllBlocksCleared: encodedStr('AllBlocksCleared'),
};

const U64_MAX = 0xffff_ffff_ffff_ffffn;
/** Pre-encoded common medium values. */
const MEDIUM_BYTES = new Map(['GPU', 'CPU', 'DISK'].map((m) => [m, encodedStr(m)] as const));

function bad(path: string, message: string): never {
  throw new SwitchyardError('invalid_argument', `cannot encode kv event batch: ${path}: ${message}`, { param: path });
}

export function encodeBatchInto(w: MsgpackWriter, batch: KvEventBatch, encoding: KvEventEncoding): void {
  if (typeof batch !== 'object' || batch === null) bad('batch', 'expected an object');
  if (encoding !== 'array' && encoding !== 'map') bad('encoding', `expected 'array' or 'map', got ${String(encoding)}`);
  const { ts, events } = batch;
  if (typeof ts !== 'number' || !Number.isFinite(ts)) bad('ts', 'expected a finite number');
  if (!isArray(events)) bad('events', 'expected an array');
  const rank = batch.dataParallelRank ?? null;
  if (rank !== null) checkInt(rank, 'data_parallel_rank');
  const asMap = encoding === 'map';
  if (asMap) {
    w.mapHeader(rank === null ? 2 : 3);
    w.raw(K.ts);
  } else {
    w.arrayHeader(rank === null ? 2 : 3);
  }
  w.float64(ts);
  if (asMap) w.raw(K.events);
  w.arrayHeader(events.length);
  for (let i = 0; i < events.length; i++) writeEvent(w, events[i], asMap, i);
  if (rank !== null) {
    if (asMap) w.raw(K.rank);
    w.int(rank);
  }
}

function writeEvent(w: MsgpackWriter, e: KvCacheEvent | undefined, asMap: boolean, i: number): void {
  if (typeof e !== 'object' || e === null) bad(`events[${i}]`, 'expected an event object');
  switch (e.type) {
    case 'BlockStored': {
      const withLoraName = asMap || (e.loraName !== undefined && e.loraName !== null);
      if (asMap) w.mapHeader(8);
      else w.arrayHeader(withLoraName ? 8 : 7);
      field(w, asMap, K.type, K.BlockStored);
      if (asMap) w.raw(K.blockHashes);
      writeHashes(w, e.blockHashes, i);
      if (asMap) w.raw(K.parent);
      if (e.parentBlockHash === null) w.nil();
      else w.uint64(checkHash(e.parentBlockHash, `events[${i}].parent_block_hash`));
      if (asMap) w.raw(K.tokenIds);
      writeInts(w, e.tokenIds, `events[${i}].token_ids`);
      if (asMap) w.raw(K.blockSize);
      w.int(checkInt(e.blockSize, `events[${i}].block_size`));
      if (asMap) w.raw(K.loraId);
      if (e.loraId === null || e.loraId === undefined) w.nil();
      else w.int(checkInt(e.loraId, `events[${i}].lora_id`));
      if (asMap) w.raw(K.medium);
      optStr(w, e.medium, `events[${i}].medium`);
      if (withLoraName) {
        if (asMap) w.raw(K.loraName);
        optStr(w, e.loraName, `events[${i}].lora_name`);
      }
      return;
    }
    case 'BlockRemoved':
      if (asMap) w.mapHeader(3);
      else w.arrayHeader(3);
      field(w, asMap, K.type, K.BlockRemoved);
      if (asMap) w.raw(K.blockHashes);
      writeHashes(w, e.blockHashes, i);
      if (asMap) w.raw(K.medium);
      optStr(w, e.medium, `events[${i}].medium`);
      return;
    case 'AllBlocksCleared':
      if (asMap) w.mapHeader(1);
      else w.arrayHeader(1);
      field(w, asMap, K.type, K.AllBlocksCleared);
      return;
    default:
      bad(`events[${i}].type`, `unknown event type ${JSON.stringify((e as { type?: unknown }).type)}`);
  }
}

/** The tag: `"type": tag` in a map, a bare leading element in an array. */
function field(w: MsgpackWriter, asMap: boolean, key: Uint8Array, value: Uint8Array): void {
  if (asMap) w.raw(key);
  w.raw(value);
}

function writeHashes(w: MsgpackWriter, hashes: readonly bigint[], i: number): void {
  if (!isArray(hashes)) bad(`events[${i}].block_hashes`, 'expected an array of bigint');
  w.arrayHeader(hashes.length);
  for (let j = 0; j < hashes.length; j++) w.uint64(checkHash(hashes[j], `events[${i}].block_hashes[${j}]`));
}

function writeInts(w: MsgpackWriter, xs: readonly number[], path: string): void {
  if (!isArray(xs)) bad(path, 'expected an array of integers');
  w.arrayHeader(xs.length);
  for (let j = 0; j < xs.length; j++) {
    const x = xs[j];
    if (!Number.isSafeInteger(x)) bad(`${path}[${j}]`, `expected a safe integer, got ${String(x)}`);
    w.int(x as number);
  }
}

function optStr(w: MsgpackWriter, s: string | null | undefined, path: string): void {
  if (s === null || s === undefined) w.nil();
  else if (typeof s === 'string') {
    const known = MEDIUM_BYTES.get(s);
    if (known !== undefined) w.raw(known);
    else w.str(s);
  }
  else bad(path, 'expected a string or null');
}

function checkHash(h: unknown, path: string): bigint {
  if (typeof h !== 'bigint' || h < 0n || h > U64_MAX) bad(path, `expected a bigint in [0, 2^64), got ${String(h)}`);
  return h;
}

function checkInt(n: unknown, path: string): number {
  if (!Number.isSafeInteger(n)) bad(path, `expected a safe integer, got ${String(n)}`);
  return n as number;
}

/** Array check without narrowing (Array.isArray would widen typed arrays to any[]). */
function isArray(x: unknown): boolean {
  return Array.isArray(x);
}
