// The numbers that define algoPIN v1. docs/algopin.md is the normative text; every constant here is
// quoted there, and changing any of them changes PINs (so it would be a new version, not a fix).

export type CodeKind = 'hourly' | 'daily' | 'one_time' | 'permanent';

/** PIN lengths in use. The lock learns the length class from the number of keys pressed. */
export type PinLength = 8 | 9 | 10;

export const HOUR_MS = 3_600_000;

/**
 * Clock-drift grace applied at both ends of every window (and to the activation deadline).
 * 15 min covers a ±20 ppm crystal for about a year without resync, and the contract allows 5 min–1 h.
 */
export const DRIFT_GRACE_MS = 15 * 60_000;

/** A code whose window is longer than this must be used once within this many hours of its start. */
export const ACTIVATION_WINDOW_HOURS = 24;

/**
 * The PIN carries `startHour mod 26` in clear. Every start hour a lock can still have to recognise
 * without its table lies in a span of at most 24 h + 2 × grace ≤ 26 h, so the residue names exactly one
 * candidate start hour: verification costs one HMAC. 26 keeps that true for any grace up to 1 h.
 */
export const START_RESIDUE_MODULUS = 26;

/** Start hours and epochs are encoded as unsigned 32-bit integers. */
export const MAX_START_HOUR = 0xffff_ffff;
export const MAX_EPOCH = 0xffff_ffff;

/** Domain-separation prefix of the HMAC message and of the HKDF strings ("algoPIN v1"). */
export const TAG_DOMAIN = 'apin1';
export const HKDF_SALT = 'latchkey-algopin-v1';
export const hkdfInfo = (epoch: number): string => `apin1|epoch=${epoch}`;

export interface DurationRange {
  readonly unit: 'hours' | 'days';
  readonly min: number;
  readonly max: number;
}

export interface KindLimits {
  readonly pinLength: PinLength;
  /** Variance runs 1..maxVariance: how many distinct PINs one (kind, start, duration) can have. */
  readonly maxVariance: number;
  /** Allowed duration; one_time is fixed at 24 h; permanent has none. */
  readonly duration: DurationRange | null;
  /** First descriptor of this kind inside its length class (hourly and daily share the 10-digit class). */
  readonly descriptorOffset: number;
  /** Number of descriptors: (max − min + 1) durations × maxVariance. */
  readonly descriptorCount: number;
}

function limits(
  pinLength: PinLength,
  maxVariance: number,
  duration: DurationRange | null,
  descriptorOffset: number,
): KindLimits {
  const durations = duration === null ? 1 : duration.max - duration.min + 1;
  return Object.freeze({
    pinLength,
    maxVariance,
    duration: duration && Object.freeze({ ...duration }),
    descriptorOffset,
    descriptorCount: durations * maxVariance,
  });
}

/** Single source of truth for the igloohome-compatible ranges. */
export const KIND_LIMITS: Readonly<Record<CodeKind, KindLimits>> = Object.freeze({
  hourly: limits(10, 3, { unit: 'hours', min: 1, max: 672 }, 0),
  daily: limits(10, 3, { unit: 'days', min: 29, max: 367 }, 672 * 3),
  one_time: limits(8, 5, { unit: 'hours', min: 24, max: 24 }, 0),
  permanent: limits(9, 3, null, 0),
});

export interface PinClass {
  readonly pinLength: PinLength;
  /** Kinds sharing this length, in descriptor order. */
  readonly kinds: readonly CodeKind[];
  readonly descriptorCount: number;
  /** descriptorCount × START_RESIDUE_MODULUS: the values the leading part of the PIN can take. */
  readonly cellCount: number;
  /** floor(10^L / cellCount): the tag is reduced modulo this. 1/tagModulus is the per-guess chance. */
  readonly tagModulus: number;
}

function pinClass(pinLength: PinLength, kinds: CodeKind[]): PinClass {
  const descriptorCount = kinds.reduce((n, k) => n + KIND_LIMITS[k].descriptorCount, 0);
  const cellCount = descriptorCount * START_RESIDUE_MODULUS;
  return Object.freeze({
    pinLength,
    kinds: Object.freeze(kinds),
    descriptorCount,
    cellCount,
    tagModulus: Math.floor(10 ** pinLength / cellCount),
  });
}

export const PIN_CLASSES: Readonly<Record<PinLength, PinClass>> = Object.freeze({
  8: pinClass(8, ['one_time']),
  9: pinClass(9, ['permanent']),
  10: pinClass(10, ['hourly', 'daily']),
});

export function isPinLength(n: number): n is PinLength {
  return n === 8 || n === 9 || n === 10;
}
