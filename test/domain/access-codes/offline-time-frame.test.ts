import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type MaxTimeRounding,
  type OfflineTimeFrame,
  type OfflineTimeFrameRequest,
  planOfflineTimeFrame,
} from '../../../src/domain/access-codes/offline-time-frame.ts';
import { AccessCodeRuleError } from '../../../src/domain/access-codes/rule-error.ts';
import { DAY_MS, HOUR_MS } from '../../../src/domain/time.ts';

// A fixed workspace clock, deliberately not on the hour. Every instant below is relative to it.
const NOW = Date.parse('2026-03-01T12:34:56.789Z');
const MIN = 60_000;
const S = '2026-03-02T10:00:00Z'; // a future start on the hour

const at = (iso: string, plusMs = 0): string => new Date(Date.parse(iso) + plusMs).toISOString();

interface Ask {
  starts?: string;
  ends?: string;
  oneTime?: boolean;
  rounding?: MaxTimeRounding;
  now?: string;
}

function request(a: Ask): OfflineTimeFrameRequest {
  return {
    starts_at: a.starts === undefined ? undefined : Date.parse(a.starts),
    ends_at: a.ends === undefined ? undefined : Date.parse(a.ends),
    is_one_time_use: a.oneTime ?? false,
    max_time_rounding: a.rounding,
    now: a.now === undefined ? NOW : Date.parse(a.now),
  };
}

interface Want {
  kind: OfflineTimeFrame['kind'];
  starts_at: string;
  ends_at: string | null;
  durationHours?: number;
  durationDays?: number;
  rounding_ms: number;
  longer?: boolean;
}

function expectFrame(ask: Ask, want: Want): void {
  const f = planOfflineTimeFrame(request(ask));
  assert.equal(f.kind, want.kind);
  assert.equal(f.type, want.kind === 'permanent' ? 'ongoing' : 'time_bound');
  assert.equal(new Date(f.starts_at).toISOString(), new Date(want.starts_at).toISOString());
  assert.equal(f.startHour, f.starts_at / HOUR_MS);
  assert.ok(Number.isInteger(f.startHour));
  assert.equal(
    f.ends_at === null ? null : new Date(f.ends_at).toISOString(),
    want.ends_at === null ? null : new Date(want.ends_at).toISOString(),
  );
  assert.equal(f.durationHours, want.durationHours);
  assert.equal(f.durationDays, want.durationDays);
  assert.equal(f.rounding_ms, want.rounding_ms);
  if (want.longer !== undefined) assert.equal(f.longer_than_24_hours, want.longer);
}

interface WantError {
  type: string;
  message?: RegExp;
  data?: Record<string, unknown>;
}

function expectError(ask: Ask, want: WantError): void {
  assert.throws(
    () => planOfflineTimeFrame(request(ask)),
    (e: unknown) => {
      assert.ok(e instanceof AccessCodeRuleError, String(e));
      assert.equal(e.status, 400);
      assert.equal(e.type, want.type, e.message);
      if (want.message) assert.match(e.message, want.message);
      if (want.data) assert.deepEqual(e.data, want.data);
      return true;
    },
  );
}

type Row = { name: string; ask: Ask } & ({ want: Want } | { error: WantError });

function table(rows: Row[]): void {
  for (const row of rows) {
    it(row.name, () => ('want' in row ? expectFrame(row.ask, row.want) : expectError(row.ask, row.error)));
  }
}

