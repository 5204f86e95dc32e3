import { randomInt } from 'node:crypto';
import {
  checkOnlineCode,
  duplicateCodeError,
  planOnlineTimeFrame,
  wantedOnLock,
} from '../../domain/access-codes/online.ts';
import { AccessCodeRuleError } from '../../domain/access-codes/rule-error.ts';
import { maxCodesError } from '../../domain/access-codes/slots.ts';
import type { AccessCodeRecord, ActionAttemptRecord, DeviceRecord } from '../../domain/records.ts';
import { toSeamAccessCode } from '../../domain/seam/access-code.ts';
import { deviceCapabilities, MAX_ACTIVE_CODES } from '../../domain/seam/device.ts';
import { accessCodeEvent } from '../../domain/seam/events.ts';
import type { Db } from '../../store/index.ts';
import {
  countLiveCodes,
  findCodeByCommonKey,
  findLiveCodeOnDevice,
  insertAccessCode,
  liveCodesOnDevice,
  markAccessCodeRemoved,
  updateAccessCode,
} from '../../store/repos/access-codes.ts';
import { enqueueJob } from '../../store/repos/jobs.ts';
import { recordActionAttempt } from '../action-attempts.ts';
import { recordEvents, stampAt } from '../events.ts';
import { uuidv7 } from '../ids.ts';

export const BRIDGE_SYNC_JOB = 'access_code.bridge_sync';

/** Generated online PINs have 6 digits (contract §6). */
const GENERATED_LENGTH = 6;

export interface OnlineCodeRequest {
  name?: string | undefined;
  code?: string | undefined;
  starts_at?: number | undefined;
  ends_at?: number | undefined;
  common_code_key?: string | undefined;
}

/** Asks the bridge job to reconcile the lock with the code at `at` (workspace clock). */
export async function scheduleBridgeSync(
  tx: Db,
  code: AccessCodeRecord,
  at: number,
  now: number,
): Promise<void> {
  await enqueueJob(tx, {
    job_id: uuidv7(),
    workspace_id: code.workspace_id,
    device_id: code.device_id,
    kind: BRIDGE_SYNC_JOB,
    payload: { access_code_id: code.access_code_id },
    run_at: at,
    created_at: now,
  });
}

export function requireBridge(device: DeviceRecord): void {
  if (!deviceCapabilities(device).can_program_online_access_codes) {
    throw new AccessCodeRuleError(
      400,
      'online_access_codes_not_supported',
      'This lock has no bridge, so it takes only offline codes: set is_offline_access_code to true.',
    );
  }
}

/** A random PIN of the generated length that no live code of these devices uses. */
export async function generateFreeCode(tx: Db, deviceIds: string[]): Promise<string> {
  const taken = new Set<string>();
  for (const id of deviceIds) for (const c of await liveCodesOnDevice(tx, id)) taken.add(c);
  for (;;) {
    const code = String(randomInt(0, 10 ** GENERATED_LENGTH)).padStart(GENERATED_LENGTH, '0');
    if (!taken.has(code)) return code;
  }
}

/**
 * Creates an online code on a device whose row the caller holds locked in `tx`. The bridge programs it
 * (a durable job) at once for an ongoing code, at its start for a time-bound one.
 */
export async function createOnlineAccessCode(
  tx: Db,
  device: DeviceRecord,
  request: OnlineCodeRequest,
  now: number,
): Promise<{ code: AccessCodeRecord; attempt: ActionAttemptRecord }> {
  requireBridge(device);
  const frame = planOnlineTimeFrame({ ...request, now });
  const live = await countLiveCodes(tx, device.device_id);
  if (live >= MAX_ACTIVE_CODES) throw maxCodesError(live);
  const shared =
    request.code === undefined && request.common_code_key !== undefined
      ? await findCodeByCommonKey(tx, device.workspace_id, request.common_code_key)
      : null;
  const pin = request.code ?? shared ?? (await generateFreeCode(tx, [device.device_id]));
  checkOnlineCode(pin);
  if (await findLiveCodeOnDevice(tx, device.workspace_id, device.device_id, pin))
    throw duplicateCodeError(device.device_id);

  const wanted = wantedOnLock({ ...frame, delete_requested: false }, now);
  const code: AccessCodeRecord = {
    access_code_id: uuidv7(),
    workspace_id: device.workspace_id,
    device_id: device.device_id,
    name: request.name ?? null,
    code: pin,
    common_code_key: request.common_code_key ?? null,
    type: frame.type,
    kind: 'online',
    is_offline: false,
    is_one_time_use: false,
    starts_at: frame.starts_at,
    ends_at: frame.ends_at,
    status: wanted ? 'setting' : 'unset',
    slot_key: null,
    variance: null,
    warnings: [],
    errors: [],
    created_at: now,
    removed_at: null,
    programmed_code: null,
    delete_requested: false,
  };
  await insertAccessCode(tx, code);
  const attempt = await recordActionAttempt(
    tx,
    device,
    'CREATE_ACCESS_CODE',
    { status: 'success', result: { access_code: toSeamAccessCode(code) } },
    now,
  );
  await recordEvents(tx, [accessCodeEvent(stampAt(now), 'access_code.created', device, code)]);
  await scheduleBridgeSync(tx, code, wanted ? now : (frame.starts_at ?? now), now);
  return { code, attempt };
}

