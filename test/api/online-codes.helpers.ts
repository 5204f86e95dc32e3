import assert from 'node:assert/strict';
import { assertSeamShape } from '../helpers/seam-schemas.ts';
import { call, type TestServer } from '../helpers/server.ts';
import {
  allEvents,
  asClient,
  type Client,
  createRaw,
  type SeamAccessCode,
  simulateLock,
} from './access-codes.helpers.ts';

// Shared by the online-code suites (contract §6): raw-HTTP helpers for online codes, the keypad and the
// bridge, each checking every object it receives against the @seamapi/types models.

/** A sandbox workspace of its own (own clock, at the server's pinned time) with its two seeded locks. */
export async function ownSandbox(server: TestServer) {
  const ws = await server.createOtherWorkspace();
  const front = ws.devices.find((d) => !d.has_bridge)?.device_id;
  const back = ws.devices.find((d) => d.has_bridge)?.device_id;
  assert.ok(front && back, 'the sandbox has Front Door (no bridge) and Back Door (bridge)');
  return { client: asClient(server, ws.api_key), ws, front, back };
}

/** A new virtual igloohome lock with a bridge. */
export const bridgeLock = (client: Client, name: string) => simulateLock(client, name, { has_bridge: true });

/** An online code that must be created: returns the access code and its action attempt. */
export async function createOnline(client: Client, body: Record<string, unknown>) {
  const r = await createRaw(client, body);
  assert.equal(r.status, 200, r.text);
  const access_code: SeamAccessCode = r.json.access_code;
  assert.equal(access_code.is_offline_access_code, false);
  assert.equal(r.json.action_attempt.action_type, 'CREATE_ACCESS_CODE');
  assert.equal(r.json.action_attempt.status, 'success');
  assert.deepEqual(r.json.action_attempt.result, { access_code });
  return { access_code, action_attempt: r.json.action_attempt };
}

/** /access_codes/get by id, raw; on 200 the code must match the model. */
export async function getCode(client: Client, access_code_id: string) {
  const r = await call(client, '/access_codes/get', { body: { access_code_id } });
  if (r.status === 200) assertSeamShape('access_code', r.json.access_code);
  return r;
}

/** A live code (200), read back. */
export async function liveCode(client: Client, access_code_id: string): Promise<SeamAccessCode> {
  const r = await getCode(client, access_code_id);
  assert.equal(r.status, 200, r.text);
  return r.json.access_code;
}

/** The code's access_code.* events, oldest first (lock events also carry access_code_id). */
export async function codeEvents(client: Client, access_code_id: string) {
  return (await allEvents(client, { access_code_id })).filter((e) => e.event_type.startsWith('access_code.'));
}

export const typesOf = (events: { event_type: string }[]) => events.map((e) => e.event_type);

export interface KeypadOutcome {
  accepted: boolean;
  reason_code?: string;
  action_attempt_id: string;
}

/** Types a PIN on a virtual lock's keypad. */
export async function keypad(client: Client, device_id: string, code: string): Promise<KeypadOutcome> {
  const r = await call(client, '/locks/simulate/keypad_code_entry', { body: { device_id, code } });
  assert.equal(r.status, 200, r.text);
  const attempt = r.json.action_attempt;
  assertSeamShape('action_attempt', attempt);
  assert.equal(attempt.action_type, 'SIMULATE_KEYPAD_CODE_ENTRY');
  assert.equal(attempt.status, 'success');
  return { ...attempt.result, action_attempt_id: attempt.action_attempt_id };
}

/** The lock event a keypad entry recorded (lock.unlocked or lock.access_denied). */
export async function keypadEvent(client: Client, device_id: string, outcome: KeypadOutcome) {
  const events = await allEvents(client, {
    device_id,
    event_types: ['lock.unlocked', 'lock.access_denied'],
  });
  const last = events.at(-1);
  assert.ok(last, 'the keypad entry was logged');
  if (outcome.accepted) assert.equal(last.action_attempt_id, outcome.action_attempt_id);
  return last;
}

/** The PIN must open the lock; returns the lock.unlocked event. */
export async function opens(client: Client, device_id: string, code: string, why = '') {
  const outcome = await keypad(client, device_id, code);
  assert.equal(outcome.accepted, true, `${code} should open ${why}: ${JSON.stringify(outcome)}`);
  const event = await keypadEvent(client, device_id, outcome);
  assert.equal(event.event_type, 'lock.unlocked');
  assert.equal(event.method, 'keycode');
  return event;
}

/** The PIN must be refused with this reason; returns the lock.access_denied event. */
export async function refused(
  client: Client,
  device_id: string,
  code: string,
  reason = 'unknown_code',
  why = '',
) {
  const outcome = await keypad(client, device_id, code);
  assert.equal(outcome.accepted, false, `${code} should be refused ${why}`);
  assert.equal(outcome.reason_code, reason, why);
  const event = await keypadEvent(client, device_id, outcome);
  assert.equal(event.event_type, 'lock.access_denied');
  assert.equal(event.reason.reason_code, reason);
  return event;
}

/** /devices/simulate/disconnect or /connect; returns the device as the route answers it. */
export async function setBridge(client: Client, device_id: string, online: boolean) {
  const r = await call(client, `/devices/simulate/${online ? 'connect' : 'disconnect'}`, {
    body: { device_id },
  });
  assert.equal(r.status, 200, r.text);
  assertSeamShape('device', r.json.device);
  return r.json.device;
}

/** The device's action attempts of one type, oldest first. */
export async function attemptsOf(client: Client, device_id: string, action_type: string) {
  const r = await call(client, '/action_attempts/list', { body: { device_id, limit: 100_000 } });
  assert.equal(r.status, 200, r.text);
  for (const a of r.json.action_attempts) assertSeamShape('action_attempt', a);
  // biome-ignore lint/suspicious/noExplicitAny: attempts are read ad hoc
  return r.json.action_attempts.filter((a: any) => a.action_type === action_type) as any[];
}
