import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CodeKind, KIND_LIMITS } from '../../../src/algopin/spec.ts';
import {
  type OfflineTimeFrame,
  planOfflineTimeFrame,
} from '../../../src/domain/access-codes/offline-time-frame.ts';
import { AccessCodeRuleError } from '../../../src/domain/access-codes/rule-error.ts';
import {
  lowestFreeVariance,
  maxCodesError,
  nearbySlotStarts,
  type SlotRef,
  slotFullError,
  slotOf,
} from '../../../src/domain/access-codes/slots.ts';
import { DAY_MS, HOUR_MS } from '../../../src/domain/time.ts';

const NOW = Date.parse('2026-03-01T12:34:56.789Z');
const t = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

function frame(starts?: string, ends?: string, is_one_time_use = false): OfflineTimeFrame {
  return planOfflineTimeFrame({
    starts_at: starts === undefined ? undefined : t(starts),
    ends_at: ends === undefined ? undefined : t(ends),
    is_one_time_use,
    max_time_rounding: '1d',
    now: NOW,
  });
}

describe('slotOf: which slot a code occupies', () => {
  const cases: { name: string; kind: CodeKind; starts: string; tz: string | null; key: string }[] = [
    {
      name: 'hourly-bound: per UTC start hour',
      kind: 'hourly',
      starts: '2026-11-17T20:00:00Z',
      tz: null,
      key: 'hourly:2026-11-17T20:00:00.000Z',
    },
    {
      name: "hourly-bound ignores the lock's time zone",
      kind: 'hourly',
      starts: '2026-11-17T20:00:00Z',
      tz: 'Asia/Tokyo',
      key: 'hourly:2026-11-17T20:00:00.000Z',
    },
    {
      name: 'one-time-use: per start hour',
      kind: 'one_time',
      starts: '2026-11-17T20:00:00Z',
      tz: null,
      key: 'one_time:2026-11-17T20:00:00.000Z',
    },
    {
      name: 'permanent: per start hour',
      kind: 'permanent',
      starts: '2026-11-17T20:00:00Z',
      tz: 'Asia/Tokyo',
      key: 'permanent:2026-11-17T20:00:00.000Z',
    },
    {
      name: 'daily-bound, no time zone: the UTC date',
      kind: 'daily',
      starts: '2026-11-17T20:00:00Z',
      tz: null,
      key: 'daily:2026-11-17',
    },
    {
      name: 'daily-bound, UTC named explicitly: the same date',
      kind: 'daily',
      starts: '2026-11-17T20:00:00Z',
      tz: 'UTC',
      key: 'daily:2026-11-17',
    },
    {
      name: 'daily-bound in Asia/Tokyo: 20:00Z is 05:00 the next local day',
      kind: 'daily',
      starts: '2026-11-17T20:00:00Z',
      tz: 'Asia/Tokyo',
      key: 'daily:2026-11-18',
    },
    {
      name: 'Pacific/Chatham (+13:45 in November): 10:00Z is 23:45 local',
      kind: 'daily',
      starts: '2026-11-17T10:00:00Z',
      tz: 'Pacific/Chatham',
      key: 'daily:2026-11-17',
    },
    {
      name: 'Pacific/Chatham: 11:00Z is 00:45 the next local day',
      kind: 'daily',
      starts: '2026-11-17T11:00:00Z',
      tz: 'Pacific/Chatham',
      key: 'daily:2026-11-18',
    },
    {
      name: 'Asia/Kolkata (+05:30): 18:00Z is 23:30 local',
      kind: 'daily',
      starts: '2026-11-17T18:00:00Z',
      tz: 'Asia/Kolkata',
      key: 'daily:2026-11-17',
    },
    {
      name: 'Asia/Kolkata: 19:00Z is 00:30 the next local day',
      kind: 'daily',
      starts: '2026-11-17T19:00:00Z',
      tz: 'Asia/Kolkata',
      key: 'daily:2026-11-18',
    },
    {
      name: 'America/St_Johns (-03:30): 03:00Z is 23:30 the previous local day',
      kind: 'daily',
      starts: '2026-11-17T03:00:00Z',
      tz: 'America/St_Johns',
      key: 'daily:2026-11-16',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const slot = slotOf({ kind: c.kind, starts_at: t(c.starts) }, c.tz);
      assert.deepEqual(slot, {
        kind: c.kind,
        slot_key: c.key,
        slot_starts_at: t(c.starts),
        capacity: KIND_LIMITS[c.kind].maxVariance,
      });
    });
  }

  it('capacities: 3 hourly, 3 daily, 5 one-time-use, 3 permanent', () => {
    const caps = (['hourly', 'daily', 'one_time', 'permanent'] as const).map(
      (kind) => slotOf({ kind, starts_at: t('2026-11-17T20:00:00Z') }, null).capacity,
    );
    assert.deepEqual(caps, [3, 3, 5, 3]);
  });

  it('an unknown time zone is refused (RangeError), not silently treated as UTC', () => {
    assert.throws(() => slotOf({ kind: 'daily', starts_at: 0 }, 'Mars/Olympus_Mons'), RangeError);
  });
});

