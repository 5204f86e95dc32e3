import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AlgoPinKeyError,
  AlgoPinParamError,
  candidateStartHour,
  codeWindow,
  DRIFT_GRACE_MS,
  decodePin,
  derivePin,
  derivePinKey,
  describeDescriptor,
  encodeDescriptor,
  HOUR_MS,
  KIND_LIMITS,
  PIN_CLASSES,
  type PinParams,
  parseLockKeyHex,
  START_RESIDUE_MODULUS,
} from '../../src/algopin/index.ts';

const pinKey = derivePinKey(Buffer.alloc(32, 0x42), 0);
const S = 498_922;

describe('algoPIN engine: parameters', () => {
  it('fixes the PIN length per kind: one-time 8, permanent 9, hourly and daily 10', () => {
    assert.equal(KIND_LIMITS.one_time.pinLength, 8);
    assert.equal(KIND_LIMITS.permanent.pinLength, 9);
    assert.equal(KIND_LIMITS.hourly.pinLength, 10);
    assert.equal(KIND_LIMITS.daily.pinLength, 10);
    assert.equal(derivePin(pinKey, { kind: 'one_time', startHour: S, variance: 1 }).length, 8);
    assert.equal(derivePin(pinKey, { kind: 'permanent', startHour: S, variance: 1 }).length, 9);
  });

  it('keeps the igloohome ranges in KIND_LIMITS', () => {
    assert.deepEqual(KIND_LIMITS.hourly.duration, { unit: 'hours', min: 1, max: 672 });
    assert.deepEqual(KIND_LIMITS.daily.duration, { unit: 'days', min: 29, max: 367 });
    assert.deepEqual(KIND_LIMITS.one_time.duration, { unit: 'hours', min: 24, max: 24 });
    assert.equal(KIND_LIMITS.permanent.duration, null);
    assert.deepEqual(
      [KIND_LIMITS.hourly, KIND_LIMITS.daily, KIND_LIMITS.one_time, KIND_LIMITS.permanent].map(
        (k) => k.maxVariance,
      ),
      [3, 3, 5, 3],
    );
    assert.throws(() => {
      (KIND_LIMITS.hourly as { maxVariance: number }).maxVariance = 9;
    }, TypeError);
  });

  it('derives the documented class constants', () => {
    assert.deepEqual(
      [8, 9, 10].map((l) => {
        const c = PIN_CLASSES[l as 8 | 9 | 10];
        return [c.descriptorCount, c.cellCount, c.tagModulus];
      }),
      [
        [5, 130, 769_230],
        [3, 78, 12_820_512],
        [3033, 78_858, 126_810],
      ],
    );
  });

  const bad: [string, Partial<PinParams> & Record<string, unknown>, string][] = [
    ['unknown kind', { kind: 'weekly' as never, startHour: S, variance: 1 }, 'kind'],
    ['negative start hour', { kind: 'one_time', startHour: -1, variance: 1 }, 'startHour'],
    ['fractional start hour', { kind: 'one_time', startHour: 1.5, variance: 1 }, 'startHour'],
    ['start hour above 2^32 − 1', { kind: 'one_time', startHour: 2 ** 32, variance: 1 }, 'startHour'],
    ['hourly 0 h', { kind: 'hourly', startHour: S, durationHours: 0, variance: 1 }, 'durationHours'],
    ['hourly 673 h', { kind: 'hourly', startHour: S, durationHours: 673, variance: 1 }, 'durationHours'],
    ['hourly without duration', { kind: 'hourly', startHour: S, variance: 1 }, 'durationHours'],
    [
      'hourly with days',
      { kind: 'hourly', startHour: S, durationHours: 2, durationDays: 30, variance: 1 },
      'durationDays',
    ],
    ['daily 28 d', { kind: 'daily', startHour: S, durationDays: 28, variance: 1 }, 'durationDays'],
    ['daily 368 d', { kind: 'daily', startHour: S, durationDays: 368, variance: 1 }, 'durationDays'],
    [
      'daily with inconsistent hours',
      { kind: 'daily', startHour: S, durationDays: 30, durationHours: 5, variance: 1 },
      'durationHours',
    ],
    ['variance 0', { kind: 'hourly', startHour: S, durationHours: 1, variance: 0 }, 'variance'],
    ['hourly variance 4', { kind: 'hourly', startHour: S, durationHours: 1, variance: 4 }, 'variance'],
    ['one-time variance 6', { kind: 'one_time', startHour: S, variance: 6 }, 'variance'],
    ['permanent variance 4', { kind: 'permanent', startHour: S, variance: 4 }, 'variance'],
    ['one-time 25 h', { kind: 'one_time', startHour: S, durationHours: 25, variance: 1 }, 'durationHours'],
    [
      'permanent with a duration',
      { kind: 'permanent', startHour: S, durationHours: 5, variance: 1 },
      'durationHours',
    ],
  ];
  for (const [name, params, field] of bad) {
    it(`refuses ${name} with an AlgoPinParamError (a RangeError) naming ${field}`, () => {
      assert.throws(
        () => derivePin(pinKey, params as PinParams),
        (e: unknown) => e instanceof AlgoPinParamError && e instanceof RangeError && e.field === field,
      );
    });
  }

  it('accepts one-time durationHours 24 and daily durationHours = 24 × days as redundant inputs', () => {
    assert.equal(
      derivePin(pinKey, { kind: 'one_time', startHour: S, durationHours: 24, variance: 2 }),
      derivePin(pinKey, { kind: 'one_time', startHour: S, variance: 2 }),
    );
    assert.equal(
      derivePin(pinKey, { kind: 'daily', startHour: S, durationDays: 30, durationHours: 720, variance: 2 }),
      derivePin(pinKey, { kind: 'daily', startHour: S, durationDays: 30, variance: 2 }),
    );
  });
});

