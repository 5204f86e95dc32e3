import type { PinParams } from '../algopin/index.ts';
import type { DeviceRecord } from '../domain/records.ts';
import { HOUR_MS } from '../domain/time.ts';
import type { Db } from '../store/index.ts';
import type { CodeProvider } from './provider.ts';

// A remote igloohome-style code server (iglooaccess, or another Latchkey's /igloohome API): OAuth2 client
// credentials, then POST /devices/{deviceId}/algopin/{kind}. Latchkey still allocates variances; the remote
// only computes the PIN. Its answer arrives asynchronously (a durable job calls `requestPin`).

export interface RemoteProviderConfig {
  /** e.g. https://codes.example.com/igloohome (real igloohome: https://api.igloodeveloper.co/igloohome). */
  base_url: string;
  /** Defaults to `${base_url}/oauth2/token` (real igloohome: https://auth.igloohome.co/oauth2/token). */
  token_url?: string | undefined;
  client_id: string;
  client_secret: string;
}

/** The remote refused for good (4xx other than auth): the code fails with its message. */
export class RemoteRejectedError extends Error {
  override readonly name = 'RemoteRejectedError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Worth retrying: network error, timeout, 5xx, 429, or credentials that still fail after a fresh token. */
export class RemoteUnavailableError extends Error {
  override readonly name = 'RemoteUnavailableError';
}

const KIND_PATHS = { hourly: 'hourly', daily: 'daily', one_time: 'onetime', permanent: 'permanent' } as const;
const REQUEST_TIMEOUT_MS = 15_000;

/** igloohome wants hour-aligned ISO-8601 with an explicit offset. */
function igloohomeDate(ms: number): string {
  return new Date(ms).toISOString().replace(/:\d\d\.\d{3}Z$/, ':00+00:00');
}

export interface PinRequest {
  device: Pick<DeviceRecord, 'provider_device_id'>;
  params: PinParams;
  accessName: string;
}

export class RemoteCodeProvider implements CodeProvider {
  readonly name = 'remote';
  private token: { value: string; expiresAt: number } | null = null;

  constructor(
    readonly config: RemoteProviderConfig,
    private readonly realNow: () => number = Date.now,
  ) {}

  /** Sandbox pairing: the virtual lock receives the key the remote registry holds for that lock. */
  async pairLock(_db: Db, device: DeviceRecord): Promise<Uint8Array> {
    const body = await this.call(
      'GET',
      `/devices/${encodeURIComponent(device.provider_device_id)}/sandbox_pairing_key`,
    );
    const key = (body as { lockKey?: unknown }).lockKey;
    if (typeof key !== 'string' || !/^[0-9a-f]{64}$/i.test(key)) {
      throw new RemoteRejectedError('the code server gave no pairing key for this lock', 502);
    }
    return Buffer.from(key, 'hex');
  }

  /** The PIN comes later, from `requestPin` in a durable job. */
  async issueOfflinePin(): Promise<null> {
    return null;
  }

  async listDevices(): Promise<{ deviceId: string; deviceName: string }[]> {
    const body = (await this.call('GET', '/devices')) as { payload?: unknown };
    const list = Array.isArray(body.payload) ? body.payload : Array.isArray(body) ? body : [];
    return list
      .filter((d): d is { deviceId: string; deviceName?: string } => typeof d?.deviceId === 'string')
      .map((d) => ({ deviceId: d.deviceId, deviceName: d.deviceName ?? d.deviceId }));
  }

  async requestPin(request: PinRequest): Promise<{ pin: string; pinId: string | null }> {
    const { params } = request;
    const start = params.startHour * HOUR_MS;
    const hours = params.kind === 'daily' ? (params.durationDays ?? 0) * 24 : (params.durationHours ?? 0);
    const payload: Record<string, unknown> = {
      variance: params.variance,
      startDate: igloohomeDate(start),
      accessName: request.accessName.slice(0, 60),
    };
    if (params.kind === 'hourly' || params.kind === 'daily')
      payload.endDate = igloohomeDate(start + hours * HOUR_MS);
    const body = (await this.call(
      'POST',
      `/devices/${encodeURIComponent(request.device.provider_device_id)}/algopin/${KIND_PATHS[params.kind]}`,
      payload,
    )) as { pin?: unknown; pinId?: unknown };
    if (typeof body.pin !== 'string' || !/^\d{7,12}$/.test(body.pin)) {
      throw new RemoteRejectedError('the code server answered without a PIN', 502);
    }
    return { pin: body.pin, pinId: typeof body.pinId === 'string' ? body.pinId : null };
  }

  private async accessToken(forceNew: boolean): Promise<string> {
    if (!forceNew && this.token && this.token.expiresAt > this.realNow() + 60_000) return this.token.value;
    const url = this.config.token_url ?? `${this.config.base_url.replace(/\/$/, '')}/oauth2/token`;
    const basic = Buffer.from(`${this.config.client_id}:${this.config.client_secret}`).toString('base64');
    const response = await this.fetch(url, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    const body = (await response.json().catch(() => ({}))) as {
      access_token?: unknown;
      expires_in?: unknown;
    };
    if (response.status >= 500 || response.status === 429) {
      throw new RemoteUnavailableError(`token endpoint answered ${response.status}`);
    }
    if (!response.ok || typeof body.access_token !== 'string') {
      throw new RemoteUnavailableError(`the code server refused our client credentials (${response.status})`);
    }
    const seconds = typeof body.expires_in === 'number' ? body.expires_in : 3600;
    this.token = { value: body.access_token, expiresAt: this.realNow() + seconds * 1000 };
    return body.access_token;
  }

  /** One API call with a cached token; a 401 gets one retry with a fresh token. */
  private async call(method: 'GET' | 'POST', path: string, payload?: unknown): Promise<unknown> {
    const url = `${this.config.base_url.replace(/\/$/, '')}${path}`;
    for (const forceNew of [false, true]) {
      const token = await this.accessToken(forceNew);
      const response = await this.fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
      });
      const body = (await response.json().catch(() => null)) as { message?: unknown } | null;
      if (response.status === 401 && !forceNew) continue;
      if (response.ok) return body;
      const message = typeof body?.message === 'string' ? body.message : `HTTP ${response.status}`;
      if (response.status >= 500 || response.status === 429 || response.status === 401) {
        throw new RemoteUnavailableError(`code server: ${message}`);
      }
      throw new RemoteRejectedError(message, response.status);
    }
    throw new RemoteUnavailableError('code server: unauthorized');
  }

  private async fetch(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (error) {
      throw new RemoteUnavailableError(
        `cannot reach the code server at ${new URL(url).origin}: ${(error as Error).message}`,
      );
    }
  }
}
