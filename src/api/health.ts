import type { FastifyInstance } from 'fastify';
import { CompiledQuery } from 'kysely';
import type { Logger } from 'pino';
import type { Db } from '../store/index.ts';
import { ApiError } from './errors.ts';

/** Compiled once: the cheapest statement both dialects answer only when the database does. */
const PROBE = CompiledQuery.raw('select 1');

/** A database that neither answers nor fails (a hung connection attempt) is unhealthy after this long. */
export const HEALTH_TIMEOUT_MS = 3_000;

/**
 * GET /health: 200 `{"ok": true}` when this process serves and its database answers a trivial query; 503
 * `service_unavailable` in the Seam error envelope otherwise. No API key, no rate limit (it is not a Seam
 * route), nothing of the database's error in the answer. One probe at a time: while one is in flight, every
 * check waits on it, so a load balancer polling a hung database piles up neither connections nor queries.
 */
export function registerHealth(
  app: FastifyInstance,
  options: { db: Db; logger?: Logger | undefined; timeoutMs?: number },
): void {
  const timeoutMs = options.timeoutMs ?? HEALTH_TIMEOUT_MS;
  let inFlight: Promise<void> | null = null;
  const probe = (): Promise<void> => {
    inFlight ??= options.db
      .executeQuery(PROBE)
      .then(() => undefined)
      .finally(() => {
        inFlight = null;
      });
    return inFlight;
  };

  app.get('/health', async () => {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        probe(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (error) {
      // The error's message only (a driver error object can carry connection details): no query, no URL.
      options.logger?.warn(
        { reason: error instanceof Error ? error.message : String(error) },
        'health: the database did not answer',
      );
      throw new ApiError(503, 'service_unavailable', 'The database is not answering.');
    } finally {
      clearTimeout(timer);
    }
    return { ok: true };
  });
}
