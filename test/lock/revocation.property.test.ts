import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { codeWindow, derivePin, derivePinKey } from '../../src/algopin/index.ts';
import { VirtualLock } from '../../src/lock/index.ts';
import { codeArb, DAY, firstUseEnd, lockKeyArb, RUNS, within } from '../algopin/arbitraries.ts';
import { assertNotOpenedAs, power } from './helpers.ts';

describe('virtual lock: Bluetooth deletion', () => {
  it('never opens a deleted PIN again, whenever it was deleted and whether or not it was used', () => {
    fc.assert(
      fc.property(
        lockKeyArb,
        codeArb(),
        fc.boolean(),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        fc.integer({ min: -3 * DAY, max: 3 * DAY }),
        fc.array(fc.tuple(within(400 * DAY), fc.boolean()), { minLength: 1, maxLength: 5 }),
        (key, p, usedBefore, f, deleteOffset, attempts) => {
          const pin = derivePin(derivePinKey(key, 0), p);
          const w = codeWindow(p);
          let lock = VirtualLock.create({ lockKey: key });
          const firstUse = w.startMs + Math.floor(f * Math.min(firstUseEnd(p) - w.startMs, 30 * DAY));
          let deletedAt = w.startMs + deleteOffset;
          if (usedBefore) {
            assert.equal(lock.enterPin(pin, firstUse).accepted, true);
            deletedAt = Math.max(deletedAt, firstUse);
          }
          const del = lock.deletePin(pin, deletedAt);
          assert.equal(del.revoked, true);
          for (const [x, cycle] of attempts) {
            lock = power(lock, cycle);
            lock.clearLockout();
            const r = lock.enterPin(pin, deletedAt + x);
            assertNotOpenedAs(r, key, 0, p, pin);
            if (del.untilMs === null || deletedAt + x < del.untilMs)
              assert.equal(r.reason_code, 'blocklisted_code');
          }
        },
      ),
      RUNS,
    );
  });
});
