import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { derivePin, derivePinKey, HOUR_MS, type PinParams } from '../../src/algopin/index.ts';
import { LockStateError, LockStorageFullError, VirtualLock } from '../../src/lock/index.ts';

const key = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const pinKey = derivePinKey(key, 0);
const S = Date.UTC(2026, 11, 1, 10) / HOUR_MS;
const T0 = S * HOUR_MS;
const pinOf = (p: PinParams, k = pinKey) => derivePin(k, p);
const daily = (startHour: number, durationDays = 30, variance = 1): PinParams => ({
  kind: 'daily',
  startHour,
  durationDays,
  variance,
});

describe('virtual lock: boundary', () => {
  it('imports nothing from the project but the algoPIN engine', () => {
    const dir = new URL('../../src/lock/', import.meta.url);
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const src = readFileSync(new URL(file, dir), 'utf8');
      for (const m of src.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
        const spec = m[1] as string;
        assert.ok(
          spec.startsWith('./') || spec === '../algopin/index.ts' || spec.startsWith('node:'),
          `${file} imports ${spec}`,
        );
      }
    }
  });
});

describe('virtual lock: persistence', () => {
  it('serialize → restore → serialize is byte-identical and the restored lock behaves the same', () => {
    const lock = VirtualLock.create({ lockKey: key, clockOffsetMs: 120_000 });
    lock.setClockRate(20, T0 - HOUR_MS);
    lock.enterPin(pinOf(daily(S)), T0);
    lock.enterPin(pinOf({ kind: 'one_time', startHour: S, variance: 3 }), T0 + 1000);
    lock.enterPin('12345', T0 + 2000);
    lock.deletePin(pinOf({ kind: 'permanent', startHour: S + 100, variance: 1 }), T0 + 3000);
    for (let i = 0; i < 7; i++) lock.enterPin('9999999999', T0 + 4000 + i);
    const json = lock.serialize();
    const back = VirtualLock.restore(json);
    assert.equal(back.serialize(), json);
    const later = T0 + 5 * HOUR_MS;
    assert.deepEqual(back.enterPin(pinOf(daily(S)), later), lock.enterPin(pinOf(daily(S)), later));
    assert.equal(back.serialize(), lock.serialize());
  });

  it('refuses a corrupt state instead of half-working', () => {
    const good = JSON.parse(VirtualLock.create({ lockKey: key }).serialize());
    const bad = [
      'not json',
      JSON.stringify({ ...good, format: 'other' }),
      JSON.stringify({ ...good, version: 2 }),
      JSON.stringify({ ...good, lockKey: 'abc' }),
      JSON.stringify({ ...good, epoch: -1 }),
      JSON.stringify({ ...good, lockout: { ...good.lockout, failures: 'x' } }),
      JSON.stringify({ ...good, activated: [{ pin: 1 }] }),
      JSON.stringify({ ...good, clock: null }),
    ];
    for (const b of bad) assert.throws(() => VirtualLock.restore(b), LockStateError, b.slice(0, 60));
  });
});

