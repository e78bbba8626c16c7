import { waitFor } from './wait.js';

/**
 * ZMQ subscriptions join asynchronously: send one small completion straight to each engine (the
 * i-th gets prompt `warm-up i`) until `received(engine)` says its KV events arrived where they
 * are needed (the gateway, an agent, …).
 */
export async function primeKvEvents<E extends { readonly url: string }>(engines: readonly E[], model: string, received: (engine: E, i: number) => boolean, opts: { timeoutMs?: number; what: (engine: E, i: number) => string }): Promise<void> {
  for (const [i, e] of engines.entries()) {
    await waitFor(
      async () => {
        await fetch(`${e.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, prompt: `warm-up ${i} `.repeat(20), max_tokens: 1 }) });
        return received(e, i);
      },
      { ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}), what: opts.what(e, i) },
    );
  }
}
