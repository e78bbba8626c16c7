import { afterAll, describe, it } from 'vitest';

/** A real server a test file needs (PostgreSQL, Redis): available or not (and why), started lazily, stopped once. */
export interface TestServer {
  readonly available: boolean;
  readonly reason: string;
  url(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Register a suite that needs `server`. Skipped (with the reason in its name) when none is
 * available, but under CI (`process.env.CI`) a missing server is a failing test instead.
 */
export function describeWithServer<S extends TestServer>(what: string, server: S, name: string, body: (server: S) => void): void {
  if (!server.available && process.env.CI) {
    describe(name, () => {
      it(`has ${what} (required in CI)`, () => {
        throw new Error(`${server.reason}. CI must run the ${what} tests: see .ci/run`);
      });
    });
    return;
  }
  describe.skipIf(!server.available)(server.available ? name : `${name} (skipped: ${server.reason})`, () => {
    afterAll(() => server.stop());
    body(server);
  });
}
