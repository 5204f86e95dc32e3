// Virtual lock firmware. Depends on the algoPIN engine only (contract §1: never the server or database).

export type { ClockState } from './clock.ts';
export {
  BACKOFF_BASE_MS,
  BACKOFF_CAP_MS,
  backoffMs,
  FREE_FAILURES,
  LEAK_INTERVAL_MS,
  type LockoutState,
} from './lockout.ts';
export {
  type AccessLogEntry,
  type ActivatedEntry,
  type Capacities,
  DEFAULT_CAPACITIES,
  type DenialReason,
  type Detail,
  type LockState,
  LockStateError,
  type LogEvent,
  type OneTimeUse,
  type OnlineCode,
  type Revocation,
} from './state.ts';
export {
  type CreateOptions,
  type DeletePinResult,
  type EnterPinResult,
  LockStorageFullError,
  VirtualLock,
} from './virtual-lock.ts';
