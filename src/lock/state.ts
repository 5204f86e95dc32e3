// Everything the lock keeps in non-volatile memory, and its JSON form (serialize/restore = power cycle).

import type { CodeKind } from '../algopin/index.ts';
import type { ClockState } from './clock.ts';
import type { LockoutState } from './lockout.ts';

export type DenialReason = 'unknown_code' | 'expired_code' | 'blocklisted_code' | 'too_many_attempts';

/** Why, in more words than the Seam reason code (for people and logs; not part of the Seam vocabulary). */
export type Detail =
  | 'activated_code'
  | 'within_window'
  | 'activated_now'
  | 'one_time_used_now'
  | 'not_an_algopin'
  | 'online_code'
  | 'no_match'
  | 'window_ended'
  | 'activation_window_missed'
  | 'already_used'
  | 'revoked'
  | 'locked_out'
  | 'activation_table_full'
  | 'one_time_memory_full';

/** A long code (> 24 h, or permanent) that was used inside its activation window. */
export interface ActivatedEntry {
  pin: string;
  kind: CodeKind;
  startHour: number;
  variance: number;
  windowHours: number | null;
  acceptFromMs: number;
  /** null = permanent. */
  acceptUntilMs: number | null;
  activatedAtMs: number;
  epoch: number;
}

/** A one-time code that has opened the door; kept until its window is over so it cannot be replayed. */
export interface OneTimeUse {
  pin: string;
  startHour: number;
  usedAtMs: number;
  untilMs: number;
}

/** A custom PIN (4–6 digits) programmed through the bridge; opens by exact match, no window, no key. */
export interface OnlineCode {
  pin: string;
  /** Lock time at which the bridge programmed it. */
  programmedAtMs: number;
}

/** An online code is 4 to 6 digits; an algoPIN is 7 or more, so the length says which table to check. */
export const ONLINE_PIN = /^[0-9]{4,6}$/;

/** A PIN deleted over Bluetooth. untilMs null = kept for ever (start unknown, or permanent code). */
export interface Revocation {
  pin: string;
  /** Lock time of the deletion; null when the admin call gave no time. */
  revokedAtMs: number | null;
  untilMs: number | null;
}

export type LogEvent =
  | 'pin_accepted'
  | 'pin_denied'
  | 'set_time'
  | 'delete_pin'
  | 'clear_lockout'
  | 'rotate_key'
  | 'program_online_code'
  | 'remove_online_code';

export interface AccessLogEntry {
  seq: number;
  /** Lock-clock time (what a real lock would record), or null when the admin call gave no time. */
  at: number | null;
  event: LogEvent;
  pin?: string;
  reason_code?: DenialReason;
  detail?: Detail;
  kind?: CodeKind;
  startHour?: number;
  variance?: number;
  epoch?: number;
}

export interface Capacities {
  /** Activated long codes; a full table refuses new activations rather than evicting a live code. */
  activated: number;
  /** One-time codes in use at once: at most 5 variances × 25 start hours = 125 can be live. */
  oneTime: number;
  revoked: number;
  /** Access log ring: the oldest entries are dropped (a real lock uploads them on sync). */
  log: number;
  /** Online codes programmed through the bridge; a full table refuses a new one (nothing is evicted). */
  onlineCodes: number;
}

export const DEFAULT_CAPACITIES: Readonly<Capacities> = Object.freeze({
  activated: 200,
  oneTime: 130,
  revoked: 200,
  log: 1000,
  onlineCodes: 199,
});

export const STATE_FORMAT = 'latchkey.virtual-lock';
export const STATE_VERSION = 1;

export interface LockState {
  format: typeof STATE_FORMAT;
  version: typeof STATE_VERSION;
  /** 64 hex digits. The state file is as secret as the key file. */
  lockKey: string;
  epoch: number;
  clock: ClockState;
  lockout: LockoutState;
  activated: ActivatedEntry[];
  oneTimeUsed: OneTimeUse[];
  revoked: Revocation[];
  /** Absent from states written before online codes existed: restored as an empty table. */
  onlineCodes: OnlineCode[];
  log: { nextSeq: number; entries: AccessLogEntry[] };
  capacities: Capacities;
}

