// Online codes: custom 4–6 digit PINs the bridge programs into the lock. The lock checks them by exact match
// against its own table (never the server's list); they share the keypad lockout with algoPINs.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { derivePin, derivePinKey, HOUR_MS } from '../../src/algopin/index.ts';
import { FREE_FAILURES, LockStorageFullError, VirtualLock } from '../../src/lock/index.ts';
import { lockKeyArb, RUNS } from '../algopin/arbitraries.ts';

const key = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const T0 = Date.UTC(2026, 11, 1, 10);
const restart = (lock: VirtualLock): VirtualLock => VirtualLock.restore(lock.serialize());

describe('virtual lock: online codes', () => {
  it('opens for a programmed PIN of 4, 5 or 6 digits, and says it was an online code', () => {
    const lock = VirtualLock.create({ lockKey: key });
    for (const pin of ['0000', '12345', '987654']) lock.programOnlineCode(pin, T0);
    for (const pin of ['0000', '12345', '987654']) {
      const r = lock.enterPin(pin, T0 + 1000);
      assert.deepEqual(r, { accepted: true, detail: 'online_code', online: true, lockTimeMs: T0 + 1000 });
    }
    assert.deepEqual(lock.onlineCodes, ['0000', '12345', '987654']);
    assert.equal(lock.lockoutStatus(T0 + 1000).totalFailures, 0);
    const last = lock.accessLog.at(-1);
    assert.equal(last?.event, 'pin_accepted');
    assert.equal(last?.pin, '987654');
    assert.equal(last?.detail, 'online_code');
  });

  it('matches exactly: a prefix, an extension or a leading-zero variant of a programmed PIN is refused', () => {
    const lock = VirtualLock.create({ lockKey: key });
    lock.programOnlineCode('12345', T0);
    for (const pin of ['1234', '123456', '012345', '2345']) {
      assert.equal(lock.enterPin(pin, T0).accepted, false, pin);
      lock.clearLockout(T0);
    }
  });

  it('refuses an unknown 4–6 digit PIN with unknown_code, and counts it toward the lockout', () => {
    const lock = VirtualLock.create({ lockKey: key });
    lock.programOnlineCode('1111', T0);
    const r = lock.enterPin('2222', T0);
    assert.equal(r.accepted, false);
    assert.equal(r.reason_code, 'unknown_code');
    assert.equal(r.online, undefined);
    assert.equal(lock.lockoutStatus(T0).failures, 1);
    for (let i = 1; i < FREE_FAILURES; i++)
      assert.equal(lock.enterPin('2222', T0 + i).lockedUntilMs, undefined);
    const locking = lock.enterPin('333333', T0 + 10);
    assert.equal(typeof locking.lockedUntilMs, 'number', 'the sixth wrong online PIN locks the keypad');
    assert.equal(lock.lockoutStatus(T0 + 10).lockedOut, true);
  });

  it('refuses a removed PIN', () => {
    const lock = VirtualLock.create({ lockKey: key });
    lock.programOnlineCode('4321', T0);
    assert.equal(lock.enterPin('4321', T0).accepted, true);
    assert.equal(lock.removeOnlineCode('4321', T0 + 1), true);
    const r = lock.enterPin('4321', T0 + 2);
    assert.equal(r.accepted, false);
    assert.equal(r.reason_code, 'unknown_code');
    assert.deepEqual(lock.onlineCodes, []);
  });

  it('programs and removes idempotently (a retried bridge job succeeds and changes nothing more)', () => {
    const lock = VirtualLock.create({ lockKey: key, capacities: { onlineCodes: 1 } });
    lock.programOnlineCode('5555', T0);
    const once = lock.serialize();
    lock.programOnlineCode('5555', T0 + 1000); // table is full, but the PIN is already there: no error
    assert.deepEqual(lock.onlineCodes, ['5555']);
    assert.deepEqual(JSON.parse(lock.serialize()).onlineCodes, JSON.parse(once).onlineCodes);
    assert.equal(lock.removeOnlineCode('5555', T0 + 2000), true);
    assert.equal(lock.removeOnlineCode('5555', T0 + 3000), false);
    assert.equal(lock.removeOnlineCode('7777', T0 + 3000), false);
    assert.deepEqual(lock.onlineCodes, []);
  });

  it('logs bridge operations in lock time without touching the lockout', () => {
    const lock = VirtualLock.create({ lockKey: key, clockOffsetMs: -60_000 });
    for (let i = 0; i < FREE_FAILURES + 1; i++) lock.enterPin('9999', T0);
    const before = lock.lockoutStatus(T0);
    assert.equal(before.lockedOut, true);
    lock.programOnlineCode('1234', T0 + 1);
    lock.removeOnlineCode('1234', T0 + 2);
    lock.removeOnlineCode('1234', T0 + 3);
    assert.deepEqual(lock.lockoutStatus(T0), before);
    assert.deepEqual(
      lock.accessLog.slice(-3).map((e) => [e.event, e.pin, e.at]),
      [
        ['program_online_code', '1234', T0 - 60_000 + 1],
        ['remove_online_code', '1234', T0 - 60_000 + 2],
        ['remove_online_code', '1234', T0 - 60_000 + 3],
      ],
    );
  });

  it('rejects PINs that are not 4 to 6 digits with RangeError, changing nothing', () => {
    const lock = VirtualLock.create({ lockKey: key });
    const before = lock.serialize();
    for (const pin of ['123', '1234567', '12a4', '', ' 1234', '1234\n', '１２３４']) {
      assert.throws(() => lock.programOnlineCode(pin, T0), RangeError, JSON.stringify(pin));
      assert.throws(() => lock.removeOnlineCode(pin, T0), RangeError, JSON.stringify(pin));
    }
    assert.throws(() => lock.programOnlineCode(1234 as unknown as string, T0), RangeError);
    assert.throws(() => lock.programOnlineCode('1234', Number.NaN), RangeError);
    assert.equal(lock.serialize(), before);
  });

  it('throws LockStorageFullError on a full table and evicts nothing', () => {
    const lock = VirtualLock.create({ lockKey: key, capacities: { onlineCodes: 3 } });
    for (const pin of ['1000', '2000', '3000']) lock.programOnlineCode(pin, T0);
    const before = lock.serialize();
    assert.throws(() => lock.programOnlineCode('4000', T0 + 1), LockStorageFullError);
    assert.equal(lock.serialize(), before, 'state unchanged, not even logged');
    for (const pin of ['1000', '2000', '3000']) assert.equal(lock.enterPin(pin, T0 + 2).accepted, true);
    assert.equal(lock.enterPin('4000', T0 + 2).accepted, false);
    lock.removeOnlineCode('2000', T0 + 3);
    lock.programOnlineCode('4000', T0 + 4);
    assert.deepEqual(lock.onlineCodes, ['1000', '3000', '4000']);
  });

  it('holds 199 codes by default', () => {
    const lock = VirtualLock.create({ lockKey: key });
    assert.equal(lock.capacities.onlineCodes, 199);
    for (let i = 0; i < 199; i++) lock.programOnlineCode(String(100_000 + i), T0);
    assert.throws(() => lock.programOnlineCode('0000', T0), LockStorageFullError);
  });

  it('survives a power cycle exactly (serialize → restore → serialize is byte-identical)', () => {
    const lock = VirtualLock.create({ lockKey: key, clockOffsetMs: 30_000, capacities: { onlineCodes: 5 } });
    lock.programOnlineCode('0042', T0);
    lock.programOnlineCode('424242', T0 + HOUR_MS);
    lock.enterPin('0042', T0 + 2 * HOUR_MS);
    lock.enterPin('1111', T0 + 2 * HOUR_MS);
    const json = lock.serialize();
    const back = VirtualLock.restore(json);
    assert.equal(back.serialize(), json);
    assert.deepEqual(back.onlineCodes, ['0042', '424242']);
    assert.equal(back.capacities.onlineCodes, 5);
    assert.deepEqual(JSON.parse(json).onlineCodes, [
      { pin: '0042', programmedAtMs: T0 + 30_000 },
      { pin: '424242', programmedAtMs: T0 + HOUR_MS + 30_000 },
    ]);
    const later = T0 + 3 * HOUR_MS;
    assert.deepEqual(back.enterPin('424242', later), lock.enterPin('424242', later));
    assert.deepEqual(back.enterPin('1111', later), lock.enterPin('1111', later));
    assert.equal(back.serialize(), lock.serialize());
  });

  it('restores a state written before online codes existed, with an empty table of default capacity', () => {
    const lock = VirtualLock.create({ lockKey: key });
    const pin = derivePin(derivePinKey(key, 0), { kind: 'permanent', startHour: T0 / HOUR_MS, variance: 1 });
    assert.equal(lock.enterPin(pin, T0).accepted, true);
    lock.enterPin('1234', T0 + 1);
    const old = JSON.parse(lock.serialize());
    delete old.onlineCodes;
    delete old.capacities.onlineCodes;
    const oldJson = JSON.stringify(old);
    const back = VirtualLock.restore(oldJson);
    assert.deepEqual(back.onlineCodes, []);
    assert.equal(back.capacities.onlineCodes, 199);
    assert.equal(back.enterPin(pin, T0 + 2).accepted, true, 'its activated code still opens');
    assert.equal(back.lockoutStatus(T0 + 2).failures, 1, 'its lockout counter is kept');
    // The first serialize writes the new fields; that normal form is then stable.
    const normal = VirtualLock.restore(oldJson).serialize();
    assert.equal(VirtualLock.restore(normal).serialize(), normal);
    assert.deepEqual(JSON.parse(normal).onlineCodes, []);
    back.programOnlineCode('2468', T0 + 3);
    assert.equal(restart(back).enterPin('2468', T0 + 4).accepted, true);
  });

  it('refuses a corrupt online-code table instead of half-working', () => {
    const good = JSON.parse(VirtualLock.create({ lockKey: key, capacities: { onlineCodes: 2 } }).serialize());
    const entry = { pin: '1234', programmedAtMs: T0 };
    const bad = [
      { ...good, onlineCodes: {} },
      { ...good, onlineCodes: [{ pin: '123', programmedAtMs: T0 }] },
      { ...good, onlineCodes: [{ pin: '1234567', programmedAtMs: T0 }] },
      { ...good, onlineCodes: [{ pin: 1234, programmedAtMs: T0 }] },
      { ...good, onlineCodes: [{ pin: '1234' }] },
      { ...good, onlineCodes: [entry, entry] },
      { ...good, onlineCodes: [entry, { ...entry, pin: '2345' }, { ...entry, pin: '3456' }] },
      { ...good, capacities: { ...good.capacities, onlineCodes: 'many' } },
    ];
    for (const b of bad) assert.throws(() => VirtualLock.restore(JSON.stringify(b)), /onlineCodes/);
  });

  it('refuses online PINs with too_many_attempts while the keypad is locked, without counting them', () => {
    const lock = VirtualLock.create({ lockKey: key });
    lock.programOnlineCode('8642', T0);
    for (let i = 0; i < FREE_FAILURES + 1; i++) lock.enterPin('9753', T0);
    const st = lock.lockoutStatus(T0);
    assert.equal(st.lockedOut, true);
    for (const pin of ['8642', '9753']) {
      const r = lock.enterPin(pin, T0 + 1);
      assert.equal(r.accepted, false);
      assert.equal(r.reason_code, 'too_many_attempts');
      assert.equal(r.lockedUntilMs, st.lockedUntilMs);
    }
    assert.deepEqual(lock.lockoutStatus(T0 + 1), st);
    assert.equal(lock.enterPin('8642', st.lockedUntilMs).accepted, true, 'opens once the lockout ends');
  });

  it('does not reset the lockout counter when a correct online PIN opens', () => {
    const lock = VirtualLock.create({ lockKey: key });
    lock.programOnlineCode('8642', T0);
    for (let i = 0; i < FREE_FAILURES; i++) lock.enterPin('1357', T0);
    assert.equal(lock.enterPin('8642', T0 + 1).accepted, true);
    assert.equal(lock.lockoutStatus(T0 + 1).failures, FREE_FAILURES);
    assert.equal(typeof lock.enterPin('1357', T0 + 2).lockedUntilMs, 'number');
  });

  it('leaves other lengths to the algoPIN procedure: a 7+ digit PIN is never matched against the table', () => {
    const lock = VirtualLock.create({ lockKey: key });
    lock.programOnlineCode('123456', T0);
    const pin = derivePin(derivePinKey(key, 0), { kind: 'permanent', startHour: T0 / HOUR_MS, variance: 1 });
    const r = lock.enterPin(pin, T0);
    assert.equal(r.accepted, true);
    assert.equal(r.kind, 'permanent');
    assert.equal(r.online, undefined);
    assert.equal(lock.enterPin('1234567', T0).detail, 'not_an_algopin');
    assert.equal(lock.enterPin('123', T0).detail, 'not_an_algopin');
  });

  it('keeps online codes across key rotation (they do not depend on the key)', () => {
    const lock = VirtualLock.create({ lockKey: key });
    lock.programOnlineCode('2580', T0);
    lock.rotateKey(Buffer.alloc(32, 7), 1, T0 + 1);
    assert.equal(restart(lock).enterPin('2580', T0 + 2).accepted, true);
  });

  // Model: a set of PINs with a capacity. After any sequence of program/remove (and power cycles), the 4–6 digit
  // PINs the keypad accepts are exactly the model's, and a refused program leaves the model as it was.
  type Op =
    | { type: 'program'; pin: string }
    | { type: 'remove'; pin: string }
    | { type: 'power' }
    | { type: 'probe'; pin: string };

  // A small pool of online-length PINs, with prefixes and leading zeros, so that operations collide.
  const POOL = ['0000', '1234', '12345', '123456', '012345', '00000', '999999', '4321', '54321', '000000'];
  const pinArb = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...POOL) },
    { weight: 1, arbitrary: fc.stringMatching(/^[0-9]{4,6}$/) },
  );
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 4, arbitrary: pinArb.map<Op>((pin) => ({ type: 'program', pin })) },
    { weight: 3, arbitrary: pinArb.map<Op>((pin) => ({ type: 'remove', pin })) },
    { weight: 1, arbitrary: fc.constant<Op>({ type: 'power' }) },
    { weight: 2, arbitrary: pinArb.map<Op>((pin) => ({ type: 'probe', pin })) },
  );

  it('accepts exactly the model set of PINs after any sequence of program/remove operations', () => {
    fc.assert(
      fc.property(
        lockKeyArb,
        fc.integer({ min: 1, max: 8 }),
        fc.array(opArb, { maxLength: 40 }),
        fc.array(fc.stringMatching(/^[0-9]{4,6}$/), { maxLength: 5 }),
        (lockKey, capacity, ops, extra) => {
          let lock = VirtualLock.create({ lockKey, capacities: { onlineCodes: capacity } });
          const model = new Set<string>();
          let t = T0;
          const accepts = (pin: string): boolean => {
            lock.clearLockout(t); // probes must not lock the keypad; the lockout is tested above
            return lock.enterPin(pin, t++).accepted;
          };
          for (const op of ops) {
            t += 1000;
            if (op.type === 'power') lock = restart(lock);
            else if (op.type === 'probe') assert.equal(accepts(op.pin), model.has(op.pin), op.pin);
            else if (op.type === 'remove')
              assert.equal(lock.removeOnlineCode(op.pin, t), model.delete(op.pin));
            else if (model.has(op.pin) || model.size < capacity) {
              lock.programOnlineCode(op.pin, t);
              model.add(op.pin);
            } else {
              assert.throws(() => lock.programOnlineCode(op.pin, t), LockStorageFullError);
            }
          }
          assert.deepEqual(new Set(lock.onlineCodes), model);
          assert.equal(lock.onlineCodes.length, model.size);
          for (const pin of [...POOL, ...model, ...extra]) assert.equal(accepts(pin), model.has(pin), pin);
          assert.equal(restart(lock).serialize(), lock.serialize());
        },
      ),
      RUNS,
    );
  });
});
