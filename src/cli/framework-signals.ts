/** SIGINT/SIGTERM → AbortSignal, installed only while a command runs. */

export interface SignalScope {
  signal: AbortSignal;
  /** Remove the handlers. */
  dispose(): void;
}

export interface SignalOptions {
  /** Told once when the first signal arrives. */
  notify: (message: string) => void;
  /** Called on the second signal; defaults to process.exit. */
  exit: (code: number) => void;
  signals?: readonly NodeJS.Signals[];
  /** Where signals are delivered; defaults to `process` (tests pass an EventEmitter). */
  source?: SignalSource;
}

/** The subset of `process` used to listen for signals. */
export interface SignalSource {
  on(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

/**
 * The first signal aborts the returned signal (reason: an AbortError naming the signal) so the
 * command can shut down gracefully; a second one calls exit(130) at once.
 */
export function installSignalHandlers(opts: SignalOptions): SignalScope {
  const controller = new AbortController();
  const signals = opts.signals ?? (['SIGINT', 'SIGTERM'] as const);
  // Node passes the signal name to process signal listeners.
  const onSignal = (sig: NodeJS.Signals): void => {
    if (!controller.signal.aborted) {
      opts.notify(`received ${sig}, shutting down (send it again to force)\n`);
      controller.abort(new DOMException(`interrupted by ${sig}`, 'AbortError'));
      return;
    }
    opts.exit(130);
  };
  const source: SignalSource = opts.source ?? process;
  for (const s of signals) source.on(s, onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      for (const s of signals) source.off(s, onSignal);
    },
  };
}
