import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { RateLimit } from '../../src/api/rate-limit.ts';
import { buildApp } from '../../src/api/server.ts';
import { bootstrap } from '../../src/app/bootstrap.ts';
import { createServices } from '../../src/app/serve.ts';
import type { Services } from '../../src/app/services.ts';
import { type CreatedWorkspace, createWorkspace } from '../../src/app/workspaces.ts';
import type { JobRunnerGroup } from '../../src/jobs/runner.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import type { TestDatabase, TestDialect } from './databases.ts';

export const TEST_API_KEY = 'seam_test_bootstrap_key_0123456789';

export interface TestServer {
  url: string;
  apiKey: string;
  store: Store;
  database: TestDatabase;
  /** The seeded sandbox workspace. */
  sandbox: CreatedWorkspace;
  /** Pins or moves the server's real clock (workspace clocks follow it). */
  clock: { now: number };
  services: Services;
  /** The job runner (not started: tests run due jobs explicitly, or start it). */
  jobs: JobRunnerGroup;
  /** Another workspace with its own key and locks, for isolation tests. */
  createOtherWorkspace(is_sandbox?: boolean): Promise<CreatedWorkspace>;
  close(): Promise<void>;
}

/** A real server on 127.0.0.1, port 0, on a fresh database of the given dialect. */
export async function startTestServer(
  dialect: TestDialect,
  options: {
    rateLimit?: RateLimit;
    /** Bearer token that /metrics requires (LATCHKEY_METRICS_TOKEN). */
    metricsToken?: string;
    /** Fastify's trustProxy (LATCHKEY_TRUST_PROXY). */
    trustProxy?: boolean | string[];
  } = {},
): Promise<TestServer> {
  const database = await dialect.create();
  const store = await openStore(database.url);
  const clock = { now: Date.now() };
  const logger = pino({ level: 'silent' });
  const { services, jobs } = createServices(store, randomBytes(32), logger, () => clock.now);
  const outcome = await bootstrap(services, { now: clock.now, bootstrapApiKey: TEST_API_KEY });
  if (!outcome.created) throw new Error('test database was not empty');
  const app = await buildApp({
    services,
    logger,
    rateLimit: options.rateLimit ?? null,
    metricsToken: options.metricsToken ?? null,
    ...(options.trustProxy === undefined ? {} : { trustProxy: options.trustProxy }),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    apiKey: TEST_API_KEY,
    store,
    database,
    sandbox: outcome.seeded,
    clock,
    services,
    jobs,
    createOtherWorkspace: (is_sandbox = true) =>
      createWorkspace(services, { name: 'Other', is_sandbox, now: clock.now }),
    close: async () => {
      await jobs.stop();
      await app.close();
      await store.close();
      await database.drop();
    },
  };
}

/**
 * Raw HTTP helper on node:http (fetch refuses GET with a body, which the seed's cURL examples send).
 * Returns status, headers and the parsed JSON body.
 */
export async function call(
  server: Pick<TestServer, 'url' | 'apiKey'>,
  path: string,
  init: {
    method?: string;
    body?: unknown;
    rawBody?: string;
    key?: string | null;
    headers?: Record<string, string>;
  } = {},
) {
  const headers: Record<string, string> = { ...init.headers };
  const key = init.key === undefined ? server.apiKey : init.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  let body: string | undefined = init.rawBody;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  const { status, responseHeaders, text } = await new Promise<{
    status: number;
    responseHeaders: Headers;
    text: string;
  }>((resolve, reject) => {
    const req = http.request(`${server.url}${path}`, { method: init.method ?? 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
        resolve({
          status: res.statusCode ?? 0,
          responseHeaders: h,
          text: Buffer.concat(chunks).toString('utf8'),
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies ad hoc
  let json: any;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status, headers: responseHeaders, json, text };
}
