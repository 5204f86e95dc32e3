import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  candidateStartHour,
  codeWindow,
  DRIFT_GRACE_MS,
  decodePin,
  derivePin,
  derivePinKey,
  encodeDescriptor,
  HOUR_MS,
  KIND_LIMITS,
  type PinParams,
  verifyCandidate,
} from '../../src/algopin/index.ts';
import { codeArb, lockKeyArb, RUNS, startHourArb } from './arbitraries.ts';

const sameCode = (a: PinParams, b: PinParams) =>
  a.kind === b.kind &&
  a.startHour === b.startHour &&
  a.variance === b.variance &&
  a.durationHours === b.durationHours &&
  a.durationDays === b.durationDays;

/** Every code a lock could accept at lock time t without its table (never used, inside its first-use span). */
function acceptableNeverUsedCodes(t: number): PinParams[] {
  const hMax = Math.floor((t + DRIFT_GRACE_MS) / HOUR_MS);
  const out: PinParams[] = [];
  for (let s = hMax - 25; s <= hMax; s++) {
    const push = (p: PinParams) => {
      const w = codeWindow(p);
      const open = t >= w.acceptFromMs && (w.acceptUntilMs === null || t < w.acceptUntilMs);
      if (open && (w.activationDeadlineMs === null || t < w.activationDeadlineMs)) out.push(p);
    };
    for (let v = 1; v <= 3; v++) {
      for (let h = 1; h <= 672; h++) push({ kind: 'hourly', startHour: s, durationHours: h, variance: v });
      for (let d = 29; d <= 367; d++) push({ kind: 'daily', startHour: s, durationDays: d, variance: v });
      push({ kind: 'permanent', startHour: s, variance: v });
    }
    for (let v = 1; v <= 5; v++) push({ kind: 'one_time', startHour: s, variance: v });
  }
  return out;
}

describe('algoPIN properties', () => {
  it('decodes what it derives: kind, duration, variance and start-hour residue come back out', () => {
    fc.assert(
      fc.property(lockKeyArb, codeArb(), (key, params) => {
        const pin = derivePin(derivePinKey(key, 0), params);
        const d = decodePin(pin);
        assert.ok(d);
        assert.equal(pin.length, KIND_LIMITS[params.kind].pinLength);
        assert.equal(d.kind, params.kind);
        assert.equal(d.variance, params.variance);
        assert.equal(d.descriptor, encodeDescriptor(params));
        assert.equal(d.residue, params.startHour % 26);
        if (params.kind === 'hourly') assert.equal(d.durationHours, params.durationHours);
        if (params.kind === 'daily') assert.equal(d.durationDays, params.durationDays);
      }),
      RUNS,
    );
  });

  it('gives distinct PINs to distinct (kind, duration, variance) in the same start hour', () => {
    const shape = codeArb(fc.constant(0));
    fc.assert(
      fc.property(lockKeyArb, startHourArb, shape, shape, (key, s, a0, b0) => {
        const a = { ...a0, startHour: s };
        const b = { ...b0, startHour: s };
        fc.pre(!sameCode(a, b));
        const pinKey = derivePinKey(key, 0);
        assert.notEqual(derivePin(pinKey, a), derivePin(pinKey, b));
      }),
      RUNS,
    );
  });

  it('gives every variance of one (kind, start, duration) its own PIN', () => {
    fc.assert(
      fc.property(lockKeyArb, codeArb(), (key, p) => {
        const pinKey = derivePinKey(key, 0);
        const max = KIND_LIMITS[p.kind].maxVariance;
        const pins = new Set(
          Array.from({ length: max }, (_, i) => derivePin(pinKey, { ...p, variance: i + 1 })),
        );
        assert.equal(pins.size, max);
      }),
      RUNS,
    );
  });

  it('gives distinct PINs to any two codes of one class whose start hours are less than 26 h apart', () => {
    fc.assert(
      fc.property(lockKeyArb, startHourArb, fc.integer({ min: 0, max: 25 }), (key, s, delta) => {
        const pinKey = derivePinKey(key, 0);
        const a = { kind: 'daily', startHour: s, durationDays: 30, variance: 1 } as const;
        const b = { ...a, startHour: s + delta };
        if (delta === 0) return;
        assert.notEqual(derivePin(pinKey, a), derivePin(pinKey, b));
      }),
      RUNS,
    );
  });

  it('the lock finds a never-used code by its single candidate start hour, at any instant of its first-use span', () => {
    fc.assert(
      fc.property(
        lockKeyArb,
        codeArb(),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        (key, p, f) => {
          const pinKey = derivePinKey(key, 0);
          const w = codeWindow(p);
          const last = Math.min(
            w.acceptUntilMs ?? Number.POSITIVE_INFINITY,
            w.activationDeadlineMs ?? Number.POSITIVE_INFINITY,
          );
          const t = w.acceptFromMs + Math.floor(f * (last - w.acceptFromMs));
          const d = decodePin(derivePin(pinKey, p));
          assert.ok(d);
          assert.equal(candidateStartHour(d.residue, t), p.startHour);
          assert.equal(verifyCandidate(pinKey, d, t)?.tagMatches, true);
        },
      ),
      RUNS,
    );
  });
});

describe('algoPIN collisions', () => {
  // Exhaustive: ~75 000 codes per instant. Instants at minute 0 (most codes in play) and 30 of an hour.
  const instants = [Date.UTC(2026, 11, 1, 10), Date.UTC(2027, 5, 15, 23, 30), Date.UTC(2031, 0, 1, 0, 59)];
  for (const t of instants) {
    it(`all PINs a lock can accept without its table at ${new Date(t).toISOString()} are distinct`, () => {
      const pinKey = derivePinKey(Buffer.from('c0ffee'.repeat(10) + 'c0ff', 'hex'), 3);
      const codes = acceptableNeverUsedCodes(t);
      assert.ok(codes.length > 72_000, `${codes.length} codes`);
      const pins = new Map<string, PinParams>();
      for (const p of codes) {
        const pin = derivePin(pinKey, p);
        const other = pins.get(pin);
        assert.equal(other, undefined, `${pin} is both ${JSON.stringify(other)} and ${JSON.stringify(p)}`);
        pins.set(pin, p);
      }
    });
  }
});
