import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { AlgoPinParamError, derivePin, derivePinKey } from '../algopin/index.ts';
import type { Services } from '../app/services.ts';
import { openLockKey } from '../codeserver/builtin.ts';
import type { DeviceRecord, WorkspaceRecord } from '../domain/records.ts';
import { workspaceNow } from '../domain/time.ts';
import { InvalidCursorError } from '../store/list-options.ts';
import { getDevice, listDevices } from '../store/repos/devices.ts';
import {
  findDeviceIdByProviderId,
  getIgloohomeClientWithSecret,
  insertIgloohomePin,
} from '../store/repos/igloohome-clients.ts';
import { getWorkspace } from '../store/repos/workspaces.ts';
import { type IgloohomePinType, PIN_TYPES, parseAlgoPinRequest } from './algopin-request.ts';
import { authenticateIgloohomeClient } from './clients.ts';
import { toIgloohomeDevice } from './devices.ts';
import { IgloohomeError, OAuthError } from './errors.ts';
import { SCOPES } from './scopes.ts';
import { DEFAULT_TOKEN_TTL_SECONDS, issueAccessToken, tokenSigningKey, verifyAccessToken } from './tokens.ts';

// The igloohome-compatible API (iglooaccess shape) that a Latchkey server offers under /igloohome: an OAuth2
// client-credentials token endpoint, the devices of the client's workspace, and algoPINs from this server's
// own key registry. It is a separate Fastify plugin with igloohome's error shapes; nothing of the Seam
// envelope applies here. docs/providers.md documents it.

export { createIgloohomeClient } from './clients.ts';
export { DEFAULT_TOKEN_TTL_SECONDS } from './tokens.ts';

export const IGLOOHOME_PREFIX = '/igloohome';

export interface IgloohomeApiOptions {
  /** `expires_in` of new access tokens, seconds (default 86 400). */
  tokenTtlSeconds?: number;
  /** Real time for token issue and expiry (default `services.realNow`). */
  now?: () => number;
  /** Where unexpected errors are logged. */
  logger?: Logger;
}

const PIN_SCOPES: Readonly<Record<IgloohomePinType, string>> = {
  hourly: SCOPES.algopinHourly,
  daily: SCOPES.algopinDaily,
  onetime: SCOPES.algopinOnetime,
  permanent: SCOPES.algopinPermanent,
};

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

interface Caller {
  clientId: string;
  scopes: string[];
  workspace: WorkspaceRecord;
}

type DeviceParams = { Params: { deviceId: string } };

