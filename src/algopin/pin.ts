// Encoding and decoding of a PIN. Layout (all in decimal, zero-padded to the class length L):
//   PIN = (descriptor × 26 + startHour mod 26) × T + tag,   T = PIN_CLASSES[L].tagModulus
//   tag = uint64be(HMAC-SHA256(K_pin, "apin1" ‖ u8 L ‖ u32be startHour ‖ u16be descriptor)[0..8]) mod T

import { createHmac } from 'node:crypto';
import { AlgoPinParamError } from './errors.ts';
import {
  type CodeKind,
  isPinLength,
  KIND_LIMITS,
  MAX_START_HOUR,
  PIN_CLASSES,
  type PinLength,
  START_RESIDUE_MODULUS,
  TAG_DOMAIN,
} from './spec.ts';

export interface PinParams {
  kind: CodeKind;
  /** UTC epoch hours = floor(unixMs / 3_600_000). */
  startHour: number;
  /** hourly: 1..672. one_time: optional, must be 24. */
  durationHours?: number;
  /** daily: 29..367. */
  durationDays?: number;
  /** 1..3 (1..5 for one_time). */
  variance: number;
}

/** What a lock can read from a PIN without the key. */
export interface DecodedPin {
  pin: string;
  pinLength: PinLength;
  kind: CodeKind;
  /** Descriptor inside the length class (hourly and daily share one range). */
  descriptor: number;
  /** startHour mod 26. */
  residue: number;
  tag: number;
  variance: number;
  /** Window length in hours: hourly h, daily 24·d, one_time 24, permanent null (no end). */
  windowHours: number | null;
  durationHours?: number;
  durationDays?: number;
}

const DOMAIN = Buffer.from(TAG_DOMAIN, 'ascii');
const TWO_POW_32 = 2 ** 32;

let hmacCount = 0;
/** Number of HMAC-SHA256 computations the engine has made (instrumentation for tests and the benchmark). */
export function getHmacCount(): number {
  return hmacCount;
}

