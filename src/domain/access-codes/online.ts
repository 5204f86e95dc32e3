import type { AccessCodeRecord } from '../records.ts';
import { ONLINE_CODE_LENGTHS } from '../seam/device.ts';
import { isoUtc } from '../time.ts';
import { AccessCodeRuleError } from './rule-error.ts';

// Online codes: custom PINs programmed on the lock through its bridge (contract §6). The server keeps what it
// wants on the lock; a bridge job makes the lock hold exactly that (see `bridgeWork`).

export interface OnlineTimeFrame {
  type: 'time_bound' | 'ongoing';
  starts_at: number | null;
  ends_at: number | null;
}

/** Both instants (time-bound) or neither (ongoing); the end after the start and in the future. */
export function planOnlineTimeFrame(req: {
  starts_at?: number | undefined;
  ends_at?: number | undefined;
  now: number;
}): OnlineTimeFrame {
  const { starts_at, ends_at, now } = req;
  if (starts_at === undefined && ends_at === undefined)
    return { type: 'ongoing', starts_at: null, ends_at: null };
  if (starts_at === undefined || ends_at === undefined) {
    throw new AccessCodeRuleError(
      400,
      'invalid_input',
      'Give both starts_at and ends_at for a time-bound code, or neither for an ongoing one.',
    );
  }
  if (ends_at <= starts_at)
    throw new AccessCodeRuleError(400, 'invalid_input', 'ends_at must be after starts_at.');
  if (ends_at <= now) {
    throw new AccessCodeRuleError(
      400,
      'invalid_input',
      `ends_at must be in the future (now is ${isoUtc(now)}).`,
    );
  }
  return { type: 'time_bound', starts_at, ends_at };
}

/** A custom PIN must fit the lock's keypad: digits only, one of its supported lengths. */
export function checkOnlineCode(code: string): void {
  if (!/^\d+$/.test(code) || !ONLINE_CODE_LENGTHS.includes(code.length)) {
    throw new AccessCodeRuleError(
      400,
      'invalid_input',
      `code must be ${ONLINE_CODE_LENGTHS.join(', ')} digits long on this lock (algoPINs, 7 digits and more, are ` +
        'issued by the server: use is_offline_access_code).',
    );
  }
}

export function duplicateCodeError(deviceId: string): AccessCodeRuleError {
  return new AccessCodeRuleError(
    409,
    'duplicate_access_code',
    'This lock already has a live access code with the same PIN; choose another code.',
    { device_id: deviceId },
  );
}

type Desired = Pick<AccessCodeRecord, 'starts_at' | 'ends_at' | 'delete_requested'>;

/** Whether the lock should hold the code at instant `t`. */
export function wantedOnLock(code: Desired, t: number): boolean {
  if (code.delete_requested) return false;
  if (code.starts_at !== null && t < code.starts_at) return false;
  return code.ends_at === null || t < code.ends_at;
}

export interface BridgeWork {
  /** A PIN to take off the lock first (the old one after a code change, or the code itself at its end). */
  remove: string | null;
  /** A PIN to put on the lock. */
  program: string | null;
  /** After this, the code is gone for good (ended or deleted). */
  finished: boolean;
  /** When the code next needs the bridge (its start or end); null when nothing is scheduled. */
  next_at: number | null;
}

/** What the bridge must do at `t` to make the lock hold what the server wants. */
export function bridgeWork(
  code: Desired & Pick<AccessCodeRecord, 'code' | 'programmed_code'>,
  t: number,
): BridgeWork {
  const wanted = wantedOnLock(code, t);
  const target = wanted ? code.code : null;
  const remove =
    code.programmed_code !== null && code.programmed_code !== target ? code.programmed_code : null;
  const program = target !== null && target !== code.programmed_code ? target : null;
  const over = code.delete_requested || (code.ends_at !== null && t >= code.ends_at);
  const next_at = over ? null : code.starts_at !== null && t < code.starts_at ? code.starts_at : code.ends_at;
  return { remove, program, finished: over, next_at };
}
