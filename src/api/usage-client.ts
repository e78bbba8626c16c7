/**
 * RemoteUsageSink: how a gateway that follows a remote control plane reports usage. Records
 * are buffered in memory (bounded) and sent in batches with `POST /api/v1/usage`, retried with
 * backoff while the control plane is unreachable; `close()` sends what is left. Records carry
 * requestId + ts, so a batch the server stored but whose answer was lost is not counted twice
 * when it is sent again.
 */
import { BatchBuffer, type BatchBufferOptions } from './batch-buffer.js';
import type { SwitchyardClient } from './client.js';
import { MAX_USAGE_RECORDS_PER_POST, type UsageRecord, type UsageSink } from './usage.js';

export interface RemoteUsageSinkOptions extends Omit<BatchBufferOptions<UsageRecord>, 'write'> {
  /** A client of the control plane whose token may write usage (admin, or a cluster agent token). */
  client: Pick<SwitchyardClient, 'postUsage'>;
}

export class RemoteUsageSink implements UsageSink {
  private readonly buffer: BatchBuffer<UsageRecord>;

  constructor(o: RemoteUsageSinkOptions) {
    const { client, ...rest } = o;
    const maxBatch = Math.min(rest.maxBatch ?? 1000, MAX_USAGE_RECORDS_PER_POST);
    this.buffer = new BatchBuffer<UsageRecord>({ ...rest, maxBatch, write: (batch) => client.postUsage(batch) });
  }

  /** Queue one finished request's usage (synchronous, never blocks). */
  record(r: UsageRecord): void {
    this.buffer.push(r);
  }

  /** Send everything queued now; false if a send failed (it is retried later). */
  flush(): Promise<boolean> {
    return this.buffer.flush();
  }

  /** Records held (waiting and being sent). */
  get buffered(): number {
    return this.buffer.size;
  }

  /** Records given up on (buffer full, refused by the server, or unsent at close). */
  get dropped(): number {
    return this.buffer.dropped;
  }

  /** Send what is left (one attempt), then stop. */
  close(): Promise<void> {
    return this.buffer.close();
  }
}
