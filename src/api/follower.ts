/**
 * Follow resources of the admin API: list every kind once, then watch from the oldest list's
 * resourceVersion, resuming after a dropped stream and listing again only when the server says
 * the version is gone (410). What the follower has seen stays with its user while the control
 * plane is unreachable ("serve the last known state"). Used by gateways (the routing table and
 * API keys) and cluster agents (their Deployments).
 *
 * Reconnects back off from `backoff.initial` to `backoff.max`, doubling; the back-off starts over
 * only once a list or a watch went through, so an outage is reported once (`onLost`) and retried
 * ever more slowly, not every `initial` ms.
 */
import { RealClock, SwitchyardError, type Clock, type TimerHandle } from '../core/index.js';
import type { ApiWatchEvent, ListResult } from './client.js';
import type { AnyResource, Kind } from './kinds.js';

/** What the follower needs of the admin API (SwitchyardClient satisfies it). */
export interface FollowSource {
  list(kind: Kind): Promise<ListResult<AnyResource>>;
  watch(opts: { resourceVersion?: string; kinds?: readonly Kind[]; signal?: AbortSignal; onOpen?: () => void }): AsyncGenerator<ApiWatchEvent>;
}

export interface ResourceFollowerOptions {
  source: FollowSource;
  kinds: readonly Kind[];
  /** A complete list of every kind (the first sync, and after a 410): replace what you hold. */
  onList: (lists: ReadonlyMap<Kind, readonly AnyResource[]>) => void;
  /** One change after the last list. */
  onEvent: (ev: ApiWatchEvent) => void;
  /** The control plane became unreachable (once per outage), with why. */
  onLost?: (error: unknown) => void;
  /** Reconnect back-off bounds (ms). Default 250 ms to 10 s. */
  backoff?: { initial: number; max: number };
  clock?: Clock;
}

export class ResourceFollower {
  private readonly abort = new AbortController();
  private readonly clock: Clock;
  private loop: Promise<void> | null = null;
  private synced!: () => void;
  private wake: (() => void) | null = null;
  private timer: TimerHandle | undefined;
  /** Resolves after the first complete list. */
  readonly ready: Promise<void> = new Promise((r) => (this.synced = r));
  /** Whether the last list or watch went through (false during an outage). */
  connected = false;

  constructor(private readonly o: ResourceFollowerOptions) {
    this.clock = o.clock ?? new RealClock();
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.clock.clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const backoff = this.o.backoff ?? { initial: 250, max: 10_000 };
    const signal = this.abort.signal;
    let delay = backoff.initial;
    let rv: string | undefined;
    const reached = (): void => {
      this.connected = true;
      delay = backoff.initial;
    };
    while (!signal.aborted) {
      try {
        if (rv === undefined) {
          rv = await this.list();
          reached();
        }
        for await (const ev of this.o.source.watch({ resourceVersion: rv, kinds: this.o.kinds, signal, onOpen: reached })) {
          rv = ev.resourceVersion;
          this.o.onEvent(ev);
        }
        // The server ended the stream (e.g. it is shutting down): reconnect.
      } catch (e) {
        if (signal.aborted) break;
        if (e instanceof SwitchyardError && e.code === 'gone') rv = undefined;
        if (this.connected) this.o.onLost?.(e);
        this.connected = false;
      }
      if (signal.aborted) break;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = this.clock.setTimeout(resolve, delay);
      });
      this.wake = null;
      delay = Math.min(backoff.max, delay * 2);
    }
  }

  /** Full list of every kind; returns the resourceVersion to watch from (the oldest list's). */
  private async list(): Promise<string> {
    let minRv: number | undefined;
    const lists = new Map<Kind, readonly AnyResource[]>();
    for (const k of this.o.kinds) {
      const list = await this.o.source.list(k);
      lists.set(k, list.items);
      minRv = Math.min(minRv ?? Infinity, Number(list.resourceVersion));
    }
    this.o.onList(lists);
    this.synced();
    return String(minRv ?? 0);
  }
}
