import type { PinParams } from '../../algopin/index.ts';
import { stepAt } from '../../domain/access-codes/lifecycle.ts';
import {
  type MaxTimeRounding,
  type OfflineTimeFrame,
  planOfflineTimeFrame,
} from '../../domain/access-codes/offline-time-frame.ts';
import { AccessCodeRuleError } from '../../domain/access-codes/rule-error.ts';
import {
  lowestFreeVariance,
  maxCodesError,
  NEARBY_SLOT_CANDIDATES,
  nearbySlotStarts,
  slotFullError,
  slotOf,
} from '../../domain/access-codes/slots.ts';
import type { AccessCodeRecord, ActionAttemptRecord, DeviceRecord } from '../../domain/records.ts';
import { toSeamAccessCode } from '../../domain/seam/access-code.ts';
import { deviceCapabilities, MAX_ACTIVE_CODES } from '../../domain/seam/device.ts';
import { accessCodeEvent } from '../../domain/seam/events.ts';
import type { Db } from '../../store/index.ts';
import {
  countLiveCodes,
  findLiveCodeOnDevice,
  insertAccessCode,
  takenVariances,
} from '../../store/repos/access-codes.ts';
import { recordActionAttempt } from '../action-attempts.ts';
import { recordEvents, stampAt } from '../events.ts';
import { uuidv7 } from '../ids.ts';
import type { Services } from '../services.ts';
import { scheduleNextStep, stepEvents } from './lifecycle.ts';
import { scheduleRemotePin } from './remote-pin.ts';

export interface OfflineCodeRequest {
  name?: string | undefined;
  starts_at?: number | undefined;
  ends_at?: number | undefined;
  is_one_time_use: boolean;
  max_time_rounding?: MaxTimeRounding | undefined;
}

const ALGOPIN_WARNING = 'igloo_algopin_must_be_used_within_24_hours';

/**
 * Creates an offline (algoPIN) code on a device whose row the caller holds locked in `tx`: classify and
 * round the time frame, enforce the 199-code cap and the slot limits, take the lowest free variance, have
 * the code server issue the PIN, and record the code, its action attempt, its events and its first
 * lifecycle step. Throws AccessCodeRuleError for every igloohome rule; nothing is written then.
 */
export async function createOfflineAccessCode(
  services: Pick<Services, 'providers'>,
  tx: Db,
  device: DeviceRecord,
  request: OfflineCodeRequest,
  now: number,
): Promise<{ code: AccessCodeRecord; attempt: ActionAttemptRecord }> {
  if (!deviceCapabilities(device).can_program_offline_access_codes) {
    throw new AccessCodeRuleError(
      400,
      'offline_access_codes_not_supported',
      'This device cannot take offline access codes (can_program_offline_access_codes is false).',
    );
  }
  const frame = planOfflineTimeFrame({ ...request, now });

  const live = await countLiveCodes(tx, device.device_id);
  if (live >= MAX_ACTIVE_CODES) throw maxCodesError(live);

  const slot = slotOf(frame, device.time_zone);
  const taken = [...((await takenVariances(tx, device.device_id, [slot.slot_key])).get(slot.slot_key) ?? [])];
  // The lowest free variance, except one whose PIN equals a live code's on this lock (two codes 26·k hours
  // apart can collide with odds 1/T, see docs/algopin.md §7): the lock could not tell them apart.
  const provider = await services.providers.forDevice(tx, device);
  let variance: number | null;
  let pin: string | null;
  for (;;) {
    variance = lowestFreeVariance(slot.capacity, taken);
    if (variance === null) throw await slotFull(tx, device, frame, now);
    pin = await provider.issueOfflinePin(tx, device, pinParams(frame, variance));
    if (pin === null || !(await findLiveCodeOnDevice(tx, device.workspace_id, device.device_id, pin))) break;
    taken.push(variance);
  }
  // The end is in the future (planOfflineTimeFrame checked), so the code starts unset, setting or set.
  const step = stepAt(frame, now) as 'unset' | 'setting' | 'set';
  const code: AccessCodeRecord = {
    access_code_id: uuidv7(),
    workspace_id: device.workspace_id,
    device_id: device.device_id,
    name: request.name ?? null,
    code: pin,
    common_code_key: null,
    type: frame.type,
    kind: frame.kind,
    is_offline: true,
    is_one_time_use: frame.kind === 'one_time',
    starts_at: frame.starts_at,
    ends_at: frame.ends_at,
    status: step,
    slot_key: slot.slot_key,
    variance,
    warnings: frame.longer_than_24_hours
      ? [
          {
            warning_code: ALGOPIN_WARNING,
            message: 'Algopins must be used within 24 hours.',
            created_at: now,
          },
        ]
      : [],
    errors: [],
    created_at: now,
    removed_at: null,
    programmed_code: null,
    delete_requested: false,
  };
  await insertAccessCode(tx, code);

  // The built-in code server answers at once; a remote one leaves the attempt pending (code: null).
  const attempt = await recordActionAttempt(
    tx,
    device,
    'CREATE_ACCESS_CODE',
    pin === null
      ? { status: 'pending' }
      : { status: 'success', result: { access_code: toSeamAccessCode(code) } },
    now,
  );

  await recordEvents(tx, [
    accessCodeEvent(stampAt(now), 'access_code.created', device, code),
    ...(code.status === 'set' ? stepEvents('set', device, code, now, now) : []),
  ]);
  await scheduleNextStep(tx, code, step, now);
  // A remote code server answers later: a durable job asks it, and completes the code and the attempt.
  if (pin === null) await scheduleRemotePin(tx, code, attempt.action_attempt_id, now);
  return { code, attempt };
}

function pinParams(frame: OfflineTimeFrame, variance: number): PinParams {
  return {
    kind: frame.kind,
    startHour: frame.startHour,
    variance,
    ...(frame.kind === 'hourly' ? { durationHours: frame.durationHours } : {}),
    ...(frame.kind === 'daily' ? { durationDays: frame.durationDays } : {}),
  };
}

/** The 409 for a full slot, naming free slots nearby so the client can retry sensibly. */
async function slotFull(tx: Db, device: DeviceRecord, frame: OfflineTimeFrame, now: number) {
  const slot = slotOf(frame, device.time_zone);
  const candidates = nearbySlotStarts(frame, {
    timeZone: device.time_zone,
    now,
    count: NEARBY_SLOT_CANDIDATES,
  });
  const taken = await takenVariances(
    tx,
    device.device_id,
    candidates.map((c) => c.slot_key),
  );
  return slotFullError(
    slot,
    candidates.map((c) => ({
      starts_at: c.slot_starts_at,
      free_variances: c.capacity - (taken.get(c.slot_key)?.length ?? 0),
    })),
  );
}
