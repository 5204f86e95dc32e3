import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { hashApiKey } from '../app/api-keys.ts';
import type { Services } from '../app/services.ts';
import { WebhookUrlError } from '../app/webhook-sender.ts';
import { AccessCodeRuleError } from '../domain/access-codes/rule-error.ts';
import type { WorkspaceRecord } from '../domain/records.ts';
import { workspaceNow } from '../domain/time.ts';
import { registerIgloohomeApi } from '../igloohome/index.ts';
import { LockStorageFullError } from '../lock/index.ts';
import { registerMetrics } from '../metrics/http.ts';
import type { Store } from '../store/index.ts';
import { InvalidCursorError } from '../store/list-options.ts';
import { findWorkspaceByKeyHash } from '../store/repos/workspaces.ts';
import { registerDashboard } from '../web/serve-dashboard.ts';
import { clientErrorHandler } from './client-errors.ts';
import { coerceQuery } from './coerce.ts';
import { ApiError, type ErrorBody, invalidInput } from './errors.ts';
import { registerHealth } from './health.ts';
import { buildOpenApiDocument, registerDocs } from './openapi.ts';
import { parseQuery } from './query.ts';
import { KeyRateLimiter, type RateLimit } from './rate-limit.ts';
import type { RouteDefinition } from './route.ts';
import { routes as allRoutes } from './routes/index.ts';

export interface AppOptions {
  services: Services;
  logger: Logger;
  bodyLimitBytes?: number;
  routes?: readonly RouteDefinition[];
  /** Per-key request rate; null: unlimited (tests). */
  rateLimit?: RateLimit | null;
  /** Bearer token that /metrics requires; null or unset: /metrics is open. */
  metricsToken?: string | null;
  /** Fastify's `trustProxy` (LATCHKEY_TRUST_PROXY): which peers' X-Forwarded-Proto/-For count; unset: none. */
  trustProxy?: boolean | string[];
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { services, logger } = options;
  const limiter = options.rateLimit ? new KeyRateLimiter(options.rateLimit) : null;
  const { store, realNow } = services;
  const routes = options.routes ?? allRoutes;

  const app = Fastify({
    logger: false,
    genReqId: () => randomUUID(),
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    // A client must send its whole request within 30 s (Node checks every 30 s), its headers within 15 s; an
    // idle keep-alive connection is closed after 65 s. Slow clients cannot hold connections open for ever.
    requestTimeout: 30_000,
    keepAliveTimeout: 65_000,
    routerOptions: { querystringParser: parseQuery, ignoreTrailingSlash: true },
    clientErrorHandler,
    trustProxy: options.trustProxy ?? false,
  });
  // Fastify has no option for it: headers must arrive within 15 s (Node's default, 60 s, exceeds the request's 30 s).
  app.server.headersTimeout = 15_000;
  // The seed's cURL examples send GET with a JSON body: let Fastify parse bodies on GET too.
  app.addHttpMethod('GET', { hasBody: true, overrideExisting: true });
  // An empty body with a JSON content type (DELETE from some clients) means "no parameters", not an error.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new ApiError(400, 'invalid_input', 'The request body is not valid JSON.'), undefined);
    }
  });

  // Old SDKs (1.x) POST parameterless reads with an empty form-encoded body; treat forms like query strings.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, parseQuery(String(body))),
  );

  app.addHook('onRequest', async (request, reply) => {
    reply.header('seam-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    // One line per request. The query string is left out: it can carry PINs (access_codes/get?code=).
    logger.info(
      {
        req_id: request.id,
        method: request.method,
        path: request.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
  });

  app.setErrorHandler((error, request, reply) => sendError(reply, toApiError(error, request, logger)));
  const knownPaths = new Set(routes.map((r) => r.path));
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const error = knownPaths.has(path.replace(/\/$/, ''))
      ? new ApiError(405, 'method_not_allowed', `${request.method} is not allowed on ${path}.`)
      : new ApiError(404, 'route_not_found', `No route ${path}.`);
    return sendError(reply, error);
  });

  registerHealth(app, { db: store.db, logger });
  registerMetrics(app, { db: store.db, realNow, token: options.metricsToken, logger });
  await registerDashboard(app);

  const document = buildOpenApiDocument(routes);
  app.get('/openapi.json', async () => document);
  await registerDocs(app, document);
  await registerIgloohomeApi(app, services, { logger });

  for (const route of routes) {
    app.route({
      method: [...route.methods],
      url: route.path,
      handler: async (request, reply) => {
        const { workspace, keyHash } = await authenticate(store, request);
        const waitMs = limiter?.take(keyHash) ?? 0;
        if (waitMs > 0) {
          reply.header('retry-after', String(Math.ceil(waitMs / 1000)));
          throw new ApiError(
            429,
            'rate_limit_exceeded',
            `Too many requests for this API key; retry in ${waitMs} ms.`,
            {
              data: { retry_after_ms: waitMs },
            },
          );
        }
        if (route.sandboxOnly && !workspace.is_sandbox) {
          throw new ApiError(400, 'workspace_not_sandbox', `${route.path} works only in sandbox workspaces.`);
        }
        const input = parseInput(route, request);
        // request.host: X-Forwarded-Host when the peer is a trusted proxy (LATCHKEY_TRUST_PROXY), else Host.
        const host = request.host || 'localhost';
        const result = await route.handler(
          {
            services,
            store,
            workspace,
            now: workspaceNow(realNow(), workspace),
            requestId: request.id,
            routeUrl: `${request.protocol}://${host}${route.path}`,
            log: logger,
          },
          input,
        );
        return reply.send({ ...result, ok: true });
      },
    });
  }
  return app;
}