describe('planOfflineTimeFrame: the seed examples, moved into the future', () => {
  table([
    {
      name: 'hourly-bound 00:00 → 18:00 five days later is 138 h with no rounding',
      ask: { starts: '2026-11-10T00:00:00-00:00', ends: '2026-11-15T18:00:00-00:00' },
      want: {
        kind: 'hourly',
        starts_at: '2026-11-10T00:00:00.000Z',
        ends_at: '2026-11-15T18:00:00.000Z',
        durationHours: 138,
        rounding_ms: 0,
        longer: true,
      },
    },
    {
      name: 'daily-bound with max_time_rounding "1d": 31 days, no rounding',
      ask: { starts: '2026-11-17T00:00:00-00:00', ends: '2026-12-18T00:00:00-00:00', rounding: '1d' },
      want: {
        kind: 'daily',
        starts_at: '2026-11-17T00:00:00.000Z',
        ends_at: '2026-12-18T00:00:00.000Z',
        durationDays: 31,
        rounding_ms: 0,
        longer: true,
      },
    },
    {
      name: 'the same daily-bound code needs no rounding, so the default "1hour" accepts it too',
      ask: { starts: '2026-11-17T00:00:00-00:00', ends: '2026-12-18T00:00:00-00:00' },
      want: {
        kind: 'daily',
        starts_at: '2026-11-17T00:00:00.000Z',
        ends_at: '2026-12-18T00:00:00.000Z',
        durationDays: 31,
        rounding_ms: 0,
      },
    },
    {
      name: 'one-time-use with only starts_at is valid 24 h from its start',
      ask: { starts: '2026-11-20T15:00:00Z', oneTime: true },
      want: {
        kind: 'one_time',
        starts_at: '2026-11-20T15:00:00Z',
        ends_at: '2026-11-21T15:00:00Z',
        durationHours: 24,
        rounding_ms: 0,
        longer: false,
      },
    },
  ]);
});

describe('planOfflineTimeFrame: hourly-bound and daily-bound ranges (both sides of each boundary)', () => {
  const h = (n: number) => n * HOUR_MS;
  table([
    {
      name: '1 h is the shortest hourly-bound code',
      ask: { starts: S, ends: at(S, h(1)) },
      want: { kind: 'hourly', starts_at: S, ends_at: at(S, h(1)), durationHours: 1, rounding_ms: 0 },
    },
    {
      name: 'under 1 h inside one hour rounds out to that whole hour',
      ask: { starts: at(S, 10 * MIN), ends: at(S, 50 * MIN) },
      want: { kind: 'hourly', starts_at: S, ends_at: at(S, h(1)), durationHours: 1, rounding_ms: 10 * MIN },
    },
    {
      name: '30 min from the hour rounds up to 1 h',
      ask: { starts: S, ends: at(S, 30 * MIN) },
      want: { kind: 'hourly', starts_at: S, ends_at: at(S, h(1)), durationHours: 1, rounding_ms: 30 * MIN },
    },
    {
      name: '24 h is not longer than 24 h (no activation warning)',
      ask: { starts: S, ends: at(S, h(24)) },
      want: {
        kind: 'hourly',
        starts_at: S,
        ends_at: at(S, h(24)),
        durationHours: 24,
        rounding_ms: 0,
        longer: false,
      },
    },
    {
      name: '25 h is longer than 24 h',
      ask: { starts: S, ends: at(S, h(25)) },
      want: {
        kind: 'hourly',
        starts_at: S,
        ends_at: at(S, h(25)),
        durationHours: 25,
        rounding_ms: 0,
        longer: true,
      },
    },
    {
      name: '672 h is the longest hourly-bound code',
      ask: { starts: S, ends: at(S, h(672)) },
      want: { kind: 'hourly', starts_at: S, ends_at: at(S, h(672)), durationHours: 672, rounding_ms: 0 },
    },
    {
      name: '673 h becomes daily-bound 29 days, a 23 h shift the default "1hour" refuses',
      ask: { starts: S, ends: at(S, h(673)) },
      error: {
        type: 'max_time_rounding_exceeded',
        message: /would move ends_at by 23 h .*"1hour".*max_time_rounding: "1d"/s,
        data: {
          rounding_ms: h(23),
          max_time_rounding: '1hour',
          starts_at: at(S),
          ends_at: at(S, 29 * DAY_MS),
        },
      },
    },
    {
      name: '673 h with "1d" is daily-bound 29 days, rounded by 23 h',
      ask: { starts: S, ends: at(S, h(673)), rounding: '1d' },
      want: {
        kind: 'daily',
        starts_at: S,
        ends_at: at(S, 29 * DAY_MS),
        durationDays: 29,
        rounding_ms: h(23),
      },
    },
    {
      name: '28 days + 1 min with "1d" is daily-bound 29 days, rounded by 23 h 59 min',
      ask: { starts: S, ends: at(S, 28 * DAY_MS + MIN), rounding: '1d' },
      want: {
        kind: 'daily',
        starts_at: S,
        ends_at: at(S, 29 * DAY_MS),
        durationDays: 29,
        rounding_ms: h(24) - MIN,
      },
    },
    {
      name: '29 days is the shortest daily-bound code',
      ask: { starts: S, ends: at(S, 29 * DAY_MS) },
      want: { kind: 'daily', starts_at: S, ends_at: at(S, 29 * DAY_MS), durationDays: 29, rounding_ms: 0 },
    },
    {
      name: '367 days is the longest daily-bound code',
      ask: { starts: S, ends: at(S, 367 * DAY_MS) },
      want: { kind: 'daily', starts_at: S, ends_at: at(S, 367 * DAY_MS), durationDays: 367, rounding_ms: 0 },
    },
    {
      name: '366 days + 1 h with "1day" rounds up to 367 days',
      ask: { starts: S, ends: at(S, 366 * DAY_MS + h(1)), rounding: '1day' },
      want: {
        kind: 'daily',
        starts_at: S,
        ends_at: at(S, 367 * DAY_MS),
        durationDays: 367,
        rounding_ms: h(23),
      },
    },
    {
      name: '368 days is out of range, and the message names the allowed ranges',
      ask: { starts: S, ends: at(S, 368 * DAY_MS), rounding: '1d' },
      error: {
        type: 'time_frame_out_of_range',
        message:
          /8832 hours.*368 days.*hourly-bound 1–672 hours, daily-bound 29–367 days, one-time-use 24 hours, or permanent/s,
      },
    },
    {
      name: '367 days + 1 min rounds to 368 days: out of range',
      ask: { starts: S, ends: at(S, 367 * DAY_MS + MIN), rounding: '1d' },
      error: { type: 'time_frame_out_of_range', message: /368 days/ },
    },
  ]);
});