export interface OnlineCodeChanges {
  name?: string | undefined;
  code?: string | undefined;
  starts_at?: number | undefined;
  ends_at?: number | undefined;
  type?: 'ongoing' | 'time_bound' | undefined;
}

/** Changes name, PIN or time frame; the bridge then swaps the PIN on the lock or reschedules it. */
export async function updateOnlineAccessCode(
  tx: Db,
  device: DeviceRecord,
  code: AccessCodeRecord,
  changes: OnlineCodeChanges,
  now: number,
): Promise<ActionAttemptRecord> {
  if (code.delete_requested) {
    throw new AccessCodeRuleError(
      400,
      'invalid_input',
      'This code is being deleted; it can no longer be changed.',
    );
  }
  const toOngoing = changes.type === 'ongoing';
  const starts = changes.starts_at ?? code.starts_at ?? undefined;
  const ends = changes.ends_at ?? code.ends_at ?? undefined;
  if (changes.type === 'time_bound' && (starts === undefined || ends === undefined)) {
    throw new AccessCodeRuleError(400, 'invalid_input', 'A time_bound code needs starts_at and ends_at.');
  }
  const frame =
    changes.starts_at === undefined && changes.ends_at === undefined && changes.type === undefined
      ? { type: code.type, starts_at: code.starts_at, ends_at: code.ends_at }
      : planOnlineTimeFrame({
          starts_at: toOngoing ? undefined : starts,
          ends_at: toOngoing ? undefined : ends,
          now,
        });
  const pin = changes.code ?? code.code;
  if (pin === null) throw new AccessCodeRuleError(400, 'invalid_input', 'This code has no PIN to keep.');
  if (changes.code !== undefined && changes.code !== code.code) {
    checkOnlineCode(changes.code);
    if (await findLiveCodeOnDevice(tx, device.workspace_id, device.device_id, changes.code)) {
      throw duplicateCodeError(device.device_id);
    }
  }
  const updated: AccessCodeRecord = { ...code, ...frame, name: changes.name ?? code.name, code: pin };
  const wanted = wantedOnLock(updated, now);
  const onLockAsWanted = wanted ? updated.programmed_code === pin : updated.programmed_code === null;
  updated.status = onLockAsWanted ? (wanted ? 'set' : 'unset') : wanted ? 'setting' : 'removing';
  await updateAccessCode(tx, code.access_code_id, {
    name: updated.name,
    code: pin,
    type: updated.type,
    starts_at: updated.starts_at,
    ends_at: updated.ends_at,
    status: updated.status,
  });
  await scheduleBridgeSync(tx, updated, now, now);
  return recordActionAttempt(
    tx,
    device,
    'UPDATE_ACCESS_CODE',
    { status: 'success', result: { access_code: toSeamAccessCode(updated) } },
    now,
  );
}

/**
 * Deletes an online code: one never programmed is gone at once (`access_code.deleted` only); one on the lock
 * is `removing` until the bridge has taken it off.
 */
export async function deleteOnlineAccessCode(
  tx: Db,
  device: DeviceRecord,
  code: AccessCodeRecord,
  now: number,
): Promise<ActionAttemptRecord> {
  if (code.programmed_code === null) {
    if (await markAccessCodeRemoved(tx, code.access_code_id, now)) {
      await recordEvents(tx, [accessCodeEvent(stampAt(now), 'access_code.deleted', device, code)]);
    }
  } else {
    await updateAccessCode(tx, code.access_code_id, { delete_requested: true, status: 'removing' });
    await scheduleBridgeSync(tx, code, now, now);
  }
  return recordActionAttempt(tx, device, 'DELETE_ACCESS_CODE', { status: 'success', result: {} }, now);
}
