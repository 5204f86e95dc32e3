import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { derivePin, derivePinKey, type PinParams } from '../../src/algopin/index.ts';
import { bootstrap } from '../../src/app/bootstrap.ts';
import { createServices } from '../../src/app/serve.ts';
import { BuiltinCodeProvider, openLockKey } from '../../src/codeserver/builtin.ts';
import { seal } from '../../src/codeserver/sealed-box.ts';
import type { DeviceRecord } from '../../src/domain/records.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { type TestDatabase, testDialects } from '../helpers/databases.ts';

// The built-in code server keeps PIN keys derived from unsealed lock keys in memory (unsealing and HKDF were a
// tenth of a create). Its PINs must be exactly those of the lock's key, whatever it has cached.

const HOUR = 3_600_000;
const params: PinParams = { kind: 'hourly', startHour: 500_000, variance: 1, durationHours: 3 };

for (const dialect of testDialects()) {
  describe(`built-in code server (${dialect.name})`, () => {
    let database: TestDatabase;
    let store: Store;
    const masterKey = randomBytes(32);
    let front: DeviceRecord;
    let back: DeviceRecord;
    before(async () => {
      database = await dialect.create();
      store = await openStore(database.url);
      const { services } = createServices(store, masterKey, pino({ level: 'silent' }));
      const outcome = await bootstrap(services, { now: HOUR });
      if (!outcome.created) throw new Error('not a fresh database');
      [front, back] = outcome.seeded.devices as [DeviceRecord, DeviceRecord];
    });
    after(async () => {
      await store.close();
      await database.drop();
    });

    it('issues the PIN of the lock’s own key, first and every later time', async () => {
      const codes = new BuiltinCodeProvider(masterKey);
      const device = front;
      const lockKey = (await openLockKey(store.db, masterKey, device)) as Buffer;
      const expected = derivePin(derivePinKey(lockKey, 0), params);
      assert.equal(await codes.issueOfflinePin(store.db, device, params), expected);
      assert.equal(await codes.issueOfflinePin(store.db, device, params), expected);
      assert.equal(
        await codes.issueOfflinePin(store.db, device, { ...params, variance: 2 }),
        derivePin(derivePinKey(lockKey, 0), { ...params, variance: 2 }),
      );
    });

    it('follows a new epoch and a replaced sealed key rather than its cached PIN key', async () => {
      const codes = new BuiltinCodeProvider(masterKey);
      const device = back;
      const first = (await openLockKey(store.db, masterKey, device)) as Buffer;
      assert.equal(
        await codes.issueOfflinePin(store.db, device, params),
        derivePin(derivePinKey(first, 0), params),
      );

      const rotated = { ...back, key_epoch: 1 };
      const second = await codes.pairLock(store.db, rotated, 2 * HOUR);
      assert.equal(
        await codes.issueOfflinePin(store.db, rotated, params),
        derivePin(derivePinKey(second, 1), params),
      );

      // The stored key of epoch 0 replaced behind the cache's back (e.g. restored from another backup).
      const replacement = randomBytes(32);
      await store.db
        .updateTable('lock_keys')
        .set({ sealed_key: seal(masterKey, replacement, `lock_key|${back.device_id}|0`) })
        .where('device_id', '=', back.device_id)
        .where('epoch', '=', 0)
        .execute();
      assert.equal(
        await codes.issueOfflinePin(store.db, device, params),
        derivePin(derivePinKey(replacement, 0), params),
      );
    });

    it('refuses a lock without a key for its epoch', async () => {
      const codes = new BuiltinCodeProvider(masterKey);
      await assert.rejects(
        () => codes.issueOfflinePin(store.db, { ...front, key_epoch: 7 }, params),
        /has no key/,
      );
    });
  });
}
