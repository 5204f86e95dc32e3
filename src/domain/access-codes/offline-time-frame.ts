// Turns the time frame a client asks for into the one an igloohome algoPIN can express (contract §4):
// which kind of code, the hour-aligned window the lock will enforce, and how far that moved the
// request. Pure: `now` is handed in (the workspace clock), nothing is stored, rule breaks are thrown.

import { ACTIVATION_WINDOW_HOURS, type CodeKind, KIND_LIMITS } from '../../algopin/spec.ts';
import { DAY_MS, HOUR_MS, isoUtc } from '../time.ts';
import { AccessCodeRuleError } from './rule-error.ts';

/** How far the server may move the requested ends (Seam's `max_time_rounding`). */
export type MaxTimeRounding = '1hour' | '1h' | '1day' | '1d';

export const DEFAULT_MAX_TIME_ROUNDING: MaxTimeRounding = '1hour';

const ROUNDING_LIMIT_MS: Readonly<Record<MaxTimeRounding, number>> = {
  '1hour': HOUR_MS,
  '1h': HOUR_MS,
  '1day': DAY_MS,
  '1d': DAY_MS,
};

/** The names igloohome and Seam use for each kind, for messages a person reads. */
export const KIND_LABELS: Readonly<Record<CodeKind, string>> = {
  hourly: 'hourly-bound',
  daily: 'daily-bound',
  one_time: 'one-time-use',
  permanent: 'permanent',
};

// The engine's limits are the single source of truth; every range below is read from them.
const HOURLY = KIND_LIMITS.hourly.duration!;
const DAILY = KIND_LIMITS.daily.duration!;
const ONE_TIME_HOURS = KIND_LIMITS.one_time.duration!.min;

/** Every shape of time frame an offline code can take, quoted by the out-of-range errors. */
export const ALLOWED_TIME_FRAMES =
  `hourly-bound ${HOURLY.min}–${HOURLY.max} hours, daily-bound ${DAILY.min}–${DAILY.max} days, ` +
  `one-time-use ${ONE_TIME_HOURS} hours, or permanent (no starts_at/ends_at)`;

export interface OfflineTimeFrameRequest {
  /** ms since the epoch, already parsed from ISO 8601 (any offset). */
  starts_at?: number | undefined;
  ends_at?: number | undefined;
  is_one_time_use: boolean;
  /** Default '1hour'. */
  max_time_rounding?: MaxTimeRounding | undefined;
  /** The workspace clock, ms. */
  now: number;
}

export interface OfflineTimeFrame {
  kind: CodeKind;
  /** Seam's access-code type: permanent codes are 'ongoing', all others 'time_bound'. */
  type: 'time_bound' | 'ongoing';
  /** starts_at / 1 h: the start hour the PIN encodes. */
  startHour: number;
  /** hourly: 1..672; one_time: 24. */
  durationHours?: number;
  /** daily: 29..367. */
  durationDays?: number;
  /** Rounded: what the lock enforces. */
  starts_at: number;
  /** Rounded; null for permanent. */
  ends_at: number | null;
  /** The largest shift applied to either end (the daily extension included). */
  rounding_ms: number;
  /** Longer than 24 h (permanent included): must first be used within 24 h of its start. */
  longer_than_24_hours: boolean;
}

/**
 * Classify and round a requested offline time frame, following contract §4 in order: one-time-use,
 * permanent, one end only (refused), hourly-/daily-bound; then the activation and rounding limits.
 * Throws AccessCodeRuleError (400 invalid_input | time_frame_out_of_range | max_time_rounding_exceeded).
 */
export function planOfflineTimeFrame(req: OfflineTimeFrameRequest): OfflineTimeFrame {
  const setting = req.max_time_rounding ?? DEFAULT_MAX_TIME_ROUNDING;
  if (!Object.hasOwn(ROUNDING_LIMIT_MS, setting)) {
    throw invalidInput(`max_time_rounding must be one of "1hour", "1h", "1day", "1d"; got "${setting}".`);
  }
  for (const field of ['starts_at', 'ends_at', 'now'] as const) {
    const value = req[field];
    if (value !== undefined && !Number.isFinite(value)) {
      throw invalidInput(`${field} is not a valid instant.`);
    }
  }
  if (req.is_one_time_use) return checked(planOneTime(req), req, setting);
  if (req.starts_at === undefined && req.ends_at === undefined) return planPermanent(req.now);
  if (req.starts_at === undefined || req.ends_at === undefined) {
    const given = req.starts_at === undefined ? 'ends_at' : 'starts_at';
    throw outOfRange(
      `Only ${given} was given. An offline code needs both starts_at and ends_at, or neither (a permanent ` +
        `code), or is_one_time_use with starts_at. Allowed: ${ALLOWED_TIME_FRAMES}.`,
    );
  }
  return checked(planBounded(req.starts_at, req.ends_at, req.now), req, setting);
}

