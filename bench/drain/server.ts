// Child of bench/drain.ts: a Latchkey server exactly as `latchkey serve` runs it (startServer, from the
// environment), printing `READY <json>` once it listens. It samples its own event-loop delay; on SIGTERM it
// prints `STATS <json>` (the delay's p50/p99/max since the last `SIGUSR2`, in ms) and exits through
// process.exit after closing the server.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startServer } from '../../src/app/serve.ts';
import { loadConfig } from '../../src/config.ts';

const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
const server = await startServer(loadConfig(process.env));
process.stdout.write(`READY ${JSON.stringify({ url: server.url })}\n`);
// The parent resets the histogram when the drain starts, so the figures cover the drain alone.
process.on('SIGUSR2', () => delay.reset());
process.on('SIGTERM', () => {
  const ms = (ns: number) => Math.round(ns / 1e5) / 10;
  process.stdout.write(
    `STATS ${JSON.stringify({ loop_p50: ms(delay.percentile(50)), loop_p99: ms(delay.percentile(99)), loop_max: ms(delay.max) })}\n`,
  );
  void server
    .close()
    .catch(() => {})
    .finally(() => process.exit(0));
});