describe('planOfflineTimeFrame: rounding and max_time_rounding', () => {
  const D30 = 30 * DAY_MS;
  table([
    ...(['1h', '1hour'] as const).map(
      (rounding): Row => ({
        name: `10:20 → 15:40 rounds to 10:00 → 16:00 (20 min each end), accepted with "${rounding}"`,
        ask: { starts: '2026-03-02T10:20:00Z', ends: '2026-03-02T15:40:00Z', rounding },
        want: {
          kind: 'hourly',
          starts_at: '2026-03-02T10:00:00Z',
          ends_at: '2026-03-02T16:00:00Z',
          durationHours: 6,
          rounding_ms: 20 * MIN,
        },
      }),
    ),
    {
      name: 'daily-bound ending 30 min before the start time of day: ceiled to the hour, accepted with "1h"',
      ask: { starts: S, ends: at(S, D30 - 30 * MIN), rounding: '1h' },
      want: { kind: 'daily', starts_at: S, ends_at: at(S, D30), durationDays: 30, rounding_ms: 30 * MIN },
    },
    {
      name: 'daily-bound end moved exactly 1 h is allowed with "1h"',
      ask: { starts: S, ends: at(S, D30 - HOUR_MS), rounding: '1h' },
      want: { kind: 'daily', starts_at: S, ends_at: at(S, D30), durationDays: 30, rounding_ms: HOUR_MS },
    },
    {
      name: 'daily-bound end moved 1 h + 1 ms is refused with "1h"',
      ask: { starts: S, ends: at(S, D30 - HOUR_MS - 1), rounding: '1h' },
      error: {
        type: 'max_time_rounding_exceeded',
        message: /by 1 h 0\.001 s .*"1h"/s,
        data: { rounding_ms: HOUR_MS + 1, max_time_rounding: '1h', starts_at: at(S), ends_at: at(S, D30) },
      },
    },
    {
      name: 'daily-bound end moved 1 h 30 min is refused with "1hour", naming the shift and "1d"',
      ask: { starts: S, ends: at(S, D30 - 90 * MIN), rounding: '1hour' },
      error: {
        type: 'max_time_rounding_exceeded',
        message: /would move ends_at by 1 h 30 min .*"1hour".*30 days.*max_time_rounding: "1d"/s,
        data: { rounding_ms: 90 * MIN, max_time_rounding: '1hour', starts_at: at(S), ends_at: at(S, D30) },
      },
    },
    ...(['1d', '1day'] as const).map(
      (rounding): Row => ({
        name: `daily-bound end moved 1 h 30 min is accepted with "${rounding}"`,
        ask: { starts: S, ends: at(S, D30 - 90 * MIN), rounding },
        want: { kind: 'daily', starts_at: S, ends_at: at(S, D30), durationDays: 30, rounding_ms: 90 * MIN },
      }),
    ),
    {
      name: 'the shift is described as a person reads it ("5 h 30 min")',
      ask: { starts: S, ends: at(S, D30 - 5.5 * HOUR_MS) },
      error: { type: 'max_time_rounding_exceeded', message: /would move ends_at by 5 h 30 min/ },
    },
    {
      name: 'daily-bound 10:20 → 10:20: the end is ceiled to 11:00, so it moves to 10:00 the next day',
      ask: { starts: at(S, 20 * MIN), ends: at(S, D30 + 20 * MIN), rounding: '1d' },
      want: {
        kind: 'daily',
        starts_at: S,
        ends_at: at(S, D30 + DAY_MS),
        durationDays: 31,
        rounding_ms: 23 * HOUR_MS + 40 * MIN,
      },
    },
  ]);
});

