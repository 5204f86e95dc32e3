import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testDialects } from '../helpers/databases.ts';
import { assertSeamShape } from '../helpers/seam-schemas.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';
import {
  advanceClock,
  assertRefused,
  assertSeamError,
  createOffline,
  DAY,
  HOUR,
  iso,
  listCodes,
  refusedWithoutTrace,
  type SeamAccessCode,
  T0,
  timeFrame,
} from './access-codes.helpers.ts';
import {
  bridgeLock,
  codeEvents,
  createOnline,
  getCode,
  liveCode,
  opens,
  ownSandbox,
  refused,
  setBridge,
  typesOf,
} from './online-codes.helpers.ts';

// The keypad with online codes, the synced access log of a bridge lock (issue 5 §4, §5), and the 199-PIN
// budget that online and offline codes share (contract §4 "Limits", §6). Raw HTTP; the job runner is not
// started, so tests run bridge jobs with runDueJobs. Tests that type PINs or move the clock have a sandbox
// workspace of their own.

const MIN = 60_000;
const MAX = { active_access_code_count: 199, max_active_access_code_count: 199 };

for (const dialect of testDialects()) {
  describe(`online codes on the keypad, and the shared 199 cap (${dialect.name})`, () => {
    let server: TestServer;
    const runJobs = () => server.services.runDueJobs();
    before(async () => {
      server = await startTestServer(dialect);
      server.clock.now = T0;
    });
    after(() => server.close());

    it('opens for a programmed PIN with its access_code_id, and refuses wrong 4–6 digit PINs as unknown_code', async () => {
      const { client, back } = await ownSandbox(server);
      const other = await bridgeLock(client, 'Side Door');
      const { access_code: four } = await createOnline(client, { device_id: back, code: '4711' });
      const { access_code: six } = await createOnline(client, { device_id: back, code: '987654' });
      await createOnline(client, { device_id: other, code: '2580' });
      await runJobs();

      for (const code of [four, six]) {
        const event = await opens(client, back, code.code ?? '');
        assertSeamShape('event', event);
        assert.equal(event.access_code_id, code.access_code_id);
        assert.equal(event.access_code_is_managed, true);
        assert.equal(event.device_id, back);
        assert.equal(event.occurred_at, iso(T0));
      }
      for (const [pin, why] of [
        ['4712', 'one digit off'],
        ['98765', 'a prefix of a programmed PIN'],
        ['2580', 'programmed on another lock'],
      ]) {
        const event = await refused(client, back, pin ?? '', 'unknown_code', why);
        assert.equal(event.access_code_id, undefined, `${why}: no code to name`);
        assert.equal(typeof event.reason.message, 'string');
      }
      await opens(client, back, '4711', 'still, after three wrong PINs');
      await opens(client, other, '2580', 'on its own lock');
    });

    it('reports a one-time offline code used on Back Door (bridge on-line) as removed at once', async () => {
      const { client, back } = await ownSandbox(server);
      const start = T0 - 30 * MIN; // 09:00, the current hour
      const code = await createOffline(client, {
        device_id: back,
        is_one_time_use: true,
        starts_at: iso(start),
      });
      assert.equal(code.is_one_time_use, true);
      assert.equal(code.status, 'set');
      const before = typesOf(await codeEvents(client, code.access_code_id));
      assert.ok(!before.includes('access_code.deleted'));

      const unlocked = await opens(client, back, code.code ?? '', 'its one use');
      assert.equal(unlocked.access_code_id, code.access_code_id);
      assertSeamError(await getCode(client, code.access_code_id), 404, 'access_code_not_found');
      assert.deepEqual(await listCodes(client, back), []);
      const events = await codeEvents(client, code.access_code_id);
      assert.deepEqual(typesOf(events), [
        ...before,
        'access_code.removed_from_device',
        'access_code.deleted',
      ]);
      for (const e of events.slice(-2)) assert.equal(e.occurred_at, iso(T0), e.event_type);
      assert.equal(events.at(-1).code, code.code);
      const again = await call(client, '/locks/simulate/keypad_code_entry', {
        body: { device_id: back, code: code.code },
      });
      assert.equal(again.json.action_attempt.result.accepted, false, 'used once');
      await advanceClock(client, 'P2D');
      assert.deepEqual(
        typesOf(await codeEvents(client, code.access_code_id)),
        typesOf(events),
        'its end adds nothing: it is gone already',
      );
    });

    it('keeps a used one-time code listed until its end on Front Door (no bridge) and on Back Door off-line', async () => {
      const { client, front, back } = await ownSandbox(server);
      const start = T0 - 30 * MIN;
      await setBridge(client, back, false);
      const codes: SeamAccessCode[] = [];
      for (const device_id of [front, back]) {
        const code = await createOffline(client, { device_id, is_one_time_use: true, starts_at: iso(start) });
        const unlocked = await opens(client, device_id, code.code ?? '', 'its one use');
        assert.equal(unlocked.access_code_id, code.access_code_id, 'the keypad event names the code');
        const still = await liveCode(client, code.access_code_id);
        assert.equal(still.status, 'set', 'no synced access log: the server does not know it was used');
        assert.ok(!typesOf(await codeEvents(client, code.access_code_id)).includes('access_code.deleted'));
        await refused(client, device_id, code.code ?? '', 'expired_code', 'the lock remembers the use');
        codes.push(code);
      }
      // Until its end, 24 hours after its start.
      await advanceClock(client, 'PT23H29M');
      for (const code of codes) assert.equal((await liveCode(client, code.access_code_id)).status, 'set');
      await advanceClock(client, 'PT2M');
      for (const code of codes) {
        assertSeamError(await getCode(client, code.access_code_id), 404, 'access_code_not_found');
        const events = await codeEvents(client, code.access_code_id);
        assert.deepEqual(typesOf(events).slice(-2), [
          'access_code.removed_from_device',
          'access_code.deleted',
        ]);
        assert.equal(events.at(-1).occurred_at, iso(start + DAY));
      }
    });

    it('shares the 199 cap: 190 offline and 9 online codes fill a lock, and the next of either kind is 409', async () => {
      const lock = await bridgeLock(server, 'Full bridge lock');
      const neighbour = await bridgeLock(server, 'Neighbour');
      const first = Date.UTC(2030, 0, 20);
      // 190 one-hour algoPINs, one per start hour, then 9 online codes; ten requests at a time.
      const requests = [
        ...Array.from({ length: 190 }, (_, i) => timeFrame(lock, first + i * HOUR, HOUR)),
        ...Array.from({ length: 9 }, (_, i) => ({ device_id: lock, code: String(5100 + i) })),
      ];
      for (let batch = 0; batch < requests.length; batch += 10) {
        await Promise.all(
          requests.slice(batch, batch + 10).map(async (body) => {
            const r = await call(server, '/access_codes/create', { body });
            assert.equal(r.status, 200, r.text);
          }),
        );
      }
      await runJobs();
      const codes = await listCodes(server, lock);
      assert.equal(codes.length, 199);
      assert.equal(codes.filter((c) => c.is_offline_access_code).length, 190);
      const online = codes.filter((c) => !c.is_offline_access_code);
      assert.deepEqual(
        online.map((c) => c.status),
        Array(9).fill('set'),
      );
      await opens(server, lock, '5108', 'the 199th code is on the lock');

      const refusedBodies = [
        { device_id: lock, code: '6000' },
        { device_id: lock },
        { device_id: lock, code: '6001', starts_at: iso(T0 + DAY), ends_at: iso(T0 + 2 * DAY) },
        { device_id: lock, common_code_key: 'full' },
        timeFrame(lock, first + 190 * HOUR, HOUR),
        { device_id: lock, is_offline_access_code: true },
        {
          device_id: lock,
          is_offline_access_code: true,
          is_one_time_use: true,
          starts_at: iso(T0 + 2 * DAY),
        },
      ];
      for (const body of refusedBodies) {
        const error = await assertRefused(server, body, 409, 'max_access_codes_reached');
        assert.deepEqual(error.data, MAX);
      }
      // create_multiple over the full lock and a free one: refused as a whole.
      const multiple = await refusedWithoutTrace(server, neighbour, () =>
        refusedWithoutTrace(server, lock, () =>
          call(server, '/access_codes/create_multiple', {
            method: 'PUT',
            body: { device_ids: [neighbour, lock], code: '6002' },
          }),
        ),
      );
      assertSeamError(multiple, 409, 'max_access_codes_reached');

      // A deleted online code counts until the bridge has removed it; then its place is free.
      const doomed = online[0] as SeamAccessCode;
      const del = await call(server, '/access_codes/delete', {
        body: { access_code_id: doomed.access_code_id },
      });
      assert.equal(del.status, 200, del.text);
      assert.equal((await liveCode(server, doomed.access_code_id)).status, 'removing');
      await assertRefused(server, { device_id: lock, code: '6003' }, 409, 'max_access_codes_reached');
      await runJobs();
      assert.equal((await listCodes(server, lock)).length, 198);
      const { access_code: last } = await createOnline(server, { device_id: lock, code: '6004' });
      assert.equal(last.status, 'setting');
      const error = await assertRefused(
        server,
        timeFrame(lock, first + 190 * HOUR, HOUR),
        409,
        'max_access_codes_reached',
      );
      assert.deepEqual(error.data, MAX);
      // The cap is per lock.
      await createOnline(server, { device_id: neighbour, code: '6000' });
    });
  });
}
