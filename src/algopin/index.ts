// algoPIN v1 engine: pure functions of (key, parameters, time). No clock, no I/O, only node:crypto.
// docs/algopin.md is the specification; test/algopin/vectors.json pins the behaviour.

export { AlgoPinKeyError, AlgoPinParamError } from './errors.ts';
export { derivePinKey, LOCK_KEY_BYTES, parseLockKeyHex } from './key.ts';
export {
  composePin,
  type DecodedPin,
  decodePin,
  derivePin,
  describeDescriptor,
  encodeDescriptor,
  getHmacCount,
  type PinParams,
  paramsOf,
  pinTag,
} from './pin.ts';
export {
  ACTIVATION_WINDOW_HOURS,
  type CodeKind,
  DRIFT_GRACE_MS,
  type DurationRange,
  HKDF_SALT,
  HOUR_MS,
  hkdfInfo,
  isPinLength,
  KIND_LIMITS,
  type KindLimits,
  MAX_EPOCH,
  MAX_START_HOUR,
  PIN_CLASSES,
  type PinClass,
  type PinLength,
  START_RESIDUE_MODULUS,
  TAG_DOMAIN,
} from './spec.ts';
export {
  type Candidate,
  type CodeWindow,
  candidateStartHour,
  codeWindow,
  VERIFY_HMACS_WORST_CASE,
  verifyCandidate,
  windowHoursOf,
} from './window.ts';
