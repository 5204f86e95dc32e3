// Keypad lockout: a leaky failure counter with exponential backoff, kept in persistent state.
// Only time (the leak) and a Bluetooth admin clear it; a correct PIN never touches it, otherwise a guest
// holding one valid code could interleave it with guesses and never be slowed down.

/** Wrong PINs allowed before the first lockout (contract: lockout at the latest after 10 within an hour). */
export const FREE_FAILURES = 5;
/** Lockout after failure number FREE_FAILURES + n (n ≥ 1) is min(BACKOFF_BASE_MS × 2^(n−1), BACKOFF_CAP_MS). */
export const BACKOFF_BASE_MS = 60_000;
export const BACKOFF_CAP_MS = 4 * 3_600_000;
/** One failure is forgiven per LEAK_INTERVAL_MS; equal to the cap, so the long-run rate is ≤ 1 guess / 4 h. */
export const LEAK_INTERVAL_MS = 4 * 3_600_000;

export interface LockoutState {
  /** Current (leaky) count of wrong PINs. */
  failures: number;
  /** Lock-clock instant from which the next leak is counted. */
  leakAnchorMs: number;
  /** Keypad refused (too_many_attempts) while the lock clock is before this instant. 0 = not locked. */
  lockedUntilMs: number;
  /** Lifetime count of wrong PINs (never leaks; for the access log and audits). */
  totalFailures: number;
}

export const emptyLockout = (): LockoutState => ({
  failures: 0,
  leakAnchorMs: 0,
  lockedUntilMs: 0,
  totalFailures: 0,
});

/** Apply the leak up to nowMs (lock clock). Never moves backwards if the clock was set back. */
export function leak(state: LockoutState, nowMs: number): void {
  if (state.failures === 0 || nowMs <= state.leakAnchorMs) return;
  const k = Math.floor((nowMs - state.leakAnchorMs) / LEAK_INTERVAL_MS);
  if (k <= 0) return;
  state.failures = Math.max(0, state.failures - k);
  state.leakAnchorMs += k * LEAK_INTERVAL_MS;
}

export function backoffMs(failures: number): number {
  const over = failures - FREE_FAILURES;
  if (over <= 0) return 0;
  return Math.min(BACKOFF_BASE_MS * 2 ** Math.min(over - 1, 30), BACKOFF_CAP_MS);
}

/** Record one wrong PIN at nowMs (after leak()). Returns the lockout end, or 0 when not locked. */
export function recordFailure(state: LockoutState, nowMs: number): number {
  if (state.failures === 0) state.leakAnchorMs = nowMs;
  state.failures += 1;
  state.totalFailures += 1;
  const wait = backoffMs(state.failures);
  if (wait > 0) state.lockedUntilMs = Math.max(state.lockedUntilMs, nowMs + wait);
  return wait > 0 ? state.lockedUntilMs : 0;
}

export function isLockedOut(state: LockoutState, nowMs: number): boolean {
  return nowMs < state.lockedUntilMs;
}
