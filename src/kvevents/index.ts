/**
 * vLLM KV-cache events: wire types, msgpack codec (array and map encodings), and the ZMQ
 * publisher (PUB + replay ROUTER) / subscriber (SUB + gap repair) pair.
 */
export * from './types.js';
export { encodeKvEventBatch, decodeKvEventBatch, decodeKvEventBatchWithEncoding } from './codec.js';
export { KvEventPublisher } from './publisher.js';
export type { KvEventPublisherOptions } from './publisher.js';
export { KvEventSubscriber } from './subscriber.js';
export type { KvEventGap, KvEventSubscriberOptions } from './subscriber.js';
export { encodeSeq, decodeSeq, REPLAY_END_FRAME } from './wire.js';
export { KvEventFeeds } from './feeds.js';
export type { KvEventFeedsOptions, KvFeedSource, KvFeedStats } from './feeds.js';