describe('lowestFreeVariance', () => {
  const cases: [capacity: number, taken: number[], want: number | null][] = [
    [3, [], 1],
    [3, [1, 3], 2],
    [3, [2, 1], 3],
    [3, [3, 2], 1],
    [3, [1, 2, 3], null],
    [5, [1, 2, 3, 4], 5],
    [5, [5, 4, 3, 2, 1], null],
  ];
  for (const [capacity, taken, want] of cases) {
    it(`capacity ${capacity}, taken [${taken}] → ${want}`, () => {
      assert.equal(lowestFreeVariance(capacity, taken), want);
    });
  }
});

describe('nearbySlotStarts: nearest first, alternating later/earlier, never unusable', () => {
  const hours = (slots: SlotRef[]) => slots.map((s) => iso(s.slot_starts_at));
  const cases: { name: string; frame: OfflineTimeFrame; tz?: string; count: number; want: string[] }[] = [
    {
      name: 'hourly-bound in the future: +1 h, −1 h, +2 h, −2 h',
      frame: frame('2026-03-02T10:00:00Z', '2026-03-02T12:00:00Z'),
      count: 4,
      want: [
        '2026-03-02T11:00:00.000Z',
        '2026-03-02T09:00:00.000Z',
        '2026-03-02T12:00:00.000Z',
        '2026-03-02T08:00:00.000Z',
      ],
    },
    {
      name: 'hourly-bound 2 h from the current hour: no earlier start whose end is not in the future',
      frame: frame('2026-03-01T12:00:00Z', '2026-03-01T14:00:00Z'),
      count: 5,
      want: [
        '2026-03-01T13:00:00.000Z',
        '2026-03-01T11:00:00.000Z', // ends 13:00, still ahead of 12:34
        '2026-03-01T14:00:00.000Z',
        '2026-03-01T15:00:00.000Z', // 10:00 would end at 12:00: skipped
        '2026-03-01T16:00:00.000Z',
      ],
    },
    {
      name: 'hourly-bound 48 h started 22 h ago: no earlier start whose activation window is over',
      frame: frame('2026-02-28T14:00:00Z', '2026-03-02T14:00:00Z'),
      count: 4,
      want: [
        '2026-02-28T15:00:00.000Z',
        '2026-02-28T13:00:00.000Z',
        '2026-02-28T16:00:00.000Z',
        '2026-02-28T17:00:00.000Z',
      ],
    },
    {
      name: 'one-time-use started 22 h ago: no earlier start whose 24 h are over',
      frame: frame('2026-02-28T14:00:00Z', undefined, true),
      count: 3,
      want: ['2026-02-28T15:00:00.000Z', '2026-02-28T13:00:00.000Z', '2026-02-28T16:00:00.000Z'],
    },
    {
      name: 'daily-bound: ±1 day, ±2 days at the same time of day',
      frame: frame('2026-03-10T10:00:00Z', '2026-04-09T10:00:00Z'),
      tz: 'Asia/Tokyo',
      count: 4,
      want: [
        '2026-03-11T10:00:00.000Z',
        '2026-03-09T10:00:00.000Z',
        '2026-03-12T10:00:00.000Z',
        '2026-03-08T10:00:00.000Z',
      ],
    },
    {
      name: 'daily-bound starting tomorrow: 2 days earlier would be past its activation window, skipped',
      frame: frame('2026-03-02T10:00:00Z', '2026-04-01T10:00:00Z'),
      tz: 'Asia/Tokyo',
      count: 4,
      want: [
        '2026-03-03T10:00:00.000Z',
        '2026-03-01T10:00:00.000Z',
        '2026-03-04T10:00:00.000Z',
        '2026-03-05T10:00:00.000Z',
      ],
    },
    {
      name: 'daily-bound across a DST change: a +24 h start on the same local day is skipped',
      // 04:00Z on 1 Nov 2026 is 00:00 EDT; 24 h later is 23:00 EST, still 1 Nov in New York.
      frame: frame('2026-11-01T04:00:00Z', '2026-12-01T04:00:00Z'),
      tz: 'America/New_York',
      count: 3,
      want: ['2026-10-31T04:00:00.000Z', '2026-11-03T04:00:00.000Z', '2026-10-30T04:00:00.000Z'],
    },
    {
      name: 'permanent: only later hours (a permanent code always starts at the current hour)',
      frame: frame(),
      count: 3,
      want: ['2026-03-01T13:00:00.000Z', '2026-03-01T14:00:00.000Z', '2026-03-01T15:00:00.000Z'],
    },
    {
      name: 'count 0: nothing',
      frame: frame('2026-03-02T10:00:00Z', '2026-03-02T12:00:00Z'),
      count: 0,
      want: [],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const timeZone = c.tz ?? null;
      const got = nearbySlotStarts(c.frame, { timeZone, now: NOW, count: c.count });
      assert.deepEqual(hours(got), c.want);
      const own = slotOf(c.frame, timeZone).slot_key;
      const keys = got.map((s) => s.slot_key);
      assert.equal(new Set([own, ...keys]).size, keys.length + 1, 'distinct slots, none the full one');
      for (const s of got)
        assert.deepEqual(s, slotOf({ kind: c.frame.kind, starts_at: s.slot_starts_at }, timeZone));
    });
  }
});

