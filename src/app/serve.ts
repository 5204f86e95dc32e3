import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { buildApp } from '../api/server.ts';
import { BuiltinCodeProvider } from '../codeserver/builtin.ts';
import { loadMasterKey, verifyMasterKey } from '../codeserver/master-key.ts';
import { ProviderRegistry } from '../codeserver/registry.ts';
import type { Config } from '../config.ts';
import { jobHandlers, networkJobHandlers } from '../jobs/handlers.ts';
import { JobRunner, JobRunnerGroup, type JobRunnerOptions } from '../jobs/runner.ts';
import { openStore, type Store } from '../store/index.ts';
import { type BootstrapOutcome, bootstrap } from './bootstrap.ts';
import type { Services } from './services.ts';
import type { NetworkPolicy } from './webhook-sender.ts';

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  store: Store;
  jobs: JobRunnerGroup;
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
  const masterKey = loadMasterKey({ fromEnv: config.masterKey, dataDir: config.dataDir });
  const store = await openStore(config.databaseUrl);
  try {
    await verifyMasterKey(store.db, masterKey, config); // before anything is sealed or served
    const { services, jobs } = createServices(
      store,
      masterKey,
      logger,
      Date.now,
      { allowPrivateNetworks: config.webhookAllowPrivate },
      // Postgres: lifecycle jobs mostly wait on round trips and commits; four at a time drain a backlog faster.
      { concurrency: store.dialect === 'postgres' ? 4 : 1 },
    );
    const outcome = await bootstrap(services, { now: Date.now(), bootstrapApiKey: config.bootstrapApiKey });
    const rate = config.rateLimitPerSecond;
    const app = await buildApp({
      services,
      logger,
      rateLimit: rate > 0 ? { perSecond: rate, burst: 2 * rate } : null,
      metricsToken: config.metricsToken ?? null,
      trustProxy: config.trustProxy,
    });
    const address = await app.listen({ host: config.host, port: config.port });
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

/**
 * The services of one server process, with the runners that drive its durable jobs: one for the lock and
 * code work, one for jobs that call other servers (a slow receiver must never hold up an access code's lifecycle).
 */
export function createServices(
  store: Store,
  masterKey: Buffer,
  logger: Logger,
  realNow: () => number = Date.now,
  network: NetworkPolicy = { allowPrivateNetworks: true },
  mainRunner: Pick<JobRunnerOptions, 'concurrency'> = {},
): { services: Services; jobs: JobRunnerGroup } {
  const codes = new BuiltinCodeProvider(masterKey);
  const services: Services = {
    store,
    codes,
    providers: new ProviderRegistry(codes, masterKey, realNow),
    masterKey,
    network,
    realNow,
    // advance_clock: lifecycle steps happen at once; webhook attempts follow on their runner's next poll.
    runDueJobs: async () => {
      await main.runDue();
    },
  };
  const networkKinds = Object.keys(networkJobHandlers);
  const main = new JobRunner({
    services,
    handlers: jobHandlers,
    logger,
    realNow,
    kinds: { except: networkKinds },
    ...mainRunner,
  });
  // Jobs that wait on other servers (webhook receivers, remote code servers) run apart, and keep retrying
  // for hours: an outage there must neither block nor lose anything.
  const outbound = new JobRunner({
    services,
    handlers: networkJobHandlers,
    logger,
    realNow,
    maxAttempts: 25,
    kinds: { only: networkKinds },
  });
  return { services, jobs: new JobRunnerGroup([main, outbound]) };
}

/** What a person sees at start-up: where the API is and which key opens it. */
export function startupBanner(server: RunningServer): string {
  const lines = [`Latchkey is serving the Seam-compatible API at ${server.url}`];
  lines.push(`  Dashboard:  ${server.url}/`, `  API docs:   ${server.url}/docs`);
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
