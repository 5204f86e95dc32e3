// A tiny client for the public API: every call is a POST with a JSON body and the user's key as a bearer
// token, exactly what the Seam SDKs send. Errors come back as the Seam envelope and are thrown as ApiError.

import type { AccessCode, Device, Pagination } from './types.ts';

const KEY_STORAGE = 'latchkey.api_key';

/** The API key lives in sessionStorage only: it is gone when the tab closes, and never sent elsewhere. */
export const session = {
  key(): string | null {
    return sessionStorage.getItem(KEY_STORAGE);
  },
  signIn(key: string): void {
    sessionStorage.setItem(KEY_STORAGE, key);
  },
  signOut(): void {
    sessionStorage.clear();
  },
};

/** The server's `{error: {type, message, data}}`, or a network failure (`status` 0). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

let onUnauthorized: (error: ApiError) => void = () => {};

/** Called when the server answers 401 to the stored key (revoked, or a wrong key). */
export function setUnauthorizedHandler(handler: (error: ApiError) => void): void {
  onUnauthorized = handler;
}

export async function call<T>(
  path: string,
  body: object = {},
  key: string | null = session.key(),
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(key === null ? {} : { authorization: `Bearer ${key}` }),
      },
      body: JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, 'network_error', `Could not reach the server (${String(error)}).`);
  }
  let json: { ok?: boolean; error?: { type?: string; message?: string; data?: unknown } } & Record<
    string,
    unknown
  >;
  try {
    json = await response.json();
  } catch {
    throw new ApiError(
      response.status,
      'invalid_response',
      `The server answered ${response.status}, not JSON.`,
    );
  }
  if (!response.ok || json.ok === false) {
    const error = new ApiError(
      response.status,
      json.error?.type ?? 'unknown_error',
      json.error?.message ?? `HTTP ${response.status}`,
      json.error?.data,
    );
    if (response.status === 401 && key === session.key()) onUnauthorized(error);
    throw error;
  }
  return json as T;
}

/** Every page of a paginated list route. */
async function listAll<T>(path: string, field: string, body: object): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  do {
    const page: Record<string, unknown> & { pagination?: Pagination } = await call(path, {
      ...body,
      ...(cursor === null ? {} : { page_cursor: cursor }),
    });
    out.push(...((page[field] as T[] | undefined) ?? []));
    cursor = page.pagination?.has_next_page ? page.pagination.next_page_cursor : null;
  } while (cursor !== null);
  return out;
}

export const listDevices = () => listAll<Device>('/devices/list', 'devices', {});

export const listAccessCodes = (deviceId: string) =>
  listAll<AccessCode>('/access_codes/list', 'access_codes', { device_id: deviceId });