describe('planOfflineTimeFrame: ISO 8601 offsets floor to the right UTC hour', () => {
  table([
    ...['2026-11-10T10:20:00+05:30', '2026-11-10T04:50:00-00:00', '2026-11-10T04:50:00Z'].map(
      (starts): Row => ({
        name: `${starts} starts at 04:00Z`,
        ask: { starts, ends: '2026-11-10T12:00:00+05:30' },
        want: {
          kind: 'hourly',
          starts_at: '2026-11-10T04:00:00Z',
          ends_at: '2026-11-10T07:00:00Z',
          durationHours: 3,
          rounding_ms: 50 * MIN,
        },
      }),
    ),
    {
      name: 'one-time-use at 00:15+05:30 starts at 18:00Z the previous UTC day',
      ask: { starts: '2026-11-10T00:15:00+05:30', oneTime: true },
      want: {
        kind: 'one_time',
        starts_at: '2026-11-09T18:00:00Z',
        ends_at: '2026-11-10T18:00:00Z',
        durationHours: 24,
        rounding_ms: 45 * MIN,
      },
    },
    {
      name: 'a negative half-hour offset (-03:30) floors too',
      ask: { starts: '2026-11-10T00:15:00-03:30', ends: '2026-11-10T02:00:00-03:30' },
      want: {
        kind: 'hourly',
        starts_at: '2026-11-10T03:00:00Z',
        ends_at: '2026-11-10T06:00:00Z',
        durationHours: 3,
        rounding_ms: 45 * MIN,
      },
    },
  ]);
});

