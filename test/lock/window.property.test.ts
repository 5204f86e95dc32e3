// The contract's "What the lock enforces", as properties over random keys, codes, times and clock errors.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { codeWindow, derivePin, derivePinKey, getHmacCount } from '../../src/algopin/index.ts';
import { VirtualLock } from '../../src/lock/index.ts';
import {
  codeArb,
  DAY,
  firstUseEnd,
  G,
  isLong,
  lockKeyArb,
  longCodeArb,
  oneTimeArb,
  RUNS,
  within,
} from '../algopin/arbitraries.ts';
import { assertNotOpenedAs, power } from './helpers.ts';

const YEAR = 365 * DAY;

describe('virtual lock: windows', () => {
  it('opens with an issued PIN anywhere in its window while the lock clock is off by up to ±15 min', () => {
    fc.assert(
      fc.property(
        lockKeyArb,
        codeArb(),
        fc.integer({ min: -G, max: G }),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        (key, p, drift, f) => {
          const w = codeWindow(p);
          const span = firstUseEnd(p) - w.startMs;
          const trueNow = w.startMs + Math.min(span - 1, Math.floor(f * span));
          const lock = VirtualLock.create({ lockKey: key, clockOffsetMs: drift });
          const r = lock.enterPin(derivePin(derivePinKey(key, 0), p), trueNow);
          assert.equal(r.accepted, true, JSON.stringify({ p, drift, trueNow, r }));
          assert.equal(r.kind, p.kind);
          assert.equal(r.startHour, p.startHour);
          assert.equal(r.variance, p.variance);
        },
      ),
      RUNS,
    );
  });

  it('accepts exactly from start − 15 min on its own clock (boundary instants)', () => {
    fc.assert(
      fc.property(lockKeyArb, codeArb(), (key, p) => {
        const w = codeWindow(p);
        const pin = derivePin(derivePinKey(key, 0), p);
        assert.equal(VirtualLock.create({ lockKey: key }).enterPin(pin, w.acceptFromMs).accepted, true);
        const early = VirtualLock.create({ lockKey: key }).enterPin(pin, w.acceptFromMs - 1);
        assertNotOpenedAs(early, key, 0, p, pin);
        if (!isLong(p) && w.acceptUntilMs !== null) {
          assert.equal(
            VirtualLock.create({ lockKey: key }).enterPin(pin, w.acceptUntilMs - 1).accepted,
            true,
          );
        }
      }),
      RUNS,
    );
  });

  it('refuses a PIN before its window (more than 15 min early on the lock clock)', () => {
    fc.assert(
      fc.property(lockKeyArb, codeArb(), within(60 * DAY), (key, p, x) => {
        const pin = derivePin(derivePinKey(key, 0), p);
        const t = codeWindow(p).acceptFromMs - 1 - x;
        const r = VirtualLock.create({ lockKey: key }).enterPin(pin, t);
        assertNotOpenedAs(r, key, 0, p, pin);
      }),
      RUNS,
    );
  });

  it('refuses a PIN from 15 min after its end on, whether or not it was used before', () => {
    fc.assert(
      fc.property(
        lockKeyArb,
        codeArb().filter((p) => p.kind !== 'permanent'),
        fc.boolean(),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        within(YEAR),
        fc.boolean(),
        (key, p, usedBefore, f, x, cycle) => {
          const pin = derivePin(derivePinKey(key, 0), p);
          const w = codeWindow(p);
          let lock = VirtualLock.create({ lockKey: key });
          if (usedBefore) {
            const t1 = w.startMs + Math.floor(f * (firstUseEnd(p) - w.startMs));
            assert.equal(lock.enterPin(pin, t1).accepted, true);
          }
          lock = power(lock, cycle);
          const r = lock.enterPin(pin, (w.acceptUntilMs as number) + x);
          assertNotOpenedAs(r, key, 0, p, pin);
          if (!r.accepted)
            assert.ok(r.reason_code === 'expired_code' || r.reason_code === 'unknown_code', r.reason_code);
        },
      ),
      RUNS,
    );
  });
});

