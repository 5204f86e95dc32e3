import { type CodeKind, HOUR_MS, KIND_LIMITS, MAX_START_HOUR, type PinParams } from '../algopin/index.ts';
import { badRequest, unprocessable } from './errors.ts';

// The body of POST /devices/{deviceId}/algopin/{hourly|daily|onetime|permanent}, checked the way igloohome's
// API is known to check it: malformed fields (missing, wrong type, dates not `YYYY-MM-DDTHH:00:00±hh:mm`) are
// 400, well-formed values outside igloohome's limits are 422. Ranges come from KIND_LIMITS (src/algopin).

export type IgloohomePinType = 'hourly' | 'daily' | 'onetime' | 'permanent';

export const PIN_TYPES: Readonly<Record<IgloohomePinType, CodeKind>> = {
  hourly: 'hourly',
  daily: 'daily',
  onetime: 'one_time',
  permanent: 'permanent',
};

export const MAX_ACCESS_NAME_LENGTH = 60;
const DAY_MS = 24 * HOUR_MS;
const FORMAT = 'YYYY-MM-DDTHH:00:00+hh:mm';

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * An hour-aligned ISO-8601 date-time with an explicit offset (`2026-05-01T14:00:00+08:00`, or `Z`), as Unix
 * milliseconds. algoPIN start hours are UTC hours, so an offset with minutes (`+05:30`) cannot name one.
 */
export function parseIgloohomeDate(field: string, value: unknown): number {
  if (value === undefined || value === null) throw badRequest(`'${field}' is required`);
  if (typeof value !== 'string') throw badRequest(`'${field}' must be a string in format ${FORMAT}`);
  const m = ISO.exec(value);
  if (!m) throw badRequest(`'${field}' must be in format ${FORMAT}`);
  const [, y, mo, d, h, mi, s, frac, , sign, oh, om] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const offsetHours = Number(oh ?? 0);
  const offsetMinutes = Number(om ?? 0);
  // Not Date.UTC: it reads years 0–99 as 1900–1999.
  const check = new Date(0);
  check.setUTCFullYear(year, month - 1, day);
  check.setUTCHours(hour);
  const local = check.getTime();
  if (
    month < 1 ||
    month > 12 ||
    hour > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59 ||
    offsetHours > 14 ||
    offsetMinutes > 59 ||
    check.getUTCDate() !== day ||
    check.getUTCMonth() !== month - 1
  ) {
    throw badRequest(`'${field}' is not a valid date: ${value}`);
  }
  if (Number(mi) !== 0 || Number(s) !== 0 || (frac !== undefined && /[1-9]/.test(frac))) {
    throw badRequest(`'${field}' must be on the hour, in format ${FORMAT}`);
  }
  if (offsetMinutes !== 0) {
    throw badRequest(
      `'${field}' must use an offset of whole hours (algoPIN hours are UTC hours); give the time in UTC (Z) instead`,
    );
  }
  const offsetMs = (sign === '-' ? -1 : 1) * offsetHours * HOUR_MS;
  return local - offsetMs;
}

export interface AlgoPinRequest {
  params: PinParams;
  accessName: string;
  startMs: number;
  endMs: number | null;
}

/** Validates a request body for one PIN type; throws IgloohomeError (400 or 422). */
export function parseAlgoPinRequest(type: IgloohomePinType, body: unknown): AlgoPinRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('The request body must be a JSON object');
  }
  const input = body as Record<string, unknown>;
  const kind = PIN_TYPES[type];
  const limits = KIND_LIMITS[kind];

  // 400: shape and format.
  const { variance } = input;
  if (variance === undefined || variance === null) throw badRequest(`'variance' is required`);
  if (typeof variance !== 'number' || !Number.isInteger(variance)) {
    throw badRequest(`'variance' must be an integer`);
  }
  const startMs = parseIgloohomeDate('startDate', input.startDate);
  const needsEnd = kind === 'hourly' || kind === 'daily';
  let endMs: number | null = null;
  if (needsEnd) endMs = parseIgloohomeDate('endDate', input.endDate);
  else if (input.endDate !== undefined && input.endDate !== null) {
    throw badRequest(`'endDate' is not accepted for ${type} PINs`);
  }
  const { accessName } = input;
  if (accessName === undefined || accessName === null || accessName === '') {
    throw badRequest(`'accessName' is required`);
  }
  if (typeof accessName !== 'string') throw badRequest(`'accessName' must be a string`);

  // 422: igloohome's limits.
  if ([...accessName].length > MAX_ACCESS_NAME_LENGTH) {
    throw unprocessable(`'accessName' must be at most ${MAX_ACCESS_NAME_LENGTH} characters`);
  }
  if (variance < 1 || variance > limits.maxVariance) {
    throw unprocessable(`'variance' must be between 1 and ${limits.maxVariance} for ${type} PINs`);
  }
  const startHour = startMs / HOUR_MS;
  if (startHour < 0 || startHour > MAX_START_HOUR) throw unprocessable(`'startDate' is out of range`);

  const params: PinParams = { kind, startHour, variance };
  if (kind === 'hourly' && endMs !== null) {
    const hours = (endMs - startMs) / HOUR_MS;
    const range = limits.duration!;
    if (hours < range.min)
      throw unprocessable(`'endDate' must be at least ${range.min} hour after 'startDate'`);
    if (hours > range.max) throw unprocessable(`Exceeded the limit of ${range.max} hours`);
    params.durationHours = hours;
  } else if (kind === 'daily' && endMs !== null) {
    const range = limits.duration!;
    if (endMs <= startMs) throw unprocessable(`'endDate' must be after 'startDate'`);
    if ((endMs - startMs) % DAY_MS !== 0) {
      throw unprocessable(
        `'startDate' and 'endDate' must be a whole number of days apart (same time of day, in UTC)`,
      );
    }
    const days = (endMs - startMs) / DAY_MS;
    if (days < range.min) throw unprocessable(`Below the minimum of ${range.min} days`);
    if (days > range.max) throw unprocessable(`Exceeded the limit of ${range.max} days`);
    params.durationDays = days;
  }
  return { params, accessName, startMs, endMs };
}
