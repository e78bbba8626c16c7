import { afterEach, describe, expect, it, vi } from 'vitest';
import { SwitchyardError } from '../core/index.js';
import { FairQueue, type FairTicket } from './fair-queue.js';

const EST = { input: 100, output: 100 };

function queue(cap = 1, extra: Partial<ConstructorParameters<typeof FairQueue>[0]> = {}): FairQueue {
  return new FairQueue({ maxInFlightPerEndpoint: cap, maxQueue: 100, queueTimeoutMs: 60_000, ...extra }, () => 1);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('FairQueue (VTC)', () => {
  it('admits at once below capacity, queues at capacity', async () => {
    const q = queue(2);
    const a = await q.acquire('m', 'a', 1, EST);
    await q.acquire('m', 'a', 1, EST);
    let third: FairTicket | undefined;
    void q.acquire('m', 'b', 1, EST).then((t) => (third = t));
    await Promise.resolve();
    expect(third).toBeUndefined();
    expect(q.stats()[0]).toMatchObject({ inFlight: 2, capacity: 2, queued: { b: 1 } });
    q.release(a, EST);
    await Promise.resolve();
    expect(third?.tenant).toBe('b');
  });

  it('a flooding tenant cannot starve another: slots alternate by least service', async () => {
    const q = queue(1);
    let cur = await q.acquire('m', 'flood', 1, EST);
    const order: string[] = [];
    const pending = new Set<FairTicket>();
    for (let i = 0; i < 10; i++) void q.acquire('m', 'flood', 1, EST).then((t) => (order.push(t.tenant), pending.add(t)));
    for (let i = 0; i < 3; i++) void q.acquire('m', 'light', 1, EST).then((t) => (order.push(t.tenant), pending.add(t)));
    for (let i = 0; i < 13; i++) {
      q.release(cur, EST);
      await new Promise((r) => setImmediate(r));
      cur = [...pending][0]!;
      pending.delete(cur);
    }
    // FIFO would serve the light tenant after all 10 of the flood; VTC interleaves them.
    expect(order).toHaveLength(13);
    expect(order.slice(0, 6).filter((t) => t === 'light').length).toBe(3);
  });

  it('priority weights the share: a tenant with priority 3 gets ~3 slots per 1 of a priority-1 tenant', async () => {
    const q = queue(1);
    let cur = await q.acquire('m', 'x', 1, EST);
    const order: string[] = [];
    const pending = new Set<FairTicket>();
    for (let i = 0; i < 12; i++) {
      void q.acquire('m', 'hi', 3, EST).then((t) => (order.push('hi'), pending.add(t)));
      void q.acquire('m', 'lo', 1, EST).then((t) => (order.push('lo'), pending.add(t)));
    }
    for (let i = 0; i < 16; i++) {
      q.release(cur, EST);
      await new Promise((r) => setImmediate(r));
      cur = [...pending][0]!;
      pending.delete(cur);
    }
    const hi = order.filter((t) => t === 'hi').length;
    const lo = order.filter((t) => t === 'lo').length;
    expect(hi + lo).toBe(16);
    expect(hi / lo).toBeGreaterThanOrEqual(2.5);
    expect(hi / lo).toBeLessThanOrEqual(3.5);
  });

  it('a tenant idle for a while does not bank credit (VTC lift)', async () => {
    const q = queue(1);
    // "busy" gets a lot of service alone.
    for (let i = 0; i < 20; i++) q.release(await q.acquire('m', 'busy', 1, EST), EST);
    const hold = await q.acquire('m', 'busy', 1, EST);
    const order: string[] = [];
    const pending = new Set<FairTicket>();
    for (let i = 0; i < 4; i++) void q.acquire('m', 'busy', 1, EST).then((t) => (order.push('busy'), pending.add(t)));
    // newcomer arrives with counter 0 but is lifted to busy's level: it does not get 4 slots in a row.
    for (let i = 0; i < 4; i++) void q.acquire('m', 'new', 1, EST).then((t) => (order.push('new'), pending.add(t)));
    let cur = hold;
    for (let i = 0; i < 8; i++) {
      q.release(cur, EST);
      await new Promise((r) => setImmediate(r));
      cur = [...pending][0]!;
      pending.delete(cur);
    }
    expect(order.slice(0, 4).filter((t) => t === 'busy').length).toBeGreaterThanOrEqual(1);
  });

  it('bounded: a full queue and a timed-out wait answer 503; an aborted wait leaves the queue', async () => {
    vi.useFakeTimers();
    const q = queue(1, { maxQueue: 2, queueTimeoutMs: 5000 });
    await q.acquire('m', 'a', 1, EST);
    const w1 = q.acquire('m', 'a', 1, EST);
    const ac = new AbortController();
    const w2 = q.acquire('m', 'b', 1, EST, ac.signal);
    await expect(q.acquire('m', 'c', 1, EST)).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/queue is full/) });
    ac.abort(new SwitchyardError('invalid_request', 'client disconnected'));
    await expect(w2).rejects.toMatchObject({ message: 'client disconnected' });
    expect(q.stats()[0]!.queued).toEqual({ a: 1 });
    vi.advanceTimersByTime(5001);
    await expect(w1).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/no slot within 5 s/) });
    expect(q.timedOut).toBe(1);
    expect(q.rejectedFull).toBe(1);
  });
});