export class LockStateError extends Error {
  override readonly name = 'LockStateError';
}

// --- validation of restored JSON: a corrupt state file must fail loudly, not half-work ---

type Obj = Record<string, unknown>;

function obj(v: unknown, where: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new LockStateError(`${where}: expected an object`);
  return v as Obj;
}
function int(o: Obj, k: string, where: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v))
    throw new LockStateError(`${where}.${k}: expected an integer`);
  return v;
}
function intOrNull(o: Obj, k: string, where: string): number | null {
  return o[k] === null ? null : int(o, k, where);
}
function str(o: Obj, k: string, where: string): string {
  const v = o[k];
  if (typeof v !== 'string') throw new LockStateError(`${where}.${k}: expected a string`);
  return v;
}
function arr(o: Obj, k: string, where: string): unknown[] {
  const v = o[k];
  if (!Array.isArray(v)) throw new LockStateError(`${where}.${k}: expected an array`);
  return v;
}
const KINDS: readonly string[] = ['hourly', 'daily', 'one_time', 'permanent'];
function kind(o: Obj, k: string, where: string): CodeKind {
  const v = str(o, k, where);
  if (!KINDS.includes(v)) throw new LockStateError(`${where}.${k}: unknown kind ${v}`);
  return v as CodeKind;
}

function optional<T>(o: Obj, k: string, read: () => T): T | undefined {
  return o[k] === undefined ? undefined : read();
}

/**
 * Parse and check a serialized state. The result is in normal form (fixed key order, unknown fields dropped),
 * which is also what serialize() writes, so restore → serialize is byte-identical. Fields added after
 * version 1 was first written (the online-code table and its capacity) take their defaults when absent, so an
 * older state restores; its first serialize() writes them out, and that form is stable from then on.
 */