/** Mounts the API under /igloohome as an encapsulated plugin with its own error and not-found handlers. */
export async function registerIgloohomeApi(
  app: FastifyInstance,
  services: Services,
  options: IgloohomeApiOptions = {},
): Promise<void> {
  const { store } = services;
  const db = store.db;
  const now = options.now ?? services.realNow;
  const ttl = options.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  const signingKey = tokenSigningKey(services.masterKey);

  async function authenticate(request: FastifyRequest): Promise<Caller> {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match?.[1])
      throw new IgloohomeError(401, 'Missing access token: send "Authorization: Bearer <token>"');
    const checked = verifyAccessToken(signingKey, match[1], now());
    if (!checked.ok) {
      throw new IgloohomeError(
        401,
        checked.reason === 'expired' ? 'The access token has expired' : 'The access token is not valid',
      );
    }
    const { claims } = checked;
    // Stateless tokens, but a revoked client's tokens stop at once: one primary-key read per request.
    const client = await getIgloohomeClientWithSecret(db, claims.client_id);
    if (!client || client.revoked_at !== null || client.workspace_id !== claims.workspace_id) {
      throw new IgloohomeError(401, 'The access token is not valid (its client was revoked)');
    }
    const workspace = await getWorkspace(db, claims.workspace_id);
    if (!workspace) throw new IgloohomeError(401, 'The access token is not valid');
    return { clientId: client.client_id, scopes: claims.scopes, workspace };
  }

  function requireScope(caller: Caller, scope: string): void {
    if (!caller.scopes.includes(scope)) {
      throw new IgloohomeError(403, `The access token does not have the scope ${scope}`);
    }
  }

  async function requireDevice(caller: Caller, deviceId: string): Promise<DeviceRecord> {
    const workspaceId = caller.workspace.workspace_id;
    const id = await findDeviceIdByProviderId(db, workspaceId, deviceId);
    const device = id === null ? null : await getDevice(db, workspaceId, id);
    if (!device) throw new IgloohomeError(404, `Device ${deviceId} not found`);
    return device;
  }

  async function lockKeyOf(device: DeviceRecord): Promise<Buffer> {
    const key = await openLockKey(db, services.masterKey, device);
    if (key === null) {
      throw new IgloohomeError(
        409,
        `Device ${device.provider_device_id} has no key in this server's registry`,
      );
    }
    return key;
  }

  await app.register(
    async (api) => {
      // Standalone use (a bare Fastify app): Fastify itself parses no forms. Inside buildApp the app's parser is
      // inherited, and reads forms the same way (URLSearchParams).
      if (!api.hasContentTypeParser('application/x-www-form-urlencoded')) {
        api.addContentTypeParser(
          'application/x-www-form-urlencoded',
          { parseAs: 'string' },
          (_req, body, done) => done(null, parseForm(String(body))),
        );
      }
      api.setErrorHandler((error, request, reply) =>
        sendError(reply, toError(error, request, options.logger)),
      );
      api.setNotFoundHandler((request, reply) =>
        sendError(
          reply,
          new IgloohomeError(404, `No route ${request.method} ${request.url.split('?')[0] ?? ''}`),
        ),
      );

      api.post('/oauth2/token', async (request, reply) => {
        const isForm =
          request.headers['content-type']?.toLowerCase().startsWith('application/x-www-form-urlencoded') ??
          false;
        const form = isForm && isRecord(request.body) ? request.body : {};
        const credentials = basicCredentials(request.headers.authorization) ?? formCredentials(form);
        if (!credentials) {
          throw new OAuthError(
            401,
            'invalid_client',
            'Send the client id and secret with HTTP Basic authentication',
          );
        }
        const client = await authenticateIgloohomeClient(db, credentials.id, credentials.secret);
        if (!client) throw new OAuthError(401, 'invalid_client');
        if (!isForm) {
          throw new OAuthError(400, 'invalid_request', 'Send the body as application/x-www-form-urlencoded');
        }
        const grantType = form.grant_type;
        if (grantType === undefined) throw new OAuthError(400, 'invalid_request', 'grant_type is required');
        if (grantType !== 'client_credentials') throw new OAuthError(400, 'unsupported_grant_type');
        const scope = form.scope;
        if (scope !== undefined && typeof scope !== 'string') {
          throw new OAuthError(400, 'invalid_request', 'scope must be given once, space-separated');
        }
        const requested = [...new Set((scope ?? '').split(/\s+/).filter((s) => s !== ''))];
        const missing = requested.filter((s) => !client.scopes.includes(s));
        if (missing.length > 0) {
          throw new OAuthError(400, 'invalid_scope', `The client may not request ${missing.join(' ')}`);
        }
        const scopes = requested.length > 0 ? requested : client.scopes;
        const { token } = issueAccessToken(
          signingKey,
          { client_id: client.client_id, workspace_id: client.workspace_id, scopes },
          now(),
          ttl,
        );
        reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
        return { access_token: token, token_type: 'Bearer', expires_in: ttl, scope: scopes.join(' ') };
      });

      api.get('/devices', async (request) => {
        const caller = await authenticate(request);
        requireScope(caller, SCOPES.getDevices);
        const query = isRecord(request.query) ? request.query : {};
        const limit = query.limit === undefined ? DEFAULT_PAGE : Number(query.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
          throw new IgloohomeError(400, `'limit' must be an integer from 1 to ${MAX_PAGE}`);
        }
        const cursor = query.cursor;
        if (cursor !== undefined && typeof cursor !== 'string') {
          throw new IgloohomeError(400, `'cursor' must be given once`);
        }
        const page = await listDevices(db, caller.workspace.workspace_id, {}, { limit, pageCursor: cursor });
        return { payload: page.items.map(toIgloohomeDevice), nextCursor: page.nextCursor };
      });

      api.get<DeviceParams>('/devices/:deviceId', async (request) => {
        const caller = await authenticate(request);
        requireScope(caller, SCOPES.getDevices);
        return toIgloohomeDevice(await requireDevice(caller, request.params.deviceId));
      });

      for (const type of Object.keys(PIN_TYPES) as IgloohomePinType[]) {
        api.post<DeviceParams>(`/devices/:deviceId/algopin/${type}`, async (request) => {
          const caller = await authenticate(request);
          requireScope(caller, PIN_SCOPES[type]);
          const device = await requireDevice(caller, request.params.deviceId);
          const { params, accessName } = parseAlgoPinRequest(type, request.body);
          const lockKey = await lockKeyOf(device);
          // Exactly BuiltinCodeProvider.issueOfflinePin: this server's registry derives the PIN.
          const pin = derivePin(derivePinKey(lockKey, device.key_epoch), params);
          const pinId = randomUUID();
          await insertIgloohomePin(db, {
            pin_id: pinId,
            workspace_id: device.workspace_id,
            device_id: device.device_id,
            client_id: caller.clientId,
            kind: params.kind,
            start_hour: params.startHour,
            duration_hours: params.durationHours ?? null,
            duration_days: params.durationDays ?? null,
            variance: params.variance,
            access_name: accessName,
            created_at: workspaceNow(services.realNow(), caller.workspace),
          });
          return { pin, pinId };
        });
      }

      // Latchkey extension, sandboxes only: the lock key a simulated lock needs to accept this server's PINs.
      api.get<DeviceParams>('/devices/:deviceId/sandbox_pairing_key', async (request) => {
        const caller = await authenticate(request);
        if (!caller.workspace.is_sandbox) {
          throw new IgloohomeError(
            403,
            'sandbox_pairing_key is a Latchkey sandbox extension; this workspace is not a sandbox',
          );
        }
        requireScope(caller, SCOPES.sandboxPairing);
        const device = await requireDevice(caller, request.params.deviceId);
        const lockKey = await lockKeyOf(device);
        return {
          deviceId: device.provider_device_id,
          lockKey: lockKey.toString('hex'),
          keyEpoch: device.key_epoch,
        };
      });
    },
    { prefix: IGLOOHOME_PREFIX },
  );
}