describe('virtual lock: keypad details', () => {
  it('treats 4–6 digit (online) codes and 7-digit strings as unknown: this lock holds no custom codes', () => {
    const lock = VirtualLock.create({ lockKey: key });
    for (const pin of ['1234', '123456', '1234567', '', '12a45678']) {
      const r = lock.enterPin(pin, T0);
      assert.equal(r.reason_code, 'unknown_code');
      assert.equal(r.detail, 'not_an_algopin');
      lock.clearLockout();
    }
  });

  it('logs every attempt and admin operation in lock time, with a sequence number for sync', () => {
    const lock = VirtualLock.create({ lockKey: key, clockOffsetMs: -60_000 });
    lock.enterPin(pinOf(daily(S)), T0);
    lock.enterPin('9999999999', T0 + 1);
    lock.deletePin(pinOf(daily(S)), T0 + 2);
    lock.clearLockout(T0 + 3);
    lock.setTime(T0 + 4);
    const log = lock.accessLog;
    assert.deepEqual(
      log.map((e) => [e.seq, e.event, e.reason_code ?? null, e.at]),
      [
        [1, 'pin_accepted', null, T0 - 60_000],
        [2, 'pin_denied', 'unknown_code', T0 - 60_000 + 1],
        [3, 'delete_pin', null, T0 - 60_000 + 2],
        [4, 'clear_lockout', null, T0 - 60_000 + 3],
        [5, 'set_time', null, T0 + 4],
      ],
    );
    assert.equal(log[0]?.kind, 'daily');
    assert.equal(log[0]?.startHour, S);
    assert.deepEqual(
      lock.accessLogSince(3).map((e) => e.seq),
      [4, 5],
    );
  });

  it('keeps only the newest entries when the log ring is full', () => {
    const lock = VirtualLock.create({ lockKey: key, capacities: { log: 3 } });
    for (let i = 0; i < 5; i++) {
      lock.clearLockout();
      lock.enterPin('1234', T0 + i);
    }
    assert.deepEqual(
      lock.accessLog.map((e) => e.seq),
      [8, 9, 10],
    );
  });
});

describe('virtual lock: clock', () => {
  it('models offset, rate drift and Bluetooth time sync', () => {
    const lock = VirtualLock.create({ lockKey: key });
    assert.equal(lock.lockTime(T0), T0);
    lock.setClockDrift(-5 * 60_000, T0);
    assert.equal(lock.lockTime(T0 + HOUR_MS), T0 + HOUR_MS - 5 * 60_000);
    lock.setClockRate(100, T0); // 100 ppm fast: +360 ms per hour
    assert.equal(lock.lockTime(T0 + 10 * HOUR_MS), T0 + 10 * HOUR_MS - 5 * 60_000 + 3600);
    lock.setTime(T0 + 10 * HOUR_MS);
    assert.equal(lock.lockTime(T0 + 10 * HOUR_MS), T0 + 10 * HOUR_MS);
    assert.equal(lock.lockTime(T0 + 20 * HOUR_MS), T0 + 20 * HOUR_MS + 3600);
  });

  it('refuses a code whose window the drifted clock has left, beyond the 15 min grace', () => {
    const pin = pinOf({ kind: 'hourly', startHour: S, durationHours: 2, variance: 1 });
    const fast = VirtualLock.create({ lockKey: key, clockOffsetMs: 16 * 60_000 });
    assert.equal(fast.enterPin(pin, T0 + 2 * HOUR_MS - 30_000).reason_code, 'expired_code');
    const slow = VirtualLock.create({ lockKey: key, clockOffsetMs: -16 * 60_000 });
    assert.equal(slow.enterPin(pin, T0).accepted, false);
    slow.setTime(T0 + 1000);
    assert.equal(slow.enterPin(pin, T0 + 1000).accepted, true);
  });
});