export function parseState(json: string): LockState {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new LockStateError(`not JSON: ${(e as Error).message}`);
  }
  const o = obj(raw, 'state');
  if (o.format !== STATE_FORMAT) throw new LockStateError(`state.format: expected "${STATE_FORMAT}"`);
  if (o.version !== STATE_VERSION)
    throw new LockStateError(`state.version: unsupported ${String(o.version)}`);
  const lockKey = str(o, 'lockKey', 'state');
  if (!/^[0-9a-f]{64}$/.test(lockKey))
    throw new LockStateError('state.lockKey: expected 64 lowercase hex digits');
  const c = obj(o.clock, 'state.clock');
  const l = obj(o.lockout, 'state.lockout');
  const cap = obj(o.capacities, 'state.capacities');
  const log = obj(o.log, 'state.log');
  const state: LockState = {
    format: STATE_FORMAT,
    version: STATE_VERSION,
    lockKey,
    epoch: int(o, 'epoch', 'state'),
    clock: {
      offsetMs: int(c, 'offsetMs', 'clock'),
      ratePpm: ((): number => {
        const v = c.ratePpm;
        if (typeof v !== 'number' || !Number.isFinite(v))
          throw new LockStateError('clock.ratePpm: expected a number');
        return v;
      })(),
      rateAnchorMs: int(c, 'rateAnchorMs', 'clock'),
    },
    lockout: {
      failures: int(l, 'failures', 'lockout'),
      leakAnchorMs: int(l, 'leakAnchorMs', 'lockout'),
      lockedUntilMs: int(l, 'lockedUntilMs', 'lockout'),
      totalFailures: int(l, 'totalFailures', 'lockout'),
    },
    activated: arr(o, 'activated', 'state').map((v, i) => {
      const e = obj(v, `activated[${i}]`);
      const w = `activated[${i}]`;
      return {
        pin: str(e, 'pin', w),
        kind: kind(e, 'kind', w),
        startHour: int(e, 'startHour', w),
        variance: int(e, 'variance', w),
        windowHours: intOrNull(e, 'windowHours', w),
        acceptFromMs: int(e, 'acceptFromMs', w),
        acceptUntilMs: intOrNull(e, 'acceptUntilMs', w),
        activatedAtMs: int(e, 'activatedAtMs', w),
        epoch: int(e, 'epoch', w),
      };
    }),
    oneTimeUsed: arr(o, 'oneTimeUsed', 'state').map((v, i) => {
      const e = obj(v, `oneTimeUsed[${i}]`);
      const w = `oneTimeUsed[${i}]`;
      return {
        pin: str(e, 'pin', w),
        startHour: int(e, 'startHour', w),
        usedAtMs: int(e, 'usedAtMs', w),
        untilMs: int(e, 'untilMs', w),
      };
    }),
    revoked: arr(o, 'revoked', 'state').map((v, i) => {
      const e = obj(v, `revoked[${i}]`);
      const w = `revoked[${i}]`;
      return {
        pin: str(e, 'pin', w),
        revokedAtMs: intOrNull(e, 'revokedAtMs', w),
        untilMs: intOrNull(e, 'untilMs', w),
      };
    }),
    onlineCodes: o.onlineCodes === undefined ? [] : onlineCodes(arr(o, 'onlineCodes', 'state')),
    log: {
      nextSeq: int(log, 'nextSeq', 'log'),
      entries: arr(log, 'entries', 'log').map((v, i) => {
        const e = obj(v, `log.entries[${i}]`);
        const w = `log.entries[${i}]`;
        const entry: AccessLogEntry = {
          seq: int(e, 'seq', w),
          at: intOrNull(e, 'at', w),
          event: str(e, 'event', w) as LogEvent,
        };
        // Optional fields are copied in a fixed order so that serialize(restore(x)) === x.
        const pin = optional(e, 'pin', () => str(e, 'pin', w));
        if (pin !== undefined) entry.pin = pin;
        const reason = optional(e, 'reason_code', () => str(e, 'reason_code', w));
        if (reason !== undefined) entry.reason_code = reason as DenialReason;
        const detail = optional(e, 'detail', () => str(e, 'detail', w));
        if (detail !== undefined) entry.detail = detail as Detail;
        const k = optional(e, 'kind', () => kind(e, 'kind', w));
        if (k !== undefined) entry.kind = k;
        const sh = optional(e, 'startHour', () => int(e, 'startHour', w));
        if (sh !== undefined) entry.startHour = sh;
        const va = optional(e, 'variance', () => int(e, 'variance', w));
        if (va !== undefined) entry.variance = va;
        const ep = optional(e, 'epoch', () => int(e, 'epoch', w));
        if (ep !== undefined) entry.epoch = ep;
        return entry;
      }),
    },
    capacities: {
      activated: int(cap, 'activated', 'capacities'),
      oneTime: int(cap, 'oneTime', 'capacities'),
      revoked: int(cap, 'revoked', 'capacities'),
      log: int(cap, 'log', 'capacities'),
      onlineCodes:
        cap.onlineCodes === undefined
          ? DEFAULT_CAPACITIES.onlineCodes
          : int(cap, 'onlineCodes', 'capacities'),
    },
  };
  if (state.onlineCodes.length > state.capacities.onlineCodes)
    throw new LockStateError('state.onlineCodes: more entries than capacities.onlineCodes');
  return state;
}

function onlineCodes(list: unknown[]): OnlineCode[] {
  const seen = new Set<string>();
  return list.map((v, i) => {
    const w = `onlineCodes[${i}]`;
    const e = obj(v, w);
    const pin = str(e, 'pin', w);
    if (!ONLINE_PIN.test(pin)) throw new LockStateError(`${w}.pin: expected 4 to 6 digits`);
    if (seen.has(pin)) throw new LockStateError(`${w}.pin: duplicate ${pin}`);
    seen.add(pin);
    return { pin, programmedAtMs: int(e, 'programmedAtMs', w) };
  });
}
