// Lockout: persistent (power cycles change nothing), not reset by a correct PIN, and in time with the
// contract (ten wrong PINs within an hour always lock the keypad).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { derivePin, derivePinKey, HOUR_MS } from '../../src/algopin/index.ts';
import {
  BACKOFF_CAP_MS,
  backoffMs,
  FREE_FAILURES,
  LEAK_INTERVAL_MS,
  VirtualLock,
} from '../../src/lock/index.ts';
import { lockKeyArb, RUNS } from '../algopin/arbitraries.ts';

const T0 = Date.UTC(2026, 11, 1, 10);
// Never valid under any key (its descriptor is out of range), so the properties cannot flake on a 1/T hit.
const WRONG = '9999999999';

type Op =
  | { type: 'wrong' }
  | { type: 'correct' }
  | { type: 'wait'; ms: number }
  | { type: 'power' }
  | { type: 'admin_clear' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.constant<Op>({ type: 'wrong' }) },
  { weight: 2, arbitrary: fc.constant<Op>({ type: 'correct' }) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 5 * HOUR_MS }).map<Op>((ms) => ({ type: 'wait', ms })) },
  { weight: 2, arbitrary: fc.constant<Op>({ type: 'power' }) },
  { weight: 1, arbitrary: fc.constant<Op>({ type: 'admin_clear' }) },
);

describe('virtual lock: lockout', () => {
  it('behaves identically with and without power cycles, and a correct PIN never lowers the count', () => {
    fc.assert(
      fc.property(lockKeyArb, fc.array(opArb, { minLength: 1, maxLength: 40 }), (key, ops) => {
        const pin = derivePin(derivePinKey(key, 0), {
          kind: 'permanent',
          startHour: T0 / HOUR_MS,
          variance: 1,
        });
        const steady = VirtualLock.create({ lockKey: key });
        let cycled = VirtualLock.create({ lockKey: key });
        let t = T0;
        assert.equal(steady.enterPin(pin, t).accepted, true); // activate the permanent code
        assert.equal(cycled.enterPin(pin, t).accepted, true);
        for (const op of ops) {
          if (op.type === 'wait') t += op.ms;
          else if (op.type === 'power') cycled = VirtualLock.restore(cycled.serialize());
          else if (op.type === 'admin_clear') {
            steady.clearLockout(t);
            cycled.clearLockout(t);
          } else {
            const before = steady.lockoutStatus(t);
            const typed = op.type === 'correct' ? pin : WRONG;
            const a = steady.enterPin(typed, t);
            const b = cycled.enterPin(typed, t);
            assert.deepEqual(b, a);
            const after = steady.lockoutStatus(t);
            if (op.type === 'correct') {
              assert.equal(after.failures, before.failures, 'a correct PIN does not touch the counter');
              assert.equal(after.lockedUntilMs, before.lockedUntilMs);
              assert.equal(a.accepted, !before.lockedOut);
              if (before.lockedOut) assert.equal(a.reason_code, 'too_many_attempts');
            } else if (!before.lockedOut) {
              assert.equal(after.failures, before.failures + 1);
            }
            t += 1000;
          }
        }
        assert.equal(cycled.serialize(), steady.serialize());
      }),
      RUNS,
    );
  });

  it('locks the keypad at the latest at the tenth wrong PIN within an hour, from any earlier history', () => {
    fc.assert(
      fc.property(
        lockKeyArb,
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 0, max: 200 * HOUR_MS }),
        fc.array(fc.integer({ min: 0, max: HOUR_MS - 1 }), { minLength: 10, maxLength: 10 }),
        (key, earlier, gap, offsets) => {
          const lock = VirtualLock.create({ lockKey: key });
          let t = T0;
          for (let i = 0; i < earlier; i++) {
            const r = lock.enterPin(WRONG, t);
            t = (r.lockedUntilMs ?? t) + 1000;
          }
          const start = t + gap;
          let locked = false;
          for (const o of [...offsets].sort((a, b) => a - b)) {
            const r = lock.enterPin(WRONG, start + o);
            if (r.reason_code === 'too_many_attempts' || r.lockedUntilMs !== undefined) locked = true;
          }
          assert.ok(locked);
        },
      ),
      RUNS,
    );
  });

  it('follows the documented backoff: 5 free, then 1, 2, 4 … 128 min, then 4 h; one failure leaks per 4 h', () => {
    assert.deepEqual(
      Array.from({ length: 16 }, (_, i) => backoffMs(i + 1) / 60_000),
      [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 240, 240, 240],
    );
    assert.equal(FREE_FAILURES, 5);
    assert.equal(BACKOFF_CAP_MS, 4 * HOUR_MS);
    const lock = VirtualLock.create({ lockKey: Buffer.alloc(32, 1) });
    for (let i = 0; i < 5; i++) lock.enterPin(WRONG, T0 + i);
    assert.equal(lock.lockoutStatus(T0 + 10).failures, 5);
    assert.equal(lock.lockoutStatus(T0 + LEAK_INTERVAL_MS - 1).failures, 5);
    assert.equal(lock.lockoutStatus(T0 + LEAK_INTERVAL_MS).failures, 4);
    assert.equal(lock.lockoutStatus(T0 + 5 * LEAK_INTERVAL_MS).failures, 0);
    assert.equal(lock.lockoutStatus(T0 + 5 * LEAK_INTERVAL_MS).totalFailures, 5);
  });
});