describe('planOfflineTimeFrame: one-time-use', () => {
  table([
    {
      name: 'without starts_at → invalid_input',
      ask: { oneTime: true },
      error: { type: 'invalid_input', message: /One-time-use offline codes need starts_at/ },
    },
    {
      name: 'with only ends_at → invalid_input',
      ask: { oneTime: true, ends: at(S, DAY_MS) },
      error: { type: 'invalid_input', message: /need starts_at/ },
    },
    {
      name: 'ends_at = start + 24 h is accepted',
      ask: { oneTime: true, starts: S, ends: at(S, DAY_MS) },
      want: { kind: 'one_time', starts_at: S, ends_at: at(S, DAY_MS), durationHours: 24, rounding_ms: 0 },
    },
    {
      name: 'ends_at exactly 24 h after an off-hour starts_at is accepted (both move to the hour)',
      ask: { oneTime: true, starts: at(S, 20 * MIN), ends: at(S, DAY_MS + 20 * MIN) },
      want: {
        kind: 'one_time',
        starts_at: S,
        ends_at: at(S, DAY_MS),
        durationHours: 24,
        rounding_ms: 20 * MIN,
      },
    },
    {
      name: 'ends_at that ceils to start hour + 24 h is accepted',
      ask: { oneTime: true, starts: at(S, 20 * MIN), ends: at(S, DAY_MS - 30 * MIN) },
      want: {
        kind: 'one_time',
        starts_at: S,
        ends_at: at(S, DAY_MS),
        durationHours: 24,
        rounding_ms: 30 * MIN,
      },
    },
    {
      name: 'ends_at = start + 25 h → time_frame_out_of_range',
      ask: { oneTime: true, starts: S, ends: at(S, 25 * HOUR_MS) },
      error: {
        type: 'time_frame_out_of_range',
        message:
          /one-time-use codes last exactly 24 hours from their start hour.*2026-03-03T10:00:00\.000Z/is,
      },
    },
    {
      name: 'ends_at = start + 23 h → time_frame_out_of_range',
      ask: { oneTime: true, starts: S, ends: at(S, 23 * HOUR_MS) },
      error: { type: 'time_frame_out_of_range' },
    },
    {
      name: 'ends_at before starts_at → invalid_input',
      ask: { oneTime: true, starts: S, ends: at(S, -HOUR_MS) },
      error: { type: 'invalid_input', message: /must be after starts_at/ },
    },
    {
      name: 'a start hour whose 24 h end is still ahead of now is accepted (started 23 h 35 min ago)',
      ask: { oneTime: true, starts: '2026-02-28T13:00:00Z' },
      want: {
        kind: 'one_time',
        starts_at: '2026-02-28T13:00:00Z',
        ends_at: '2026-03-01T13:00:00Z',
        durationHours: 24,
        rounding_ms: 0,
      },
    },
    {
      name: 'a start hour whose 24 h are already over → invalid_input (12:59 floors to 12:00)',
      ask: { oneTime: true, starts: '2026-02-28T12:59:00Z' },
      error: { type: 'invalid_input', message: /already over/ },
    },
  ]);
});

describe('planOfflineTimeFrame: permanent, and malformed time frames', () => {
  table([
    ...([undefined, '1d'] as const).map(
      (rounding): Row => ({
        name: `no starts_at/ends_at → permanent, ongoing from the current hour (max_time_rounding ${rounding})`,
        ask: rounding ? { rounding } : {},
        want: {
          kind: 'permanent',
          starts_at: '2026-03-01T12:00:00Z',
          ends_at: null,
          rounding_ms: 0,
          longer: true,
        },
      }),
    ),
    {
      name: 'only starts_at → time_frame_out_of_range naming the allowed kinds',
      ask: { starts: S },
      error: {
        type: 'time_frame_out_of_range',
        message:
          /Only starts_at was given.*both starts_at and ends_at, or neither.*hourly-bound 1–672 hours/s,
      },
    },
    {
      name: 'only ends_at → time_frame_out_of_range',
      ask: { ends: S },
      error: { type: 'time_frame_out_of_range', message: /Only ends_at/ },
    },
    {
      name: 'ends_at equal to starts_at → invalid_input',
      ask: { starts: S, ends: S },
      error: { type: 'invalid_input', message: /must be after starts_at/ },
    },
    {
      name: 'ends_at before starts_at → invalid_input (even though both round to one hour)',
      ask: { starts: at(S, 40 * MIN), ends: at(S, 20 * MIN) },
      error: { type: 'invalid_input', message: /must be after starts_at/ },
    },
    {
      name: 'ends_at equal to now → invalid_input',
      ask: { starts: '2026-03-01T10:00:00Z', ends: at('2026-03-01T12:34:56.789Z') },
      error: { type: 'invalid_input', message: /not in the future/ },
    },
    {
      name: 'ends_at 1 ms after now is accepted (checked before rounding)',
      ask: { starts: '2026-03-01T11:00:00Z', ends: '2026-03-01T12:34:56.790Z' },
      want: {
        kind: 'hourly',
        starts_at: '2026-03-01T11:00:00Z',
        ends_at: '2026-03-01T13:00:00Z',
        durationHours: 2,
        rounding_ms: 25 * MIN + 3210,
      },
    },
    {
      name: 'an unparseable instant (NaN) → invalid_input',
      ask: { starts: 'not a date', ends: S },
      error: { type: 'invalid_input', message: /starts_at is not a valid instant/ },
    },
  ]);

  it('an unknown max_time_rounding → invalid_input', () => {
    const req = {
      ...request({ starts: S, ends: at(S, HOUR_MS) }),
      max_time_rounding: '2h' as MaxTimeRounding,
    };
    assert.throws(() => planOfflineTimeFrame(req), { type: 'invalid_input' });
  });
});

