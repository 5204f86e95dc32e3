import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { testDialects } from '../helpers/databases.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';
import {
  advanceClock,
  asClient,
  assertRefused,
  assertSeamError,
  createOffline,
  createRaw,
  DAY,
  HOUR,
  iso,
  listCodes,
  nearbyFreeSlots,
  refusedWithoutTrace,
  seedIso,
  simulateLock,
  T0,
  timeFrame,
} from './access-codes.helpers.ts';

// Contract §4's limit table, row by row, both sides of each boundary, over raw HTTP (the error classes of the
// official SDKs are in access-codes.sdk.test.ts). Every refusal is checked to store nothing: the device's
// codes, the workspace's events and the device's action attempts are the same before and after.

/** `n` days after 2030-01-07 (T0's day), at hh:mm UTC. */
const day = (n: number, h = 0, m = 0) => Date.UTC(2030, 0, 7 + n, h, m);

for (const dialect of testDialects()) {
  describe(`offline access codes: the igloohome limits (${dialect.name})`, () => {
    let server: TestServer;
    let frontId: string;
    before(async () => {
      server = await startTestServer(dialect);
      server.clock.now = T0;
      frontId = server.sandbox.devices[0]?.device_id ?? '';
    });
    after(() => server.close());

    it('refuses a custom code on an offline code with 400 cannot_specify_offline_code (also via the deprecated alias)', async () => {
      const lock = await simulateLock(server, 'Custom code');
      const body = timeFrame(lock, day(1, 10), 2 * HOUR);
      await assertRefused(server, { ...body, code: '1234567890' }, 400, 'cannot_specify_offline_code');
      const { is_offline_access_code: _, ...aliased } = body;
      await assertRefused(
        server,
        { ...aliased, use_offline_access_code: true, code: '123456' },
        400,
        'cannot_specify_offline_code',
      );
      const code = await createOffline(server, { ...aliased, use_offline_access_code: true });
      assert.equal(code.is_offline_access_code, true);
      assert.match(code.code ?? '', /^\d{10}$/);
    });

    it('accepts hourly-bound codes of 1 h and of 672 h; the 24-hour activation warning starts above 24 h', async () => {
      const lock = await simulateLock(server, 'Hourly range');
      const start = day(2, 10);
      for (const [i, [hours, warned]] of (
        [
          [1, false],
          [24, false],
          [25, true],
          [672, true],
        ] as const
      ).entries()) {
        const from = start + i * HOUR;
        const code = await createOffline(server, timeFrame(lock, from, hours * HOUR));
        assert.equal(code.type, 'time_bound');
        assert.equal(code.is_one_time_use, false);
        assert.equal(code.starts_at, iso(from));
        assert.equal(code.ends_at, iso(from + hours * HOUR), `${hours} h`);
        assert.match(code.code ?? '', /^\d{10}$/);
        assert.deepEqual(
          code.warnings.map((w) => w.warning_code),
          warned ? ['igloo_algopin_must_be_used_within_24_hours'] : [],
          `${hours} h`,
        );
      }
    });

    it('makes 673 h a 29-day daily-bound code: refused with the default rounding (the end moves 23 h), accepted with 1d', async () => {
      const lock = await simulateLock(server, 'Hourly to daily');
      const start = day(3, 10);
      const body = timeFrame(lock, start, 673 * HOUR);
      for (const setting of [undefined, '1hour', '1h']) {
        const error = await assertRefused(
          server,
          { ...body, max_time_rounding: setting },
          400,
          'max_time_rounding_exceeded',
        );
        assert.match(error.message, /23 h/, 'names the shift');
        assert.match(error.message, /"1d"/, 'names the setting that allows it');
        assert.equal(error.data?.rounding_ms, 23 * HOUR);
      }
      for (const setting of ['1d', '1day']) {
        const code = await createOffline(server, { ...body, max_time_rounding: setting });
        assert.equal(code.starts_at, iso(start));
        assert.equal(code.ends_at, iso(start + 29 * DAY), 'moved to a whole number of days');
        assert.match(code.code ?? '', /^\d{10}$/);
      }
      // 695 h is also 29 days, but the end moves exactly 1 h: the default setting allows that.
      const near = await createOffline(server, timeFrame(lock, start + HOUR, 695 * HOUR));
      assert.equal(near.ends_at, iso(start + HOUR + 29 * DAY));
    });

    it('accepts daily-bound codes of 29 and 367 days, and refuses 368 days with 400 time_frame_out_of_range', async () => {
      const lock = await simulateLock(server, 'Daily range');
      const start = day(4, 8);
      const d29 = await createOffline(server, timeFrame(lock, start, 29 * DAY));
      assert.equal(d29.ends_at, iso(start + 29 * DAY));
      const d367 = await createOffline(server, timeFrame(lock, start + DAY, 367 * DAY));
      assert.equal(d367.starts_at, iso(start + DAY));
      assert.equal(d367.ends_at, iso(start + DAY + 367 * DAY));
      for (const code of [d29, d367]) {
        assert.equal(code.type, 'time_bound');
        assert.match(code.code ?? '', /^\d{10}$/);
        assert.deepEqual(
          code.warnings.map((w) => w.warning_code),
          ['igloo_algopin_must_be_used_within_24_hours'],
        );
      }
      for (const ms of [368 * DAY, 367 * DAY + HOUR, 400 * DAY]) {
        const error = await assertRefused(
          server,
          timeFrame(lock, start + 2 * DAY, ms, { max_time_rounding: '1d' }),
          400,
          'time_frame_out_of_range',
        );
        assert.match(error.message, /672/, 'names the allowed ranges');
        assert.match(error.message, /367/);
      }
    });

    it('takes 3 hourly-bound codes per start hour; the 4th is 409 offline_code_slot_full naming free starts, and the first one works', async () => {
      const lock = await simulateLock(server, 'Hourly slot');
      const start = day(1, 14);
      // Same start hour, different minutes and lengths: one slot.
      await createOffline(server, timeFrame(lock, start, 2 * HOUR));
      await createOffline(server, timeFrame(lock, start + 20 * 60_000, 100 * 60_000));
      await createOffline(server, timeFrame(lock, start, 5 * HOUR));
      const fourth = timeFrame(lock, start, 2 * HOUR);
      const error = await assertRefused(server, fourth, 409, 'offline_code_slot_full');
      const free = nearbyFreeSlots(error);
      assert.ok(free.length > 0, JSON.stringify(error.data));
      assert.deepEqual(free[0], { starts_at: iso(start + HOUR), free_variances: 3 });
      assert.ok(free.every((f) => f.free_variances > 0 && f.starts_at !== iso(start)));
      assert.ok(
        free.some((f) => f.starts_at === iso(start - HOUR)),
        'earlier starts are offered too',
      );

      // Retry at the first suggested start, with ends_at moved by the same amount.
      const moved = Date.parse(free[0]?.starts_at ?? '') - start;
      const retried = await createOffline(server, timeFrame(lock, start + moved, 2 * HOUR));
      assert.equal(retried.starts_at, iso(start + HOUR));
      // The suggestion counts what is taken now.
      const again = await assertRefused(server, fourth, 409, 'offline_code_slot_full');
      assert.deepEqual(nearbyFreeSlots(again)[0], {
        starts_at: iso(start + HOUR),
        free_variances: 2,
      });
      // Slots are per device.
      const other = await simulateLock(server, 'Hourly slot, other lock');
      await createOffline(server, timeFrame(other, start, 2 * HOUR));
    });

    it('takes 3 daily-bound codes per calendar day in the lock’s time zone (Asia/Tokyo), not per UTC day', async () => {
      const tokyo = await simulateLock(server, 'Tokyo', { time_zone: 'Asia/Tokyo' });
      const device = await call(server, '/devices/get', { body: { device_id: tokyo } });
      assert.equal(device.json.device.location.time_zone, 'Asia/Tokyo');
      const utc = await simulateLock(server, 'UTC');
      const daily = (device_id: string, start: number) => timeFrame(device_id, start, 29 * DAY);
      // Tokyo is UTC+9: its days begin at 15:00 UTC.
      const a = Date.UTC(2030, 0, 31, 16); // UTC Jan 31, Tokyo Feb 1 01:00
      const b = Date.UTC(2030, 1, 1, 2); //   UTC Feb 1,  Tokyo Feb 1 11:00
      const c = Date.UTC(2030, 1, 1, 14); //  UTC Feb 1,  Tokyo Feb 1 23:00
      const e = Date.UTC(2030, 0, 31, 20); // UTC Jan 31, Tokyo Feb 1 05:00
      const f = Date.UTC(2030, 1, 1, 15); //  UTC Feb 1,  Tokyo Feb 2 00:00
      const g = Date.UTC(2030, 1, 1, 23); //  UTC Feb 1,  Tokyo Feb 2 08:00

      for (const start of [a, b, c]) await createOffline(server, daily(tokyo, start));
      // Another UTC day, but the same Tokyo day as a, b and c: the slot is full.
      const error = await assertRefused(server, daily(tokyo, e), 409, 'offline_code_slot_full');
      assert.equal(error.data?.kind, 'daily');
      assert.deepEqual(nearbyFreeSlots(error).slice(0, 2), [
        { starts_at: iso(e + DAY), free_variances: 3 },
        { starts_at: iso(e - DAY), free_variances: 3 },
      ]);
      // The same UTC day as b and c, but the next Tokyo day: a slot of its own.
      await createOffline(server, daily(tokyo, f));
      await createOffline(server, daily(tokyo, g));

      // On a UTC lock the same starts fall on other days: a and e share Jan 31; b, c and f share Feb 1.
      for (const start of [a, b, c, e, f]) await createOffline(server, daily(utc, start));
      await assertRefused(server, daily(utc, g), 409, 'offline_code_slot_full');
    });

    it('takes 5 one-time-use codes per start hour (24 h, 8 digits); the 6th is 409 offline_code_slot_full', async () => {
      const lock = await simulateLock(server, 'One-time slot');
      const start = day(1, 18);
      const pins = new Set<string>();
      for (let i = 0; i < 5; i++) {
        const code = await createOffline(server, {
          device_id: lock,
          is_one_time_use: true,
          starts_at: seedIso(start + i * 10 * 60_000),
        });
        assert.equal(code.type, 'time_bound');
        assert.equal(code.is_one_time_use, true);
        assert.equal(code.starts_at, iso(start));
        assert.equal(code.ends_at, iso(start + 24 * HOUR));
        assert.match(code.code ?? '', /^\d{8}$/);
        assert.deepEqual(code.warnings, []);
        pins.add(code.code ?? '');
      }
      assert.equal(pins.size, 5, 'five distinct PINs');
      const error = await assertRefused(
        server,
        { device_id: lock, is_offline_access_code: true, is_one_time_use: true, starts_at: seedIso(start) },
        409,
        'offline_code_slot_full',
      );
      assert.equal(error.data?.kind, 'one_time');
      assert.deepEqual(nearbyFreeSlots(error)[0], {
        starts_at: iso(start + HOUR),
        free_variances: 5,
      });
      // Kinds have slots of their own: an hourly-bound code at the same hour still fits.
      await createOffline(server, timeFrame(lock, start, 24 * HOUR));
    });

    it('one-time-use: needs starts_at; ends_at, if given, must be the start + 24 h', async () => {
      const lock = await simulateLock(server, 'One-time frame');
      const start = day(2, 18, 20);
      const oneTime = { device_id: lock, is_offline_access_code: true, is_one_time_use: true };
      // ends_at 24 h after the raw start, or after the rounded start, says the same thing.
      for (const ends of [start + 24 * HOUR, day(3, 18)]) {
        const code = await createOffline(server, {
          ...oneTime,
          starts_at: seedIso(start),
          ends_at: seedIso(ends),
        });
        assert.equal(code.starts_at, iso(day(2, 18)));
        assert.equal(code.ends_at, iso(day(3, 18)));
      }
      for (const ends of [start + 25 * HOUR, start + 12 * HOUR]) {
        await assertRefused(
          server,
          { ...oneTime, starts_at: seedIso(start), ends_at: seedIso(ends) },
          400,
          'time_frame_out_of_range',
        );
      }
      await assertRefused(server, { ...oneTime, ends_at: seedIso(start) }, 400, 'invalid_input');
      await assertRefused(server, oneTime, 400, 'invalid_input');
    });

    it('takes 3 permanent codes per start hour (the current one), then 409; an hour later there is room again', async () => {
      // A workspace of its own: this test moves its clock.
      const ws = await server.createOtherWorkspace();
      const client = asClient(server, ws.api_key);
      const lock = ws.devices[0]?.device_id ?? '';
      const hour = Math.floor(T0 / HOUR) * HOUR;
      const pins = new Set<string>();
      for (let i = 0; i < 3; i++) {
        const code = await createOffline(client, { device_id: lock, name: `Permanent ${i}` });
        assert.equal(code.type, 'ongoing');
        assert.equal(code.is_one_time_use, false);
        assert.equal(code.starts_at, iso(hour));
        assert.equal(code.ends_at, null);
        assert.equal(code.status, 'set');
        assert.match(code.code ?? '', /^\d{9}$/);
        assert.deepEqual(
          code.warnings.map((w) => w.warning_code),
          ['igloo_algopin_must_be_used_within_24_hours'],
        );
        pins.add(code.code ?? '');
      }
      assert.equal(pins.size, 3);
      const error = await assertRefused(
        client,
        { device_id: lock, is_offline_access_code: true },
        409,
        'offline_code_slot_full',
      );
      const free = nearbyFreeSlots(error);
      assert.equal(free[0]?.starts_at, iso(hour + HOUR));
      assert.ok(
        free.every((f) => Date.parse(f.starts_at) > hour),
        'permanent codes start now: only later hours',
      );
      await advanceClock(client, 'PT1H');
      const later = await createOffline(client, { device_id: lock });
      assert.equal(later.starts_at, iso(hour + HOUR));
    });

    it('takes the 199th live code on a lock and refuses the 200th with 409 max_access_codes_reached', async () => {
      const lock = await simulateLock(server, 'Full lock');
      const start = day(20);
      // 198 one-hour codes, one per start hour, ten requests at a time.
      for (let batch = 0; batch < 198; batch += 10) {
        await Promise.all(
          Array.from({ length: Math.min(10, 198 - batch) }, async (_, j) => {
            const r = await call(server, '/access_codes/create', {
              body: timeFrame(lock, start + (batch + j) * HOUR, HOUR),
            });
            assert.equal(r.status, 200, r.text);
          }),
        );
      }
      assert.equal((await listCodes(server, lock)).length, 198);
      const last = await createOffline(server, timeFrame(lock, start + 198 * HOUR, HOUR));
      assert.equal(last.starts_at, iso(start + 198 * HOUR));
      assert.equal((await listCodes(server, lock)).length, 199);

      for (const body of [
        timeFrame(lock, start + 199 * HOUR, HOUR),
        { device_id: lock, is_offline_access_code: true },
        { device_id: lock, is_offline_access_code: true, is_one_time_use: true, starts_at: seedIso(day(30)) },
        timeFrame(lock, day(40), 30 * DAY),
      ]) {
        const error = await assertRefused(server, body, 409, 'max_access_codes_reached');
        assert.deepEqual(error.data, { active_access_code_count: 199, max_active_access_code_count: 199 });
      }
      // The cap is per lock.
      await createOffline(server, timeFrame(frontId, start + 199 * HOUR, HOUR));
    });

    it('refuses an ends_at not in the future, or not after starts_at, with 400 invalid_input', async () => {
      const lock = await simulateLock(server, 'Bad ends');
      for (const [starts, ends] of [
        [day(1, 12), day(1, 11)], // before starts_at
        [day(1, 12), day(1, 12)], // equal to starts_at
        [T0 - 3 * HOUR, T0 - HOUR], // in the past
        [T0 - 2 * HOUR, T0], // exactly now
        [T0 - 2 * DAY, T0 - DAY], // long gone
      ]) {
        await assertRefused(
          server,
          {
            device_id: lock,
            is_offline_access_code: true,
            starts_at: iso(starts ?? 0),
            ends_at: iso(ends ?? 0),
          },
          400,
          'invalid_input',
        );
      }
      // A minute in the future is enough: 09:00–09:31 becomes the running hour 09:00–10:00, set at once.
      const code = await createOffline(server, timeFrame(lock, T0 - 30 * 60_000, 31 * 60_000));
      assert.equal(code.starts_at, iso(T0 - 30 * 60_000));
      assert.equal(code.ends_at, iso(T0 + 30 * 60_000));
      assert.equal(code.status, 'set');
    });

    it('refuses only one of starts_at/ends_at with 400 time_frame_out_of_range', async () => {
      const lock = await simulateLock(server, 'One end');
      for (const half of [{ starts_at: seedIso(day(1, 10)) }, { ends_at: seedIso(day(1, 12)) }]) {
        const error = await assertRefused(
          server,
          { device_id: lock, is_offline_access_code: true, ...half },
          400,
          'time_frame_out_of_range',
        );
        assert.match(error.message, /permanent/);
      }
    });

    it('refuses /access_codes/update on an offline code (POST, PATCH, PUT) with 400 cannot_update_offline_access_code', async () => {
      const lock = await simulateLock(server, 'No update');
      const code = await createOffline(server, timeFrame(lock, day(1, 10), 3 * HOUR, { name: 'Guest' }));
      for (const method of ['POST', 'PATCH', 'PUT']) {
        for (const change of [
          { name: 'Renamed' },
          { starts_at: seedIso(day(2, 10)), ends_at: seedIso(day(2, 12)) },
          { code: '1234' },
          { is_offline_access_code: false },
        ]) {
          const r = await refusedWithoutTrace(server, lock, () =>
            call(server, '/access_codes/update', {
              method,
              body: { access_code_id: code.access_code_id, ...change },
            }),
          );
          assertSeamError(r, 400, 'cannot_update_offline_access_code');
        }
      }
      const after = await call(server, '/access_codes/get', {
        body: { access_code_id: code.access_code_id },
      });
      assert.deepEqual(after.json.access_code, code);
    });

    it('refuses /access_codes/delete on an offline code (POST, DELETE) with 400 cannot_delete_offline_access_code; the code stays', async () => {
      const lock = await simulateLock(server, 'No delete');
      const code = await createOffline(server, timeFrame(lock, day(1, 10), 3 * HOUR));
      const requests = [
        () => call(server, '/access_codes/delete', { body: { access_code_id: code.access_code_id } }),
        () =>
          call(server, `/access_codes/delete?access_code_id=${code.access_code_id}&_strict=true`, {
            method: 'DELETE',
          }),
        () =>
          call(server, '/access_codes/delete', {
            body: { access_code_id: code.access_code_id, device_id: lock, sync: true },
          }),
      ];
      for (const request of requests) {
        const error = assertSeamError(
          await refusedWithoutTrace(server, lock, request),
          400,
          'cannot_delete_offline_access_code',
        );
        assert.match(error.message, /Bluetooth/);
      }
      const still = await call(server, '/access_codes/get', {
        body: { access_code_id: code.access_code_id },
      });
      assert.equal(still.status, 200);
      assert.deepEqual(still.json.access_code, code);
    });

    it('refuses an online code on Front Door (no bridge) with 400 online_access_codes_not_supported', async () => {
      for (const body of [
        { device_id: frontId, name: 'Online', starts_at: seedIso(day(1, 10)), ends_at: seedIso(day(1, 12)) },
        { device_id: frontId, code: '4321', is_offline_access_code: false },
        { device_id: frontId },
      ]) {
        await assertRefused(server, body, 400, 'online_access_codes_not_supported');
      }
    });

    it('answers an unknown or another workspace’s device with 404 device_not_found, storing nothing', async () => {
      const other = await server.createOtherWorkspace();
      const theirs = other.devices[0]?.device_id ?? '';
      const before = await listCodes(asClient(server, other.api_key), theirs);
      for (const device_id of [randomUUID(), theirs]) {
        const r = await createRaw(server, timeFrame(device_id, day(1, 10), HOUR));
        assertSeamError(r, 404, 'device_not_found');
      }
      assert.deepEqual(await listCodes(asClient(server, other.api_key), theirs), before);
    });
  });
}