const floorHour = (ms: number): number => Math.floor(ms / HOUR_MS) * HOUR_MS;
const ceilHour = (ms: number): number => Math.ceil(ms / HOUR_MS) * HOUR_MS;

function planOneTime(req: OfflineTimeFrameRequest): OfflineTimeFrame {
  const { starts_at, ends_at, now } = req;
  if (starts_at === undefined) {
    throw invalidInput(
      `One-time-use offline codes need starts_at: they are valid for ${ONE_TIME_HOURS} hours from their ` +
        'start hour. Give starts_at (ends_at is optional).',
    );
  }
  const start = floorHour(starts_at);
  const end = start + ONE_TIME_HOURS * HOUR_MS;
  if (ends_at !== undefined) {
    if (ends_at <= starts_at) throw notAfterStart(starts_at, ends_at);
    // The contract's "equal to starts_at + 24 h after rounding": ends_at ceiled to the hour lands on the
    // lock's end. An ends_at exactly 24 h after the raw starts_at says the same thing and is accepted too.
    if (ceilHour(ends_at) !== end && ends_at !== starts_at + ONE_TIME_HOURS * HOUR_MS) {
      throw outOfRange(
        `One-time-use codes last exactly ${ONE_TIME_HOURS} hours from their start hour: this one starts ` +
          `at ${isoUtc(start)}${start === starts_at ? '' : ` (starts_at ${isoUtc(starts_at)} rounded down)`}, ` +
          `so ends_at must be ${isoUtc(end)} or left out, not ${isoUtc(ends_at)}. For another length, leave ` +
          `is_one_time_use false; offline codes can be ${ALLOWED_TIME_FRAMES}.`,
      );
    }
  }
  if (end <= now) {
    throw invalidInput(
      `This one-time-use code would be valid from ${isoUtc(start)} to ${isoUtc(end)}, which is already ` +
        `over (now ${isoUtc(now)}). Choose a starts_at at or after ${isoUtc(earliestActivatableStart(now))}.`,
    );
  }
  return {
    kind: 'one_time',
    type: 'time_bound',
    startHour: start / HOUR_MS,
    durationHours: ONE_TIME_HOURS,
    starts_at: start,
    ends_at: end,
    rounding_ms: Math.max(starts_at - start, ends_at === undefined ? 0 : Math.abs(ends_at - end)),
    longer_than_24_hours: false,
  };
}

function planPermanent(now: number): OfflineTimeFrame {
  // Nothing was asked for, so nothing was rounded: the code simply starts at the current hour.
  const start = floorHour(now);
  return {
    kind: 'permanent',
    type: 'ongoing',
    startHour: start / HOUR_MS,
    starts_at: start,
    ends_at: null,
    rounding_ms: 0,
    longer_than_24_hours: true,
  };
}

function planBounded(startsAt: number, endsAt: number, now: number): OfflineTimeFrame {
  // Checked on the values as given: rounding must not turn a backwards or past request into a valid one.
  if (endsAt <= startsAt) throw notAfterStart(startsAt, endsAt);
  if (endsAt <= now) {
    throw invalidInput(
      `ends_at ${isoUtc(endsAt)} is not in the future (now ${isoUtc(now)}); a code that has already ` +
        'ended cannot be created. Choose a later ends_at.',
    );
  }
  const start = floorHour(startsAt);
  const hours = (ceilHour(endsAt) - start) / HOUR_MS; // ≥ 1, since endsAt > startsAt
  const base = { type: 'time_bound' as const, startHour: start / HOUR_MS, starts_at: start };
  if (hours <= HOURLY.max) {
    const end = start + hours * HOUR_MS;
    const rounding_ms = Math.max(startsAt - start, end - endsAt);
    return {
      ...base,
      kind: 'hourly',
      durationHours: hours,
      ends_at: end,
      rounding_ms,
      longer_than_24_hours: hours > ACTIVATION_WINDOW_HOURS,
    };
  }
  // Past 672 h only whole days can be expressed: the end moves later to the next whole day.
  const days = Math.ceil(hours / 24);
  if (days < DAILY.min || days > DAILY.max) {
    throw outOfRange(
      `The requested time frame ${isoUtc(startsAt)} to ${isoUtc(endsAt)} lasts ${hours} hours once ` +
        `rounded to whole hours (${days} days as a daily-bound code). Offline codes can be ` +
        `${ALLOWED_TIME_FRAMES}. Shorten the time frame, or create several codes one after another.`,
    );
  }
  const end = start + days * DAY_MS;
  return {
    ...base,
    kind: 'daily',
    durationDays: days,
    ends_at: end,
    rounding_ms: Math.max(startsAt - start, end - endsAt),
    longer_than_24_hours: true,
  };
}

/** Rules 5 and 6, shared by every kind whose times came from the client. */
function checked(frame: OfflineTimeFrame, req: OfflineTimeFrameRequest, setting: MaxTimeRounding) {
  checkActivation(frame, req.now);
  checkRounding(frame, req, setting);
  return frame;
}