async function authenticate(
  store: Store,
  request: FastifyRequest,
): Promise<{ workspace: WorkspaceRecord; keyHash: string }> {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match?.[1]) {
    throw new ApiError(401, 'unauthorized', 'Send an API key as "Authorization: Bearer seam_…".');
  }
  const keyHash = hashApiKey(match[1]);
  const workspace = await findWorkspaceByKeyHash(store.db, keyHash);
  if (!workspace) throw new ApiError(401, 'unauthorized', 'The API key is not valid (unknown or revoked).');
  return { workspace, keyHash };
}

/** Query parameters (coerced to the schema's types) merged with the JSON body, then validated. */
function parseInput(route: RouteDefinition, request: FastifyRequest): unknown {
  const body = request.body;
  if (body !== undefined && body !== null && (typeof body !== 'object' || Array.isArray(body))) {
    throw invalidInput('The request body must be a JSON object.');
  }
  const query = coerceQuery(route.input, request.query ?? {}) as Record<string, unknown>;
  const isForm = request.headers['content-type']?.startsWith('application/x-www-form-urlencoded') ?? false;
  const fields = (isForm ? coerceQuery(route.input, body) : body) as Record<string, unknown> | undefined;
  const merged = { ...query, ...fields };
  const parsed = route.input.safeParse(merged);
  if (parsed.success) {
    // Postgres text cannot hold NUL (a 500 there); refuse it on every dialect alike.
    const nul = nulPath(parsed.data, []);
    if (nul)
      throw invalidInput(`${nul.join('.') || 'body'}: Strings must not contain the NUL character (\\u0000).`);
    return parsed.data;
  }
  const issues = parsed.error.issues;
  const describe = (i: z.core.$ZodIssue) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message);
  const message =
    issues.length === 1 && issues[0]
      ? describe(issues[0])
      : `${issues.length} Input Errors: ${issues.map(describe).join(', ')}`;
  throw invalidInput(message, z.formatError(parsed.error));
}

/** The path of the first string holding a NUL character, or null. */
function nulPath(value: unknown, path: (string | number)[]): (string | number)[] | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (value === null || typeof value !== 'object') return null;
  for (const [key, v] of Object.entries(value)) {
    const found = nulPath(v, [...path, Array.isArray(value) ? Number(key) : key]);
    if (found) return found;
  }
  return null;
}

function toApiError(error: unknown, request: FastifyRequest, logger: Logger): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof InvalidCursorError) return invalidInput(error.message);
  if (error instanceof WebhookUrlError)
    return new ApiError(400, 'invalid_webhook_url', `Webhook URL ${error.message}.`);
  if (error instanceof LockStorageFullError) {
    // The lock's own memory (revocation list, online-code table) is full: the admin must clear it first.
    return new ApiError(409, 'lock_storage_full', `The lock refused: ${error.message}.`);
  }
  if (error instanceof AccessCodeRuleError) {
    return new ApiError(error.status, error.type, error.message, error.data ? { data: error.data } : {});
  }
  const fastifyError = error as { statusCode?: number; code?: string; message?: string };
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, 'payload_too_large', 'The request body is larger than the server accepts.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'unsupported_media_type', 'Send the request body as application/json.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return invalidInput(fastifyError.message ?? 'Malformed request body.');
  }
  if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return new ApiError(fastifyError.statusCode, 'invalid_input', fastifyError.message ?? 'Bad request.');
  }
  logger.error({ err: error, req_id: request.id }, 'unhandled error');
  return new ApiError(500, 'internal_server_error', 'Internal server error.');
}

function sendError(reply: FastifyReply, error: ApiError) {
  const body: { error: ErrorBody; ok: false } = { error: error.toBody(), ok: false };
  return reply.status(error.statusCode).type('application/json').send(body);
}
