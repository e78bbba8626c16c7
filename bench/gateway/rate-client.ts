/**
 * Child-process entry of the constant-rate generator, so its CPU is not the orchestrator's:
 * `node --import tsx bench/gateway/rate-client.ts '<RateSpec JSON>'` prints one RateResult JSON.
 */
import { runRate, type RateSpec } from './loadgen.js';

const arg = process.argv[2];
if (!arg) {
  process.stderr.write('usage: rate-client.ts <RateSpec JSON>\n');
  process.exit(2);
}
runRate(JSON.parse(arg) as RateSpec).then(
  (r) => {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    process.exit(0);
  },
  (e: unknown) => {
    process.stderr.write(`rate-client: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
