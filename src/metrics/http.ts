import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ApiError } from '../api/errors.ts';
import type { Db } from '../store/index.ts';
import { QueueMetrics } from './queue.ts';
import { httpRequestDuration, registry, UNMATCHED_ROUTE } from './registry.ts';

export interface MetricsOptions {
  db: Db;
  /** The real clock (the job runners' clock): job lag is measured against it plus each workspace's offset. */
  realNow: () => number;
  /** When set, /metrics answers only `Authorization: Bearer <token>`; when null or empty it is open. */
  token?: string | null | undefined;
  logger?: Logger | undefined;
}

/** Node's HTTP parser accepts only known methods; anything else would still get one label, not one each. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * Times every request into the route histogram (labelled by the route's pattern, never its URL) and serves
 * GET /metrics in the Prometheus text format. /metrics is outside the Seam routes: no API key, no rate
 * limit, not in the OpenAPI document.
 */
export function registerMetrics(app: FastifyInstance, options: MetricsOptions): void {
  const queue = new QueueMetrics(options.db, options.realNow);
  const expected = options.token ? digest(options.token) : null;

  app.addHook('onResponse', async (request, reply) => {
    httpRequestDuration.observe(
      {
        method: METHODS.has(request.method) ? request.method : 'OTHER',
        route: request.routeOptions.url ?? UNMATCHED_ROUTE,
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });

  app.get('/metrics', async (request, reply) => {
    if (expected && !bearerMatches(request.headers.authorization, expected)) {
      throw new ApiError(401, 'unauthorized', 'Send the metrics token as "Authorization: Bearer <token>".');
    }
    try {
      await queue.refresh();
    } catch (error) {
      queue.failed();
      options.logger?.warn({ err: error }, 'metrics: reading the job queue failed');
    }
    const text = [await registry.metrics(), await queue.registry.metrics()].join('\n');
    return reply.header('cache-control', 'no-store').type(registry.contentType).send(text);
  });
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Compares digests, so neither the token nor its length leaks through timing. */
function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return timingSafeEqual(digest(match?.[1] ?? ''), expected) && match !== null;
}