describe('algoPIN engine: keys', () => {
  it('derives different pin keys per epoch and per lock key', () => {
    const k = Buffer.alloc(32, 1);
    assert.notDeepEqual(derivePinKey(k, 0), derivePinKey(k, 1));
    assert.notDeepEqual(derivePinKey(k, 0), derivePinKey(Buffer.alloc(32, 2), 0));
    assert.equal(derivePinKey(k, 0).length, 32);
  });

  it('refuses keys that are not 256 bits and bad epochs with AlgoPinKeyError', () => {
    assert.throws(() => derivePinKey(Buffer.alloc(16), 0), AlgoPinKeyError);
    assert.throws(() => derivePinKey(Buffer.alloc(32), -1), AlgoPinKeyError);
    assert.throws(() => derivePinKey(Buffer.alloc(32), 2 ** 32), AlgoPinKeyError);
    assert.throws(() => derivePinKey(Buffer.alloc(32), 0.5), AlgoPinKeyError);
  });

  it('parses the 64-hex-digit key file format', () => {
    assert.deepEqual(parseLockKeyHex(`${'ab'.repeat(32)}\n`), Buffer.alloc(32, 0xab));
    assert.throws(() => parseLockKeyHex('ab'.repeat(31)), AlgoPinKeyError);
    assert.throws(() => parseLockKeyHex(`${'zz'.repeat(32)}`), AlgoPinKeyError);
  });
});

