import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testDialects } from '../helpers/databases.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';
import {
  assertRefused,
  createOffline,
  DAY,
  HOUR,
  iso,
  seedIso,
  simulateLock,
  T0,
  timeFrame,
} from './access-codes.helpers.ts';

// Contract §4 "Rounding" (max_time_rounding 1hour | 1h | 1day | 1d, the response carries what the lock
// enforces), request offsets, and the PINs themselves (distinct per variance, lengths per kind).

const MIN = 60_000;
/** `n` days after 2030-01-07 (T0's day), at hh:mm UTC. */
const day = (n: number, h = 0, m = 0) => Date.UTC(2030, 0, 7 + n, h, m);

for (const dialect of testDialects()) {
  describe(`offline access codes: rounding and PINs (${dialect.name})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dialect);
      server.clock.now = T0;
    });
    after(() => server.close());

    it('floors starts_at to its hour and ceils ends_at (10:20–15:40 → 10:00–16:00) with every setting', async () => {
      const lock = await simulateLock(server, 'Rounding');
      for (const [i, setting] of [undefined, '1hour', '1h', '1day', '1d'].entries()) {
        const code = await createOffline(server, {
          ...timeFrame(lock, day(1 + i, 10, 20), 5 * HOUR + 20 * MIN),
          max_time_rounding: setting,
        });
        assert.equal(code.starts_at, iso(day(1 + i, 10)), String(setting));
        assert.equal(code.ends_at, iso(day(1 + i, 16)), String(setting));
        // What is stored (and what get answers) is the rounded window too.
        const got = await call(server, '/access_codes/get', {
          body: { access_code_id: code.access_code_id },
        });
        assert.deepEqual(got.json.access_code, code);
      }
    });

    it('refuses a daily-bound code whose end time of day differs by more than an hour (400 max_time_rounding_exceeded) unless 1day/1d', async () => {
      const lock = await simulateLock(server, 'Daily rounding');
      const start = day(2, 10);
      // 32 days less 3 hours: the lock can only end it at 10:00, 3 hours later.
      const body = timeFrame(lock, start, 32 * DAY - 3 * HOUR);
      for (const setting of [undefined, '1hour', '1h']) {
        const error = await assertRefused(
          server,
          { ...body, max_time_rounding: setting },
          400,
          'max_time_rounding_exceeded',
        );
        assert.match(error.message, /3 h/);
        assert.match(error.message, /ends_at/);
        assert.match(error.message, new RegExp(`"${setting ?? '1hour'}"`), 'names the setting in force');
        assert.equal(error.data?.ends_at, iso(start + 32 * DAY), 'says where the end would land');
      }
      for (const setting of ['1day', '1d']) {
        const code = await createOffline(server, { ...body, max_time_rounding: setting });
        assert.equal(code.starts_at, iso(start));
        assert.equal(code.ends_at, iso(start + 32 * DAY));
        assert.match(code.code ?? '', /^\d{10}$/);
      }
      // With both ends on the same time of day (the seed's rule for daily-bound codes) no setting is needed.
      const matching = await createOffline(server, timeFrame(lock, start + 3 * HOUR, 32 * DAY));
      assert.equal(matching.ends_at, iso(start + 3 * HOUR + 32 * DAY));
      // 1d allows a shift of up to a day, start included: 10:40 floors to 10:00 and the end follows.
      const both = await createOffline(server, {
        ...timeFrame(lock, day(40, 10, 40), 30 * DAY + 22 * HOUR),
        max_time_rounding: '1d',
      });
      assert.equal(both.starts_at, iso(day(40, 10)));
      assert.equal(both.ends_at, iso(day(71, 10)));
    });

    it('reads +05:30, -00:00 and Z offsets as the same instants and answers in UTC with milliseconds', async () => {
      const lock = await simulateLock(server, 'Offsets');
      const requests = [
        { starts_at: '2030-01-12T15:50:00+05:30', ends_at: '2030-01-12T21:10:00+05:30' },
        { starts_at: '2030-01-12T10:20:00-00:00', ends_at: '2030-01-12T15:40:00-00:00' },
        { starts_at: '2030-01-12T10:20:00.000Z', ends_at: '2030-01-12T15:40:00Z' },
      ];
      const pins = new Set<string>();
      for (const times of requests) {
        const code = await createOffline(server, { device_id: lock, is_offline_access_code: true, ...times });
        assert.equal(code.starts_at, '2030-01-12T10:00:00.000Z', JSON.stringify(times));
        assert.equal(code.ends_at, '2030-01-12T16:00:00.000Z', JSON.stringify(times));
        assert.equal(code.created_at, iso(T0));
        pins.add(code.code ?? '');
      }
      assert.equal(pins.size, 3, 'one slot, three variances');
      // An instant without an offset is ambiguous: refused.
      await assertRefused(
        server,
        {
          device_id: lock,
          is_offline_access_code: true,
          starts_at: '2030-01-13T10:00:00',
          ends_at: '2030-01-13T12:00:00',
        },
        400,
        'invalid_input',
      );
    });

    it('gives three codes in one hourly slot distinct PINs, and the same request in another slot another PIN', async () => {
      const lock = await simulateLock(server, 'Variance');
      const request = (start: number) => timeFrame(lock, start, 3 * HOUR);
      const inSlot = [];
      for (let i = 0; i < 3; i++) inSlot.push((await createOffline(server, request(day(1, 10)))).code);
      assert.equal(new Set(inSlot).size, 3, `distinct PINs: ${inSlot.join(', ')}`);
      const nextHour = (await createOffline(server, request(day(1, 11)))).code;
      const nextDay = (await createOffline(server, request(day(2, 10)))).code;
      for (const pin of [nextHour, nextDay]) assert.ok(!inSlot.includes(pin), `${pin} is new`);
      assert.notEqual(nextHour, nextDay);
      // Another lock has another key: the same request gives another PIN.
      const other = await simulateLock(server, 'Variance, other lock');
      const elsewhere = (await createOffline(server, timeFrame(other, day(1, 10), 3 * HOUR))).code;
      assert.ok(!inSlot.includes(elsewhere));
      // Different lengths in one start hour share the slot's variances, yet each PIN is its own.
      const lengths = [];
      for (const hours of [1, 2, 4]) {
        lengths.push((await createOffline(server, timeFrame(other, day(3, 10), hours * HOUR))).code);
      }
      assert.equal(new Set(lengths).size, 3);
    });

    it('issues PINs of the algoPIN lengths: hourly and daily 10 digits, one-time-use 8, permanent 9', async () => {
      const lock = await simulateLock(server, 'Lengths');
      const cases = [
        { kind: 'hourly', digits: 10, body: timeFrame(lock, day(1, 10), 2 * HOUR) },
        { kind: 'daily', digits: 10, body: timeFrame(lock, day(1, 10), 60 * DAY) },
        {
          kind: 'one-time',
          digits: 8,
          body: {
            device_id: lock,
            is_offline_access_code: true,
            is_one_time_use: true,
            starts_at: seedIso(day(1, 10)),
          },
        },
        { kind: 'permanent', digits: 9, body: { device_id: lock, is_offline_access_code: true } },
      ];
      for (const { kind, digits, body } of cases) {
        const code = await createOffline(server, body);
        assert.match(code.code ?? '', new RegExp(`^\\d{${digits}}$`), `${kind}: ${code.code}`);
        assert.equal(code.is_waiting_for_code_assignment, false);
      }
    });
  });
}
