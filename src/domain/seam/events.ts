import type { AccessCodeRecord, DeviceRecord } from '../records.ts';
import { isoUtc } from '../time.ts';

// Seam event objects (discriminated on `event_type`). The caller supplies ids and instants (workspace clock).

export interface EventStamp {
  event_id: string;
  /** When it happened (a scheduled transition may be recorded a little later). */
  occurred_at: number;
  /** When the server recorded it. */
  created_at: number;
}

export interface SeamEvent {
  event_id: string;
  event_type: string;
  workspace_id: string;
  created_at: string;
  occurred_at: string;
  device_id?: string;
  access_code_id?: string;
  [field: string]: unknown;
}

const DESCRIPTIONS: Record<string, string> = {
  'access_code.created': 'An access code was created.',
  'access_code.set_on_device': 'An access code is active on the lock.',
  'access_code.removed_from_device': 'An access code was removed from the lock.',
  'access_code.deleted': 'An access code was deleted.',
  'access_code.delay_in_setting_on_device': 'Programming an access code on the lock is delayed.',
  'access_code.delay_in_removing_from_device': 'Removing an access code from the lock is delayed.',
  'access_code.failed_to_set_on_device': 'The code server could not issue an access code.',
  'device.connected': 'A device came back on-line.',
  'device.disconnected': 'A device went off-line.',
  'lock.unlocked': 'A lock was unlocked.',
  'lock.access_denied': 'A lock refused an entry.',
};

function base(stamp: EventStamp, type: string, device: DeviceRecord): SeamEvent {
  return {
    event_id: stamp.event_id,
    event_type: type,
    event_description: DESCRIPTIONS[type] ?? type,
    workspace_id: device.workspace_id,
    created_at: isoUtc(stamp.created_at),
    occurred_at: isoUtc(stamp.occurred_at),
    device_id: device.device_id,
    connected_account_id: device.connected_account_id,
  };
}

export type AccessCodeEventType =
  | 'access_code.created'
  | 'access_code.set_on_device'
  | 'access_code.removed_from_device'
  | 'access_code.deleted';

/** `set_on_device` and `deleted` carry the code, as the Seam models require. */
export function accessCodeEvent(
  stamp: EventStamp,
  type: AccessCodeEventType,
  device: DeviceRecord,
  code: AccessCodeRecord,
): SeamEvent {
  const event = { ...base(stamp, type, device), access_code_id: code.access_code_id };
  if (type === 'access_code.set_on_device') return { ...event, code: code.code ?? '' };
  if (type === 'access_code.deleted') return { ...event, code: code.code };
  return event;
}

export function lockUnlockedByKeypad(
  stamp: EventStamp,
  device: DeviceRecord,
  code: AccessCodeRecord | null,
  action_attempt_id: string,
): SeamEvent {
  return {
    ...base(stamp, 'lock.unlocked', device),
    method: 'keycode',
    action_attempt_id,
    ...(code ? { access_code_id: code.access_code_id, access_code_is_managed: true } : {}),
  };
}

export type DenialReasonCode = 'unknown_code' | 'expired_code' | 'blocklisted_code' | 'too_many_attempts';

export function lockAccessDenied(
  stamp: EventStamp,
  device: DeviceRecord,
  reason_code: DenialReasonCode,
  message: string,
  code: AccessCodeRecord | null,
): SeamEvent {
  return {
    ...base(stamp, 'lock.access_denied', device),
    reason: { reason_code, message },
    ...(code ? { access_code_id: code.access_code_id } : {}),
  };
}

export type DelayEventType =
  | 'access_code.delay_in_setting_on_device'
  | 'access_code.delay_in_removing_from_device';

/** A bridge delay: the Seam model wants the six issue arrays, filled from the device and the code. */
export function accessCodeDelayEvent(
  stamp: EventStamp,
  type: DelayEventType,
  device: DeviceRecord,
  code: AccessCodeRecord,
  deviceError: { error_code: string; message: string },
  warning: { warning_code: string; message: string },
): SeamEvent {
  const at = isoUtc(stamp.occurred_at);
  return {
    ...base(stamp, type, device),
    access_code_id: code.access_code_id,
    connected_account_errors: [],
    connected_account_warnings: [],
    device_errors: [{ ...deviceError, created_at: at }],
    device_warnings: [],
    access_code_errors: [],
    access_code_warnings: [{ ...warning, created_at: at }],
  };
}

export function deviceConnected(stamp: EventStamp, device: DeviceRecord): SeamEvent {
  return base(stamp, 'device.connected', device);
}

export function deviceDisconnected(
  stamp: EventStamp,
  device: DeviceRecord,
  error: { error_code: 'hub_disconnected'; message: string },
): SeamEvent {
  const at = isoUtc(stamp.occurred_at);
  return {
    ...base(stamp, 'device.disconnected', device),
    error_code: error.error_code,
    connected_account_errors: [],
    connected_account_warnings: [],
    device_errors: [{ error_code: error.error_code, message: error.message, created_at: at }],
    device_warnings: [],
  };
}

/** `access_code.failed_to_set_on_device`: the code server refused; the reason is in `access_code_errors`. */
export function accessCodeFailedToSet(
  stamp: EventStamp,
  device: DeviceRecord,
  code: AccessCodeRecord,
  error: { error_code: string; message: string },
): SeamEvent {
  const at = isoUtc(stamp.occurred_at);
  return {
    ...base(stamp, 'access_code.failed_to_set_on_device', device),
    access_code_id: code.access_code_id,
    connected_account_errors: [],
    connected_account_warnings: [],
    device_errors: [],
    device_warnings: [],
    access_code_errors: [{ ...error, created_at: at }],
    access_code_warnings: [],
  };
}