describe('planOfflineTimeFrame: a code longer than 24 h must still be activatable (rule 5)', () => {
  const activation = /must be used for the first time within 24 hours.*could never open the lock/s;
  table([
    {
      name: 'hourly 48 h from 12:40 yesterday: its start hour 12:00 is 24 h 35 min ago → invalid_input',
      ask: { starts: '2026-02-28T12:40:00Z', ends: '2026-03-02T12:40:00Z' },
      error: {
        type: 'invalid_input',
        message: /within 24 hours.*never open the lock.*at or after 2026-02-28T13:00:00\.000Z/s,
      },
    },
    {
      name: 'hourly 48 h from 13:00 yesterday (23 h 35 min ago) is accepted',
      ask: { starts: '2026-02-28T13:00:00Z', ends: '2026-03-02T13:00:00Z' },
      want: {
        kind: 'hourly',
        starts_at: '2026-02-28T13:00:00Z',
        ends_at: '2026-03-02T13:00:00Z',
        durationHours: 48,
        rounding_ms: 0,
        longer: true,
      },
    },
    {
      name: 'exactly 24 h after the start hour the window is over → invalid_input',
      ask: { starts: '2026-02-28T12:00:00Z', ends: '2026-03-02T12:00:00Z', now: '2026-03-01T12:00:00Z' },
      error: { type: 'invalid_input', message: activation },
    },
    {
      name: '1 ms before the window closes the code is accepted',
      ask: { starts: '2026-02-28T12:00:00Z', ends: '2026-03-02T12:00:00Z', now: '2026-03-01T11:59:59.999Z' },
      want: {
        kind: 'hourly',
        starts_at: '2026-02-28T12:00:00Z',
        ends_at: '2026-03-02T12:00:00Z',
        durationHours: 48,
        rounding_ms: 0,
      },
    },
    {
      name: 'a 24 h code has no activation window: started 23 h ago, ending in 1 h, accepted',
      ask: { starts: '2026-02-28T13:00:00Z', ends: '2026-03-01T13:00:00Z' },
      want: {
        kind: 'hourly',
        starts_at: '2026-02-28T13:00:00Z',
        ends_at: '2026-03-01T13:00:00Z',
        durationHours: 24,
        rounding_ms: 0,
        longer: false,
      },
    },
    {
      name: 'daily-bound from 12:40 yesterday → invalid_input',
      ask: { starts: '2026-02-28T12:40:00Z', ends: '2026-03-30T12:00:00Z' },
      error: { type: 'invalid_input', message: activation },
    },
    {
      name: 'daily-bound from 13:00 yesterday is accepted',
      ask: { starts: '2026-02-28T13:00:00Z', ends: '2026-03-30T13:00:00Z' },
      want: {
        kind: 'daily',
        starts_at: '2026-02-28T13:00:00Z',
        ends_at: '2026-03-30T13:00:00Z',
        durationDays: 30,
        rounding_ms: 0,
      },
    },
  ]);
});