function parseForm(raw: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  for (const [key, value] of new URLSearchParams(raw)) {
    const existing = out[key];
    out[key] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function basicCredentials(header: string | undefined): { id: string; secret: string } | null {
  const match = typeof header === 'string' ? /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header) : null;
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/** RFC 6749 §2.3.1 also allows client_id and client_secret in the form body. */
function formCredentials(form: Record<string, unknown>): { id: string; secret: string } | null {
  const { client_id: id, client_secret: secret } = form;
  return typeof id === 'string' && typeof secret === 'string' && id !== '' ? { id, secret } : null;
}

function toError(
  error: unknown,
  request: FastifyRequest,
  logger: Logger | undefined,
): IgloohomeError | OAuthError {
  if (error instanceof IgloohomeError || error instanceof OAuthError) return error;
  const isToken = request.url.startsWith(`${IGLOOHOME_PREFIX}/oauth2/`);
  if (error instanceof AlgoPinParamError) return new IgloohomeError(422, error.message);
  if (error instanceof InvalidCursorError)
    return new IgloohomeError(400, `'cursor' is not a cursor from this list`);
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const message = (error as { message?: unknown }).message;
    const text = typeof message === 'string' && message !== '' ? message : 'Bad request';
    return isToken ? new OAuthError(400, 'invalid_request', text) : new IgloohomeError(status, text);
  }
  logger?.error({ err: error, req_id: request.id }, 'unhandled error (igloohome API)');
  return isToken ? new OAuthError(500, 'server_error') : new IgloohomeError(500, 'Internal server error');
}

function sendError(reply: FastifyReply, error: IgloohomeError | OAuthError) {
  if (error instanceof OAuthError && error.statusCode === 401) {
    reply.header('www-authenticate', 'Basic realm="igloohome"');
  }
  return reply.status(error.statusCode).type('application/json').send(error.toBody());
}
