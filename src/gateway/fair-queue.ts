/**
 * Fair sharing under saturation: when a model's backends are at capacity, requests wait in a
 * queue per tenant, and a freed slot goes to the tenant that has received the least service,
 * weighted by its priority — the Virtual Token Counter (VTC) of "Fairness in Serving Large
 * Language Models" (Sheng et al., OSDI 2024), applied at the gateway.
 *
 *   capacity   = healthy endpoints of the model × maxInFlightPerEndpoint
 *   admit      = in flight < capacity and nobody is queued (no overtaking of waiting tenants)
 *   counter_t += (wIn · input + wOut · output tokens) / priority_t     charged on admission with
 *                the estimate, corrected at the end with the actual usage
 *   next       = the queued tenant with the smallest counter (FIFO within a tenant)
 *   joining    = a tenant that starts queueing with a counter below the smallest counter among
 *                tenants already queued or in flight is lifted to it (no banked credit from idle
 *                time, as in VTC)
 *
 * So a tenant that floods cannot starve another: each new slot goes to whoever is furthest
 * behind in weighted tokens. The queue is bounded (per model) and each wait has a timeout; both
 * answer 503 with Retry-After. Pure bookkeeping; timers come from the caller's clock.
 */
import { SwitchyardError } from '../core/index.js';
import type { RequestAbortSignal } from './upstream.js';

export interface FairQueueOptions {
  /** Requests in flight per healthy endpoint before requests queue. 0 = fair queueing off. */
  maxInFlightPerEndpoint: number;
  /** Queued requests per model; beyond it new requests get 503 at once. */
  maxQueue: number;
  /** Longest wait in the queue (ms) before a 503. */
  queueTimeoutMs: number;
  /** Weights of input and output tokens in the virtual counter (VTC uses output ≥ input). */
  inputWeight?: number;
  outputWeight?: number;
}

export interface FairTicket {
  readonly tenant: string;
  readonly model: string;
  /** Charged so far (estimate, then corrected). */
  charged: number;
  readonly weight: number;
}

interface Waiter {
  ticket: FairTicket;
  /** Estimated weighted cost, charged when admitted. */
  cost: number;
  resolve: (t: FairTicket) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
  done: boolean;
}

interface ModelState {
  inFlight: number;
  /** tenant → FIFO of waiters (insertion order of the Map is irrelevant: selection is by counter). */
  queues: Map<string, Waiter[]>;
  queued: number;
  /** Tenants with requests in flight: tenant → count (for the VTC lift). */
  active: Map<string, number>;
}

export interface FairQueueStats {
  readonly model: string;
  readonly inFlight: number;
  readonly capacity: number;
  readonly queued: Record<string, number>;
  readonly counters: Record<string, number>;
}

export class FairQueue {
  private readonly models = new Map<string, ModelState>();
  /** Virtual token counters per tenant (shared across models: service is service). */
  private readonly counters = new Map<string, number>();
  private readonly wIn: number;
  private readonly wOut: number;
  /** Requests rejected because the queue was full / waited too long. */
  rejectedFull = 0;
  timedOut = 0;

  constructor(
    private readonly o: FairQueueOptions,
    /** Healthy endpoints of a model now (capacity = that × maxInFlightPerEndpoint). */
    private readonly healthyEndpoints: (model: string) => number,
  ) {
    this.wIn = o.inputWeight ?? 1;
    this.wOut = o.outputWeight ?? 2;
  }

  get enabled(): boolean {
    return this.o.maxInFlightPerEndpoint > 0;
  }

  /**
   * Wait for a slot. Resolves at once when the model has room and nobody waits; otherwise when
   * VTC picks this tenant. @throws SwitchyardError unavailable (503) when the queue is full or
   * the wait times out; the signal's reason when the client goes away while waiting.
   */
  acquire(model: string, tenant: string, priority: number, est: { input: number; output: number }, signal?: RequestAbortSignal | AbortSignal): Promise<FairTicket> {
    const now = this.tryAcquire(model, tenant, priority, est);
    if (now !== null) return Promise.resolve(now);
    const m = this.state(model);
    const ticket: FairTicket = { tenant, model, charged: 0, weight: Math.max(1, priority) };
    const cost = (this.wIn * est.input + this.wOut * est.output) / ticket.weight;
    if (m.queued >= this.o.maxQueue) {
      this.rejectedFull++;
      return Promise.reject(new SwitchyardError('unavailable', `Model '${model}' is saturated and its queue is full (${this.o.maxQueue} waiting); retry shortly.`, { retryable: true, detail: { retryAfterMs: 1000 } }));
    }
    this.lift(m, tenant);
    return new Promise<FairTicket>((resolve, reject) => {
      const w: Waiter = { ticket, cost, resolve, reject, timer: undefined, done: false };
      let q = m.queues.get(tenant);
      if (q === undefined) m.queues.set(tenant, (q = []));
      q.push(w);
      m.queued++;
      const fail = (e: unknown): void => {
        if (w.done) return;
        w.done = true;
        clearTimeout(w.timer);
        this.drop(m, tenant, w);
        reject(e instanceof Error ? e : new SwitchyardError('invalid_request', 'the request was cancelled while queued'));
      };
      w.timer = setTimeout(() => {
        this.timedOut++;
        fail(new SwitchyardError('unavailable', `Model '${model}' is saturated: no slot within ${Math.round(this.o.queueTimeoutMs / 1000)} s in the fair queue; retry shortly.`, { retryable: true, detail: { retryAfterMs: 1000 } }));
      }, this.o.queueTimeoutMs);
      signal?.addEventListener('abort', () => fail(signal.reason));
    });
  }

