import assert from 'node:assert/strict';
import { assertSeamShape } from '../helpers/seam-schemas.ts';
import { call, type TestServer } from '../helpers/server.ts';

// Shared by the access-code and event suites: a fixed instant for every suite, and raw-HTTP helpers that
// check every object the API returns against the official @seamapi/types models as a side effect.

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** Monday 2030-01-07 09:30 UTC: every suite pins the server clock here, so dates are deterministic. */
export const T0 = Date.UTC(2030, 0, 7, 9, 30);

/** ISO 8601 UTC with milliseconds: the only form the API returns. */
export const iso = (ms: number): string => new Date(ms).toISOString();

/** ISO 8601 UTC without milliseconds and with the seed's `-00:00` offset: a request-side instant. */
export const seedIso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', '-00:00');

/** A workspace to talk to: the seeded sandbox (server itself) or one from createOtherWorkspace(). */
export type Client = Pick<TestServer, 'url' | 'apiKey'>;

export const asClient = (server: Pick<TestServer, 'url'>, apiKey: string): Client => ({
  url: server.url,
  apiKey,
});

/** A Seam error response: status, envelope, JSON content type and request id. Returns `error`. */
export function assertSeamError(
  r: Awaited<ReturnType<typeof call>>,
  status: number,
  type: string,
): { type: string; message: string; data?: Record<string, unknown>; validation_errors?: unknown } {
  assert.equal(r.status, status, `expected ${status} ${type}, got ${r.status}: ${r.text}`);
  assert.equal(r.json?.ok, false, r.text);
  assert.equal(r.json.error.type, type, r.text);
  assert.equal(typeof r.json.error.message, 'string');
  assert.ok(r.json.error.message.length > 0);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  assert.ok(r.headers.get('seam-request-id'));
  return r.json.error;
}

export interface FreeSlot {
  starts_at: string;
  free_variances: number;
}

/** `data.nearby_free_slots` of a 409 offline_code_slot_full (must be an array). */
export function nearbyFreeSlots(error: { data?: Record<string, unknown> }): FreeSlot[] {
  const free = error.data?.nearby_free_slots;
  assert.ok(Array.isArray(free), `no nearby_free_slots in ${JSON.stringify(error.data)}`);
  return free as FreeSlot[];
}

export interface SeamAccessCode {
  access_code_id: string;
  device_id: string;
  name: string | null;
  code: string | null;
  type: 'time_bound' | 'ongoing';
  status: string;
  starts_at?: string | null;
  ends_at?: string | null;
  is_offline_access_code: boolean;
  is_one_time_use: boolean;
  warnings: { warning_code: string; message: string }[];
  [field: string]: unknown;
}

/** POST /access_codes/create as raw HTTP; on 200 the access code and action attempt must match the models. */
export async function createRaw(client: Client, body: Record<string, unknown>) {
  const r = await call(client, '/access_codes/create', { body });
  if (r.status === 200) {
    assert.equal(r.json.ok, true);
    assertSeamShape('access_code', r.json.access_code);
    assertSeamShape('action_attempt', r.json.action_attempt);
  }
  return r;
}

/** An offline code that must be created: returns the access code. */
export async function createOffline(client: Client, body: Record<string, unknown>): Promise<SeamAccessCode> {
  const r = await createRaw(client, { is_offline_access_code: true, ...body });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.access_code.is_offline_access_code, true);
  assert.equal(r.json.action_attempt.action_type, 'CREATE_ACCESS_CODE');
  return r.json.access_code;
}

/** An hourly/daily code from `start` lasting `ms`, as the seed writes instants. */
export const timeFrame = (
  device_id: string,
  start: number,
  ms: number,
  extra: Record<string, unknown> = {},
) => ({
  device_id,
  is_offline_access_code: true,
  starts_at: seedIso(start),
  ends_at: seedIso(start + ms),
  ...extra,
});

/** A new virtual igloohome lock in the client's (sandbox) workspace. */
export async function simulateLock(
  client: Client,
  name: string,
  extra: { time_zone?: string; has_bridge?: boolean } = {},
): Promise<string> {
  const r = await call(client, '/devices/simulate/create', { body: { name, ...extra } });
  assert.equal(r.status, 200, r.text);
  assertSeamShape('device', r.json.device);
  return r.json.device.device_id;
}

/** Live codes of a device (every one checked against the model), in list order. */
export async function listCodes(client: Client, device_id: string): Promise<SeamAccessCode[]> {
  const r = await call(client, '/access_codes/list', { body: { device_id } });
  assert.equal(r.status, 200, r.text);
  for (const c of r.json.access_codes) assertSeamShape('access_code', c);
  return r.json.access_codes;
}

/** Every event of the workspace so far (each checked against the model), oldest first. */
export async function allEvents(client: Client, filters: Record<string, unknown> = {}) {
  const r = await call(client, '/events/list', {
    body: { since: '1970-01-01T00:00:00Z', limit: 100_000, ...filters },
  });
  assert.equal(r.status, 200, r.text);
  for (const e of r.json.events) assertSeamShape('event', e);
  // biome-ignore lint/suspicious/noExplicitAny: events are read ad hoc
  return r.json.events as any[];
}

/**
 * What a failed request must leave untouched: the device's live codes, the workspace's events and the
 * device's action attempts.
 */
export async function storedState(client: Client, device_id: string) {
  const attempts = await call(client, '/action_attempts/list', { body: { device_id, limit: 100_000 } });
  assert.equal(attempts.status, 200, attempts.text);
  return {
    codes: await listCodes(client, device_id),
    events: (await allEvents(client)).map((e) => e.event_id),
    action_attempts: attempts.json.action_attempts.map(
      (a: { action_attempt_id: string }) => a.action_attempt_id,
    ),
  };
}

/** Runs `request` (which must fail) and proves nothing was stored. Returns the request's result. */
export async function refusedWithoutTrace<T>(client: Client, device_id: string, request: () => Promise<T>) {
  const before = await storedState(client, device_id);
  const result = await request();
  assert.deepEqual(await storedState(client, device_id), before, 'a refused request changed stored state');
  return result;
}

/** Creation that must be refused with this status and error type, storing nothing. Returns `error`. */
export async function assertRefused(
  client: Client,
  body: Record<string, unknown>,
  status: number,
  type: string,
) {
  const device_id = body.device_id as string;
  const r = await refusedWithoutTrace(client, device_id, () => createRaw(client, body));
  return assertSeamError(r, status, type);
}

/** Advances a sandbox workspace's clock through the API. */
export async function advanceClock(client: Client, by: string): Promise<string> {
  const r = await call(client, '/workspaces/simulate/advance_clock', { body: { by } });
  assert.equal(r.status, 200, r.text);
  assertSeamShape('workspace', r.json.workspace);
  return r.json.now;
}
