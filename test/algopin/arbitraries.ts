// fast-check arbitraries shared by the algoPIN and lock property tests.

import fc from 'fast-check';
import {
  type CodeKind,
  codeWindow,
  DRIFT_GRACE_MS,
  HOUR_MS,
  type PinParams,
} from '../../src/algopin/index.ts';

/** 2015-08 … 2038-06 in UTC epoch hours: realistic start hours (far from 0 and 2^32). */
export const START_MIN = 400_000;
export const START_MAX = 600_000;
export const G = DRIFT_GRACE_MS;
export const H = HOUR_MS;
export const DAY = 24 * HOUR_MS;

export const RUNS = { numRuns: 1000 } as const;

export const lockKeyArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((a) => Buffer.from(a));
export const startHourArb = fc.integer({ min: START_MIN, max: START_MAX });

export const hourlyArb = (startHour: fc.Arbitrary<number> = startHourArb): fc.Arbitrary<PinParams> =>
  fc.record({
    kind: fc.constant<CodeKind>('hourly'),
    startHour,
    durationHours: fc.integer({ min: 1, max: 672 }),
    variance: fc.integer({ min: 1, max: 3 }),
  });
export const dailyArb = (startHour: fc.Arbitrary<number> = startHourArb): fc.Arbitrary<PinParams> =>
  fc.record({
    kind: fc.constant<CodeKind>('daily'),
    startHour,
    durationDays: fc.integer({ min: 29, max: 367 }),
    variance: fc.integer({ min: 1, max: 3 }),
  });
export const oneTimeArb = (startHour: fc.Arbitrary<number> = startHourArb): fc.Arbitrary<PinParams> =>
  fc.record({ kind: fc.constant<CodeKind>('one_time'), startHour, variance: fc.integer({ min: 1, max: 5 }) });
export const permanentArb = (startHour: fc.Arbitrary<number> = startHourArb): fc.Arbitrary<PinParams> =>
  fc.record({
    kind: fc.constant<CodeKind>('permanent'),
    startHour,
    variance: fc.integer({ min: 1, max: 3 }),
  });

/** Any code; the extremes of each range are favoured by fast-check's integer bias. */
export const codeArb = (startHour: fc.Arbitrary<number> = startHourArb): fc.Arbitrary<PinParams> =>
  fc.oneof(hourlyArb(startHour), dailyArb(startHour), oneTimeArb(startHour), permanentArb(startHour));

/** Codes longer than 24 h: they need activation. */
export const longCodeArb: fc.Arbitrary<PinParams> = fc.oneof(
  hourlyArb().filter((p) => (p.durationHours as number) > 24),
  dailyArb(),
  permanentArb(),
);

export function isLong(p: PinParams): boolean {
  return codeWindow(p).activationDeadlineMs !== null;
}

/** End (exclusive, true time) of the span in which a never-used code can be used for the first time. */
export function firstUseEnd(p: PinParams): number {
  const w = codeWindow(p);
  const end = w.endMs ?? Number.POSITIVE_INFINITY;
  return isLong(p) ? Math.min(end, w.startMs + DAY) : end;
}

/** An integer offset in [0, span), span ≥ 1, as a fraction-based arbitrary that works for any span. */
export const within = (span: number): fc.Arbitrary<number> =>
  fc.oneof(
    fc.constant(0),
    fc.constant(span - 1),
    fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }).map((f) => Math.floor(f * span)),
  );