  /**
   * The slot at once when the model has room and nobody waits (the usual case: no promise, no
   * event-loop hop); null when the request has to queue — then call acquire().
   */
  tryAcquire(model: string, tenant: string, priority: number, est: { input: number; output: number }): FairTicket | null {
    const m = this.state(model);
    if (m.queued !== 0 || m.inFlight >= this.capacity(model)) return null;
    const ticket: FairTicket = { tenant, model, charged: 0, weight: Math.max(1, priority) };
    this.start(m, ticket, (this.wIn * est.input + this.wOut * est.output) / ticket.weight);
    return ticket;
  }

  /** The request finished: correct its charge to the actual tokens and hand the slot on. */
  release(ticket: FairTicket, actual?: { input: number; output: number }): void {
    const m = this.state(ticket.model);
    if (actual !== undefined) {
      const real = (this.wIn * actual.input + this.wOut * actual.output) / ticket.weight;
      this.counters.set(ticket.tenant, (this.counters.get(ticket.tenant) ?? 0) + real - ticket.charged);
      ticket.charged = real;
    }
    m.inFlight--;
    const n = (m.active.get(ticket.tenant) ?? 1) - 1;
    if (n <= 0) m.active.delete(ticket.tenant);
    else m.active.set(ticket.tenant, n);
    this.pump(ticket.model, m);
  }

  stats(): FairQueueStats[] {
    return [...this.models].map(([model, m]) => ({
      model,
      inFlight: m.inFlight,
      capacity: this.capacity(model),
      queued: Object.fromEntries([...m.queues].map(([t, q]) => [t, q.length])),
      counters: Object.fromEntries([...new Set([...m.queues.keys(), ...m.active.keys()])].map((t) => [t, Math.round(this.counters.get(t) ?? 0)])),
    }));
  }

  private capacity(model: string): number {
    return Math.max(1, this.healthyEndpoints(model)) * this.o.maxInFlightPerEndpoint;
  }

  private state(model: string): ModelState {
    let m = this.models.get(model);
    if (m === undefined) this.models.set(model, (m = { inFlight: 0, queues: new Map(), queued: 0, active: new Map() }));
    return m;
  }

  private start(m: ModelState, ticket: FairTicket, cost: number): void {
    m.inFlight++;
    m.active.set(ticket.tenant, (m.active.get(ticket.tenant) ?? 0) + 1);
    ticket.charged = cost;
    this.counters.set(ticket.tenant, (this.counters.get(ticket.tenant) ?? 0) + cost);
  }

  /** VTC: a tenant (re)joining the backlog starts no lower than the least-served backlogged tenant. */
  private lift(m: ModelState, tenant: string): void {
    if (m.queues.get(tenant)?.length || m.active.has(tenant)) return;
    let min = Infinity;
    for (const t of m.queues.keys()) min = Math.min(min, this.counters.get(t) ?? 0);
    for (const t of m.active.keys()) min = Math.min(min, this.counters.get(t) ?? 0);
    if (min !== Infinity && (this.counters.get(tenant) ?? 0) < min) this.counters.set(tenant, min);
  }

  private pump(model: string, m: ModelState): void {
    while (m.queued > 0 && m.inFlight < this.capacity(model)) {
      let best: string | undefined;
      let bestC = Infinity;
      for (const [t, q] of m.queues) {
        if (q.length === 0) continue;
        const c = this.counters.get(t) ?? 0;
        if (c < bestC) [best, bestC] = [t, c];
      }
      if (best === undefined) return;
      const q = m.queues.get(best)!;
      const w = q.shift()!;
      if (q.length === 0) m.queues.delete(best);
      m.queued--;
      w.done = true;
      clearTimeout(w.timer);
      this.start(m, w.ticket, w.cost);
      w.resolve(w.ticket);
    }
  }

  private drop(m: ModelState, tenant: string, w: Waiter): void {
    const q = m.queues.get(tenant);
    if (!q) return;
    const i = q.indexOf(w);
    if (i < 0) return;
    q.splice(i, 1);
    m.queued--;
    if (q.length === 0) m.queues.delete(tenant);
  }
}