describe('algoPIN engine: decoding', () => {
  it('round-trips every descriptor of every class', () => {
    for (const kind of ['hourly', 'daily', 'one_time', 'permanent'] as const) {
      const lim = KIND_LIMITS[kind];
      const durations =
        lim.duration === null
          ? [undefined]
          : Array.from(
              { length: lim.duration.max - lim.duration.min + 1 },
              (_, i) => (lim.duration?.min ?? 0) + i,
            );
      for (const dur of durations) {
        for (let v = 1; v <= lim.maxVariance; v++) {
          const p: PinParams = { kind, startHour: S, variance: v };
          if (kind === 'hourly') p.durationHours = dur;
          if (kind === 'daily') p.durationDays = dur;
          const d = encodeDescriptor(p);
          const back = describeDescriptor(lim.pinLength, d);
          assert.ok(back);
          assert.equal(back.kind, kind);
          assert.equal(back.variance, v);
          if (kind === 'hourly') assert.equal(back.durationHours, dur);
          if (kind === 'daily') assert.equal(back.durationDays, dur);
        }
      }
    }
    assert.equal(describeDescriptor(10, 3033), null);
    assert.equal(describeDescriptor(8, 5), null);
    assert.equal(describeDescriptor(9, 3), null);
  });

  it('rejects strings that cannot be algoPINs before any key is involved', () => {
    for (const s of [
      '',
      '123456',
      '1234567',
      '12345678901',
      '12345abc90',
      ' 123456789',
      '-12345678',
      '1e9000000',
    ]) {
      assert.equal(decodePin(s), null, JSON.stringify(s));
    }
    // The top of each decimal range (cell ≥ cellCount) is never issued.
    assert.equal(decodePin('9999999999'), null);
    assert.equal(decodePin('9999982980'), null);
    assert.ok(decodePin('9999982979'));
    assert.equal(decodePin('99999900'), null);
    assert.ok(decodePin('99999899'));
    assert.equal(decodePin('999999936'), null);
    assert.ok(decodePin('999999935'));
  });

  it('zero-pads: a PIN with leading zeros keeps its length', () => {
    const p = derivePin(pinKey, { kind: 'hourly', startHour: 0, durationHours: 1, variance: 1 });
    assert.match(p, /^0000\d{6}$/);
    assert.equal(decodePin(p)?.kind, 'hourly');
  });
});

describe('algoPIN engine: windows and the candidate start hour', () => {
  it('gives a 5 h code its window, grace-extended bounds and no activation deadline', () => {
    const w = codeWindow({ kind: 'hourly', startHour: S, durationHours: 5, variance: 1 });
    assert.equal(w.startMs, S * HOUR_MS);
    assert.equal(w.endMs, (S + 5) * HOUR_MS);
    assert.equal(w.acceptFromMs, S * HOUR_MS - DRIFT_GRACE_MS);
    assert.equal(w.acceptUntilMs, (S + 5) * HOUR_MS + DRIFT_GRACE_MS);
    assert.equal(w.activationDeadlineMs, null);
  });

  it('requires activation exactly for codes longer than 24 h', () => {
    const deadline = (p: PinParams) => codeWindow(p).activationDeadlineMs;
    assert.equal(deadline({ kind: 'hourly', startHour: S, durationHours: 24, variance: 1 }), null);
    assert.equal(deadline({ kind: 'one_time', startHour: S, variance: 1 }), null);
    const due = (S + 24) * HOUR_MS + DRIFT_GRACE_MS;
    assert.equal(deadline({ kind: 'hourly', startHour: S, durationHours: 25, variance: 1 }), due);
    assert.equal(deadline({ kind: 'daily', startHour: S, durationDays: 29, variance: 1 }), due);
    assert.equal(deadline({ kind: 'permanent', startHour: S, variance: 1 }), due);
    assert.equal(codeWindow({ kind: 'permanent', startHour: S, variance: 1 }).acceptUntilMs, null);
  });

  it('picks, for each residue, the one start hour in the last 26 that has it', () => {
    const t = S * HOUR_MS + 50 * 60_000; // 10:50, so h_max = S + 1 (grace reaches 11:05)
    const seen = new Set<number>();
    for (let r = 0; r < START_RESIDUE_MODULUS; r++) {
      const c = candidateStartHour(r, t);
      assert.equal(((c % 26) + 26) % 26, r);
      assert.ok(c <= S + 1 && c >= S + 1 - 25);
      seen.add(c);
    }
    assert.equal(seen.size, 26);
  });
});
