import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { buildApp } from '../api/server.ts';
import type { Config } from '../config.ts';
import { jobHandlers } from '../jobs/handlers.ts';
import { JobRunner } from '../jobs/runner.ts';
import { openStore, type Store } from '../store/index.ts';
import { type BootstrapOutcome, bootstrap } from './bootstrap.ts';

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  store: Store;
  jobs: JobRunner;
  bootstrap: BootstrapOutcome;
  close(): Promise<void>;
}

export function createLogger(level: string): Logger {
  // Never log secrets: the Authorization header is redacted should a request object ever be logged.
  return pino({
    level,
    redact: ['req.headers.authorization', 'headers.authorization', '*.api_key', '*.pin'],
  });
}

/** Opens the database, seeds it on first start, serves the API and runs durable jobs. */
export async function startServer(
  config: Config,
  logger: Logger = createLogger(config.logLevel),
): Promise<RunningServer> {
  const store = await openStore(config.databaseUrl);
  try {
    const outcome = await bootstrap(store, { now: Date.now(), bootstrapApiKey: config.bootstrapApiKey });
    const app = await buildApp({ store, logger });
    const address = await app.listen({ host: config.host, port: config.port });
    const jobs = new JobRunner({ store, handlers: jobHandlers, logger });
    jobs.start();
    return {
      url: address,
      app,
      store,
      jobs,
      bootstrap: outcome,
      close: async () => {
        await jobs.stop();
        await app.close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** What a person sees at start-up: where the API is and which key opens it. */
export function startupBanner(server: RunningServer): string {
  const lines = [`Latchkey is serving the Seam-compatible API at ${server.url}`];
  lines.push(
    `  Dashboard:  ${server.url}/ (the API docs until the dashboard lands)`,
    `  API docs:   ${server.url}/docs`,
  );
  const b = server.bootstrap;
  if (b.created) {
    lines.push(
      `  Created the sandbox workspace "${b.seeded.workspace.name}" with ${b.seeded.devices.map((d) => `"${d.name}"`).join(' and ')}.`,
      `  API key:    ${b.seeded.api_key}`,
      '  (shown once; it is stored hashed)',
      `  Try: curl -H "Authorization: Bearer ${b.seeded.api_key}" ${server.url}/devices/list`,
    );
  } else if (b.bootstrapKeyValid === true) {
    lines.push('  API key:    the one in LATCHKEY_BOOTSTRAP_API_KEY');
  } else {
    lines.push('  Existing database: use your API key, or create one with `latchkey key create`.');
  }
  return lines.join('\n');
}