describe('virtual lock: bounded tables', () => {
  it('refuses new activations when the table is full of live codes, without evicting or counting a failure', () => {
    const lock = VirtualLock.create({ lockKey: key, capacities: { activated: 3 } });
    const pins = [1, 2, 3].map((v) => pinOf(daily(S, 30, v)));
    for (const p of pins) assert.equal(lock.enterPin(p, T0).activated, true);
    const fourth = pinOf(daily(S, 31, 1));
    const r = lock.enterPin(fourth, T0 + 1000);
    assert.equal(r.accepted, false);
    assert.equal(r.reason_code, 'unknown_code');
    assert.equal(r.detail, 'activation_table_full');
    assert.equal(lock.lockoutStatus(T0 + 1000).failures, 0);
    for (const p of pins) assert.equal(lock.enterPin(p, T0 + 20 * 24 * HOUR_MS).accepted, true);
  });

  it('makes room by dropping activated codes whose window is over', () => {
    const lock = VirtualLock.create({ lockKey: key, capacities: { activated: 1 } });
    lock.enterPin(pinOf({ kind: 'hourly', startHour: S, durationHours: 30, variance: 1 }), T0);
    const next = pinOf(daily(S + 40));
    assert.equal(lock.enterPin(next, (S + 40) * HOUR_MS).activated, true);
    assert.equal(lock.activatedCodes.length, 1);
    assert.equal(lock.activatedCodes[0]?.pin, next);
  });

  it('throws LockStorageFullError when the revocation list is full of live entries', () => {
    const lock = VirtualLock.create({ lockKey: key, capacities: { revoked: 2 } });
    lock.deletePin(pinOf(daily(S + 500)), T0);
    lock.deletePin(pinOf(daily(S + 501)), T0);
    assert.throws(() => lock.deletePin(pinOf(daily(S + 502)), T0), LockStorageFullError);
  });

  it('keeps a revocation only while its code can be valid, for ever when the lock cannot tell', () => {
    const lock = VirtualLock.create({ lockKey: key });
    const hourly = pinOf({ kind: 'hourly', startHour: S, durationHours: 3, variance: 1 });
    assert.deepEqual(lock.deletePin(hourly, T0), {
      revoked: true,
      recognized: true,
      untilMs: T0 + 3 * HOUR_MS + 15 * 60_000,
    });
    const future = pinOf(daily(S + 1000));
    assert.deepEqual(lock.deletePin(future, T0), { revoked: true, recognized: false, untilMs: null });
    const perm = pinOf({ kind: 'permanent', startHour: S, variance: 2 });
    assert.equal(lock.deletePin(perm, T0).untilMs, null);
    assert.deepEqual(lock.deletePin('1234', T0), { revoked: false, recognized: false, untilMs: null });
  });
});

describe('virtual lock: key rotation', () => {
  it('keeps activated codes, kills never-used PINs of the old epoch, accepts the new epoch', () => {
    const lock = VirtualLock.create({ lockKey: key });
    const used = pinOf(daily(S));
    const unused = pinOf(daily(S, 40));
    assert.equal(lock.enterPin(used, T0).accepted, true);
    const newKey = Buffer.alloc(32, 0xee);
    lock.rotateKey(newKey, 1, T0);
    assert.equal(lock.epoch, 1);
    assert.equal(lock.enterPin(used, T0 + HOUR_MS).accepted, true);
    assert.equal(lock.enterPin(unused, T0 + HOUR_MS).reason_code, 'unknown_code');
    assert.equal(lock.enterPin(pinOf(daily(S, 40), derivePinKey(newKey, 1)), T0 + HOUR_MS).accepted, true);
    assert.throws(() => lock.rotateKey(newKey, 1), RangeError);
    assert.throws(() => lock.rotateKey(Buffer.alloc(16), 2), RangeError);
    assert.equal(VirtualLock.restore(lock.serialize()).epoch, 1);
  });
});

describe('virtual lock: deletion without a time', () => {
  it('still revokes (for ever unless the table knows the end) and drops the activated entry', () => {
    const lock = VirtualLock.create({ lockKey: key });
    const pin = pinOf(daily(S));
    assert.equal(lock.enterPin(pin, T0).accepted, true);
    assert.deepEqual(lock.deletePin(pin), {
      revoked: true,
      recognized: true,
      untilMs: (S + 30 * 24) * HOUR_MS + 15 * 60_000,
    });
    assert.equal(lock.activatedCodes.length, 0);
    assert.equal(lock.enterPin(pin, T0 + HOUR_MS).reason_code, 'blocklisted_code');
    const other = pinOf(daily(S, 31));
    assert.equal(lock.deletePin(other).untilMs, null);
    assert.equal(VirtualLock.restore(lock.serialize()).revokedPins[1]?.revokedAtMs, null);
  });
});