function requireInt(field: string, value: unknown, min: number, max: number, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new AlgoPinParamError(field, `${what} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
  return value;
}

function forbid(field: string, value: unknown, kind: CodeKind): void {
  if (value !== undefined) throw new AlgoPinParamError(field, `${field} is not a parameter of ${kind} codes`);
}

/** Validate params (throws AlgoPinParamError) and return the descriptor: the code's (kind, duration, variance). */
export function encodeDescriptor(params: PinParams): number {
  const limits = KIND_LIMITS[params?.kind];
  if (limits === undefined || !Object.hasOwn(KIND_LIMITS, params.kind)) {
    throw new AlgoPinParamError('kind', `kind must be one of ${Object.keys(KIND_LIMITS).join(', ')}`);
  }
  const { kind } = params;
  requireInt('startHour', params.startHour, 0, MAX_START_HOUR, 'startHour (UTC epoch hours)');
  const variance = requireInt('variance', params.variance, 1, limits.maxVariance, `${kind} variance`);
  let duration = 0;
  switch (kind) {
    case 'hourly':
      duration = requireInt('durationHours', params.durationHours, 1, 672, 'hourly durationHours');
      forbid('durationDays', params.durationDays, kind);
      break;
    case 'daily':
      duration = requireInt('durationDays', params.durationDays, 29, 367, 'daily durationDays');
      if (params.durationHours !== undefined && params.durationHours !== duration * 24) {
        throw new AlgoPinParamError(
          'durationHours',
          'daily durationHours, if given, must equal 24 × durationDays',
        );
      }
      break;
    case 'one_time':
      if (params.durationHours !== undefined) requireInt('durationHours', params.durationHours, 24, 24, kind);
      forbid('durationDays', params.durationDays, kind);
      duration = 24;
      break;
    case 'permanent':
      forbid('durationHours', params.durationHours, kind);
      forbid('durationDays', params.durationDays, kind);
      break;
  }
  const steps = limits.duration === null ? 0 : duration - limits.duration.min;
  return limits.descriptorOffset + steps * limits.maxVariance + (variance - 1);
}

/** Inverse of encodeDescriptor inside a length class, or null if the descriptor is out of range. */
export function describeDescriptor(
  pinLength: PinLength,
  descriptor: number,
): Pick<DecodedPin, 'kind' | 'variance' | 'windowHours' | 'durationHours' | 'durationDays'> | null {
  for (const kind of PIN_CLASSES[pinLength].kinds) {
    const limits = KIND_LIMITS[kind];
    const d = descriptor - limits.descriptorOffset;
    if (d < 0 || d >= limits.descriptorCount) continue;
    const variance = (d % limits.maxVariance) + 1;
    const amount = limits.duration === null ? 0 : limits.duration.min + Math.floor(d / limits.maxVariance);
    switch (kind) {
      case 'hourly':
        return { kind, variance, windowHours: amount, durationHours: amount };
      case 'daily':
        return { kind, variance, windowHours: amount * 24, durationDays: amount };
      case 'one_time':
        return { kind, variance, windowHours: 24, durationHours: 24 };
      case 'permanent':
        return { kind, variance, windowHours: null };
    }
  }
  return null;
}

/**
 * The keyed tag of (length class, start hour, descriptor): exactly one HMAC-SHA256.
 * No validation here: callers (derivePin, verifyCandidate) pass checked values.
 */
export function pinTag(
  pinKey: Uint8Array,
  pinLength: PinLength,
  startHour: number,
  descriptor: number,
): number {
  const msg = Buffer.allocUnsafe(12);
  DOMAIN.copy(msg, 0);
  msg[5] = pinLength;
  msg.writeUInt32BE(startHour, 6);
  msg.writeUInt16BE(descriptor, 10);
  hmacCount++;
  const mac = createHmac('sha256', pinKey).update(msg).digest();
  // uint64 mod T without BigInt: hi·2^32 + lo ≡ (hi mod T)·(2^32 mod T) + lo; every term stays < 2^53.
  const t = PIN_CLASSES[pinLength].tagModulus;
  return (((mac.readUInt32BE(0) % t) * (TWO_POW_32 % t) + mac.readUInt32BE(4)) % t) as number;
}

/** Assemble the PIN digits from its three parts. */
export function composePin(pinLength: PinLength, descriptor: number, startHour: number, tag: number): string {
  const cls = PIN_CLASSES[pinLength];
  const cell = descriptor * START_RESIDUE_MODULUS + (startHour % START_RESIDUE_MODULUS);
  return String(cell * cls.tagModulus + tag).padStart(pinLength, '0');
}

/** The PIN of a code. Deterministic: same key and params, same PIN. Throws AlgoPinParamError. */
export function derivePin(pinKey: Uint8Array, params: PinParams): string {
  const descriptor = encodeDescriptor(params);
  const pinLength = KIND_LIMITS[params.kind].pinLength;
  return composePin(
    pinLength,
    descriptor,
    params.startHour,
    pinTag(pinKey, pinLength, params.startHour, descriptor),
  );
}

/** Split a typed PIN into its parts, without the key. Null when it cannot be an algoPIN. */
export function decodePin(pin: string): DecodedPin | null {
  if (typeof pin !== 'string' || !isPinLength(pin.length) || !/^[0-9]+$/.test(pin)) return null;
  const cls = PIN_CLASSES[pin.length as PinLength];
  const value = Number(pin);
  const cell = Math.floor(value / cls.tagModulus);
  // The top of the decimal range (cell ≥ cellCount) is never issued: reject before any HMAC.
  if (cell >= cls.cellCount) return null;
  const descriptor = Math.floor(cell / START_RESIDUE_MODULUS);
  const described = describeDescriptor(cls.pinLength, descriptor);
  if (described === null) return null;
  return {
    pin,
    pinLength: cls.pinLength,
    descriptor,
    residue: cell % START_RESIDUE_MODULUS,
    tag: value - cell * cls.tagModulus,
    ...described,
  };
}

/** The PinParams a decoded PIN stands for, once its start hour is known. */
export function paramsOf(decoded: DecodedPin, startHour: number): PinParams {
  const params: PinParams = { kind: decoded.kind, startHour, variance: decoded.variance };
  if (decoded.kind === 'hourly') params.durationHours = decoded.durationHours as number;
  if (decoded.kind === 'daily') params.durationDays = decoded.durationDays as number;
  return params;
}
