// Time rules shared by the code server (what to tell the user) and the lock (what to accept).

import { type DecodedPin, encodeDescriptor, type PinParams, paramsOf, pinTag } from './pin.ts';
import { ACTIVATION_WINDOW_HOURS, DRIFT_GRACE_MS, HOUR_MS, START_RESIDUE_MODULUS } from './spec.ts';

export interface CodeWindow {
  /** Nominal validity [startMs, endMs); endMs null = permanent. */
  startMs: number;
  endMs: number | null;
  /** What the lock enforces on its own clock: [acceptFromMs, acceptUntilMs), grace added at both ends. */
  acceptFromMs: number;
  acceptUntilMs: number | null;
  /** Codes with a window longer than 24 h must first be used before this instant (exclusive); else null. */
  activationDeadlineMs: number | null;
  oneTimeUse: boolean;
}

/** Window length in hours (null = no end). Validates params. */
export function windowHoursOf(params: PinParams): number | null {
  encodeDescriptor(params);
  switch (params.kind) {
    case 'hourly':
      return params.durationHours as number;
    case 'daily':
      return (params.durationDays as number) * 24;
    case 'one_time':
      return 24;
    case 'permanent':
      return null;
  }
}

export function codeWindow(params: PinParams): CodeWindow {
  const hours = windowHoursOf(params);
  const startMs = params.startHour * HOUR_MS;
  const endMs = hours === null ? null : startMs + hours * HOUR_MS;
  const needsActivation = params.kind !== 'one_time' && (hours === null || hours > ACTIVATION_WINDOW_HOURS);
  return {
    startMs,
    endMs,
    acceptFromMs: startMs - DRIFT_GRACE_MS,
    acceptUntilMs: endMs === null ? null : endMs + DRIFT_GRACE_MS,
    activationDeadlineMs: needsActivation
      ? startMs + ACTIVATION_WINDOW_HOURS * HOUR_MS + DRIFT_GRACE_MS
      : null,
    oneTimeUse: params.kind === 'one_time',
  };
}

/**
 * The one start hour a lock tries for a PIN with this residue at local time `lockNowMs`: the unique
 * S ≡ residue (mod 26) in [hMax − 25, hMax], hMax = floor((lockNowMs + grace) / 1 h). Every code still in
 * its activation window (or, for ≤ 24 h codes, its whole window) has its start hour in [hMax − 24, hMax].
 */
export function candidateStartHour(residue: number, lockNowMs: number): number {
  const hMax = Math.floor((lockNowMs + DRIFT_GRACE_MS) / HOUR_MS);
  const back = (((hMax - residue) % START_RESIDUE_MODULUS) + START_RESIDUE_MODULUS) % START_RESIDUE_MODULUS;
  return hMax - back;
}

export interface Candidate {
  startHour: number;
  params: PinParams;
  /** True when the PIN's tag is the HMAC of (class, startHour, descriptor) under this key. */
  tagMatches: boolean;
}

/** Check a decoded PIN against its single candidate start hour: exactly one HMAC. Null if that hour is < 0. */
export function verifyCandidate(
  pinKey: Uint8Array,
  decoded: DecodedPin,
  lockNowMs: number,
): Candidate | null {
  const startHour = candidateStartHour(decoded.residue, lockNowMs);
  if (startHour < 0) return null;
  const tag = pinTag(pinKey, decoded.pinLength, startHour, decoded.descriptor);
  return { startHour, params: paramsOf(decoded, startHour), tagMatches: tag === decoded.tag };
}

/** Worst-case HMAC computations for one keypad attempt (documented; asserted by the tests). */
export const VERIFY_HMACS_WORST_CASE = 1;