describe('slotFullError and maxCodesError', () => {
  const hourly = slotOf({ kind: 'hourly', starts_at: t('2026-03-02T10:00:00Z') }, null);

  it('names the slot, its capacity and kind, suggests the nearest free start; data lists free slots only', () => {
    const e = slotFullError(hourly, [
      { starts_at: t('2026-03-02T11:00:00Z'), free_variances: 2 },
      { starts_at: t('2026-03-02T09:00:00Z'), free_variances: 0 },
      { starts_at: t('2026-03-02T12:00:00Z'), free_variances: 3 },
    ]);
    assert.ok(e instanceof AccessCodeRuleError);
    assert.equal(e.status, 409);
    assert.equal(e.type, 'offline_code_slot_full');
    assert.match(
      e.message,
      /already has 3 hourly-bound offline codes starting at 2026-03-02T10:00:00\.000Z.*per start hour.*nearest start with room is 2026-03-02T11:00:00\.000Z \(2 free\)/s,
    );
    assert.deepEqual(e.data, {
      kind: 'hourly',
      slot_starts_at: '2026-03-02T10:00:00.000Z',
      slot_key: 'hourly:2026-03-02T10:00:00.000Z',
      capacity: 3,
      nearby_free_slots: [
        { starts_at: '2026-03-02T11:00:00.000Z', free_variances: 2 },
        { starts_at: '2026-03-02T12:00:00.000Z', free_variances: 3 },
      ],
    });
  });

  const messages: {
    name: string;
    slot: SlotRef;
    free: { starts_at: number; free_variances: number }[];
    re: RegExp;
  }[] = [
    {
      name: "daily-bound: names the lock's local date and the per-day limit",
      slot: slotOf({ kind: 'daily', starts_at: t('2026-03-02T20:00:00Z') }, 'Asia/Tokyo'),
      free: [{ starts_at: t('2026-03-03T20:00:00Z'), free_variances: 3 }],
      re: /3 daily-bound offline codes starting on 2026-03-03 \(the lock's local date\).*per calendar day.*2026-03-03T20:00:00\.000Z/s,
    },
    {
      name: 'one-time-use: capacity 5',
      slot: slotOf({ kind: 'one_time', starts_at: t('2026-03-02T10:00:00Z') }, null),
      free: [{ starts_at: t('2026-03-02T11:00:00Z'), free_variances: 1 }],
      re: /already has 5 one-time-use offline codes/,
    },
    {
      name: 'permanent: tells the client when to retry',
      slot: slotOf({ kind: 'permanent', starts_at: t('2026-03-01T12:00:00Z') }, null),
      free: [{ starts_at: t('2026-03-01T13:00:00Z'), free_variances: 3 }],
      re: /3 permanent offline codes.*retry at or after 2026-03-01T13:00:00\.000Z/s,
    },
    {
      name: 'nothing free nearby: says so, with an empty list',
      slot: hourly,
      free: [{ starts_at: t('2026-03-02T11:00:00Z'), free_variances: 0 }],
      re: /No nearby start has room either/,
    },
  ];
  for (const c of messages) {
    it(c.name, () => {
      const e = slotFullError(c.slot, c.free);
      assert.match(e.message, c.re);
      assert.equal(e.data?.capacity, c.slot.capacity);
      assert.equal(e.data?.slot_key, c.slot.slot_key);
      assert.deepEqual(
        e.data?.nearby_free_slots,
        c.free.filter((f) => f.free_variances > 0).map((f) => ({ ...f, starts_at: iso(f.starts_at) })),
      );
    });
  }

  it('maxCodesError: 409 max_access_codes_reached with counts (default max 199)', () => {
    for (const e of [maxCodesError(199, 199), maxCodesError(199)]) {
      assert.equal(e.status, 409);
      assert.equal(e.type, 'max_access_codes_reached');
      assert.match(e.message, /199 live access codes.*at most 199/s);
      assert.deepEqual(e.data, { active_access_code_count: 199, max_active_access_code_count: 199 });
    }
  });

  it('daily slot_starts_at is the rounded start, not local midnight', () => {
    const f = frame('2026-03-02T10:00:00Z', '2026-04-01T10:00:00Z');
    assert.equal(slotOf(f, 'Asia/Tokyo').slot_starts_at, f.starts_at);
    assert.equal(f.starts_at % DAY_MS, 10 * HOUR_MS);
  });
});