// Not in the contract, but a long code whose 24-h activation window has already closed can never open
// the lock (the lock refuses its first use), so issuing it would hand out a PIN that is dead on
// arrival. The window is [start hour, start hour + 24 h): at exactly start + 24 h it is over, the same
// "strictly in the future" test the contract applies to ends_at.
function checkActivation(frame: OfflineTimeFrame, now: number): void {
  if (!frame.longer_than_24_hours) return;
  const deadline = frame.starts_at + ACTIVATION_WINDOW_HOURS * HOUR_MS;
  if (deadline > now) return;
  throw invalidInput(
    `Offline codes longer than ${ACTIVATION_WINDOW_HOURS} hours must be used for the first time within ` +
      `${ACTIVATION_WINDOW_HOURS} hours of their start hour, or the lock never accepts them. This ` +
      `${KIND_LABELS[frame.kind]} code starts at ${isoUtc(frame.starts_at)}, so that window ended at ` +
      `${isoUtc(deadline)} (now ${isoUtc(now)}) and the code could never open the lock. Choose a starts_at ` +
      `at or after ${isoUtc(earliestActivatableStart(now))}.`,
  );
}

function checkRounding(frame: OfflineTimeFrame, req: OfflineTimeFrameRequest, setting: MaxTimeRounding) {
  const limit = ROUNDING_LIMIT_MS[setting];
  if (frame.rounding_ms <= limit) return; // a shift exactly equal to the limit is allowed
  const startShift = req.starts_at === undefined ? 0 : req.starts_at - frame.starts_at;
  const endShift =
    req.ends_at === undefined || frame.ends_at === null ? 0 : Math.abs(frame.ends_at - req.ends_at);
  const [field, from, to] =
    endShift >= startShift
      ? (['ends_at', req.ends_at as number, frame.ends_at as number] as const)
      : (['starts_at', req.starts_at as number, frame.starts_at] as const);
  // Only a daily-bound end can move by more than an hour (by under a day); hourly-bound, one-time-use
  // and permanent codes never shift beyond 1 h, so the last branch is defensive.
  const explanation =
    frame.kind === 'daily' && frame.rounding_ms <= DAY_MS
      ? `Daily-bound codes last a whole number of days from their start hour, so this one would run ` +
        `${frame.durationDays} days, ${isoUtc(frame.starts_at)} to ${isoUtc(frame.ends_at as number)}. ` +
        `Pass max_time_rounding: "1d" to accept this, or give an ends_at a whole number of days after ` +
        `the start hour ${isoUtc(frame.starts_at)} (such as ${isoUtc(frame.ends_at as number)}).`
      : 'Offline codes start and end on whole hours: give starts_at and ends_at on the hour.';
  throw new AccessCodeRuleError(
    400,
    'max_time_rounding_exceeded',
    `Rounding to what the lock can enforce would move ${field} by ${formatDuration(frame.rounding_ms)} ` +
      `(from ${isoUtc(from)} to ${isoUtc(to)}), more than max_time_rounding "${setting}" allows ` +
      `(${formatDuration(limit)}). ${explanation}`,
    {
      rounding_ms: frame.rounding_ms,
      max_time_rounding: setting,
      starts_at: isoUtc(frame.starts_at),
      ends_at: frame.ends_at === null ? null : isoUtc(frame.ends_at),
    },
  );
}

/**
 * The earliest starts_at whose start hour still has a future 24-h window (one-time validity, or the
 * activation window): the hour after floor(now − 24 h), since a window ending exactly now is over.
 */
function earliestActivatableStart(now: number): number {
  return floorHour(now - ACTIVATION_WINDOW_HOURS * HOUR_MS) + HOUR_MS;
}

/** "5 h 30 min", "20 min", "1 h 0.5 s": a shift as a person reads it. */
export function formatDuration(ms: number): string {
  const parts: string[] = [];
  const h = Math.floor(ms / HOUR_MS);
  const min = Math.floor((ms % HOUR_MS) / 60_000);
  const s = (ms % 60_000) / 1000;
  if (h > 0) parts.push(`${h} h`);
  if (min > 0) parts.push(`${min} min`);
  if (s > 0) parts.push(`${s} s`);
  return parts.length > 0 ? parts.join(' ') : '0 s';
}

function notAfterStart(startsAt: number, endsAt: number): AccessCodeRuleError {
  return invalidInput(`ends_at ${isoUtc(endsAt)} must be after starts_at ${isoUtc(startsAt)}.`);
}

function invalidInput(message: string): AccessCodeRuleError {
  return new AccessCodeRuleError(400, 'invalid_input', message);
}

function outOfRange(message: string): AccessCodeRuleError {
  return new AccessCodeRuleError(400, 'time_frame_out_of_range', message);
}