describe('virtual lock: activation window', () => {
  it('never opens a code longer than 24 h that was not used within 24 h (+15 min) of its start', () => {
    fc.assert(
      fc.property(lockKeyArb, longCodeArb, within(2 * YEAR), within(YEAR), (key, p, x, y) => {
        const pin = derivePin(derivePinKey(key, 0), p);
        const lock = VirtualLock.create({ lockKey: key });
        const deadline = codeWindow(p).activationDeadlineMs as number;
        const first = lock.enterPin(pin, deadline + x);
        assertNotOpenedAs(first, key, 0, p, pin);
        assertNotOpenedAs(lock.enterPin(pin, deadline + x + y), key, 0, p, pin);
      }),
      RUNS,
    );
  });

  it('keeps a long code working until its end once it was used in time, across power cycles', () => {
    fc.assert(
      fc.property(
        lockKeyArb,
        longCodeArb,
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        fc.boolean(),
        (key, p, f1, f2, cycle) => {
          const pin = derivePin(derivePinKey(key, 0), p);
          const w = codeWindow(p);
          const t1 = w.acceptFromMs + Math.floor(f1 * ((w.activationDeadlineMs as number) - w.acceptFromMs));
          const until = w.acceptUntilMs ?? t1 + 10 * YEAR;
          const t2 = t1 + Math.floor(f2 * (until - t1));
          let lock = VirtualLock.create({ lockKey: key });
          const r1 = lock.enterPin(pin, t1);
          assert.equal(r1.accepted, true);
          assert.equal(r1.activated, true);
          lock = power(lock, cycle);
          const r2 = lock.enterPin(pin, t2);
          assert.equal(r2.accepted, true, JSON.stringify({ p, t1, t2, r2 }));
          assert.equal(r2.startHour, p.startHour);
        },
      ),
      RUNS,
    );
  });
});

describe('virtual lock: one-time codes', () => {
  it('opens a one-time code exactly once within its 24 h, across power cycles', () => {
    fc.assert(
      fc.property(
        lockKeyArb,
        oneTimeArb(),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), {
          minLength: 2,
          maxLength: 5,
        }),
        fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
        (key, p, fractions, cycles) => {
          const pin = derivePin(derivePinKey(key, 0), p);
          const w = codeWindow(p);
          const times = fractions
            .map((f) => w.acceptFromMs + Math.floor(f * ((w.acceptUntilMs as number) - w.acceptFromMs)))
            .sort((a, b) => a - b);
          let lock = VirtualLock.create({ lockKey: key });
          const outcomes = times.map((t, i) => {
            lock = power(lock, cycles[i] as boolean);
            return lock.enterPin(pin, t);
          });
          assert.equal(outcomes[0]?.accepted, true);
          for (const r of outcomes.slice(1)) {
            assert.equal(r.accepted, false);
            assert.equal(r.reason_code, 'expired_code');
          }
        },
      ),
      RUNS,
    );
  });
});

describe('virtual lock: verification cost', () => {
  it('computes at most one HMAC per keypad attempt, whatever is typed', () => {
    const key = Buffer.alloc(32, 5);
    const lock = VirtualLock.create({ lockKey: key });
    const pinKey = derivePinKey(key, 0);
    const typed = fc.oneof(
      fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 0, maxLength: 12 }),
      codeArb().map((p) => derivePin(pinKey, p)),
    );
    fc.assert(
      fc.property(typed, fc.integer({ min: 400_000 * 3_600_000, max: 600_000 * 3_600_000 }), (pin, t) => {
        lock.clearLockout();
        const before = getHmacCount();
        lock.enterPin(pin, t);
        assert.ok(getHmacCount() - before <= 1);
      }),
      RUNS,
    );
  });
});
