import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { operateVirtualLock } from '../../src/app/virtual-locks.ts';
import { testDialects } from '../helpers/databases.ts';
import { assertSeamShape } from '../helpers/seam-schemas.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';
import {
  advanceClock,
  allEvents,
  assertSeamError,
  createOffline,
  HOUR,
  iso,
  listCodes,
  T0,
  timeFrame,
} from './access-codes.helpers.ts';
import {
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

// Online codes and the bridge over raw HTTP (contract §5, §6; issue 5): time-bound codes programmed at their
// start and removed at their end under advance_clock, and bridge outages (disconnect / connect) with the
// delay warnings and events, replayed in order on reconnection. The job runner is not started: bridge jobs
// run when advance_clock or connect runs them, or when a test calls runDueJobs. Each test has a sandbox
// workspace of its own (own clock at T0, own Back Door).

const MIN = 60_000;

for (const dialect of testDialects()) {
  describe(`online codes, the clock and the bridge (${dialect.name})`, () => {
    let server: TestServer;
    const runJobs = () => server.services.runDueJobs();
    /** The online PINs a virtual lock holds, from its stored memory. */
    const onLock = (device_id: string) =>
      server.store.db
        .transaction()
        .execute((tx) =>
          operateVirtualLock(server.services, tx, device_id, server.clock.now, (lock) => [
            ...lock.onlineCodes,
          ]),
        );
    before(async () => {
      server = await startTestServer(dialect);
      server.clock.now = T0;
    });
    after(() => server.close());

    it('keeps a time-bound code unset before its start, programs it at the start, removes it at the end', async () => {
      const { client, back } = await ownSandbox(server);
      const start = T0 + 2 * HOUR; // 11:30
      const end = start + 3 * HOUR;
      const { access_code: code } = await createOnline(client, {
        device_id: back,
        name: 'Afternoon',
        code: '7391',
        starts_at: iso(start),
        ends_at: iso(end),
      });
      assert.equal(code.type, 'time_bound');
      assert.equal(code.status, 'unset');
      assert.equal(code.starts_at, iso(start));
      assert.equal(code.ends_at, iso(end));
      await runJobs();
      assert.equal((await liveCode(client, code.access_code_id)).status, 'unset');
      await refused(client, back, '7391', 'unknown_code', 'before its start');

      assert.equal(await advanceClock(client, 'PT1H59M'), iso(start - MIN));
      assert.equal((await liveCode(client, code.access_code_id)).status, 'unset');
      await refused(client, back, '7391', 'unknown_code', 'a minute before its start');
      assert.deepEqual(typesOf(await codeEvents(client, code.access_code_id)), ['access_code.created']);

      assert.equal(await advanceClock(client, 'PT1M'), iso(start));
      const set = await liveCode(client, code.access_code_id);
      assert.equal(set.status, 'set');
      assert.equal(set.is_scheduled_on_device, true);
      const setEvents = await codeEvents(client, code.access_code_id);
      assert.deepEqual(typesOf(setEvents), ['access_code.created', 'access_code.set_on_device']);
      assert.equal(setEvents[1].occurred_at, iso(start));
      assert.equal(setEvents[1].code, '7391');
      const unlocked = await opens(client, back, '7391', 'at its start');
      assert.equal(unlocked.access_code_id, code.access_code_id);

      assert.equal(await advanceClock(client, 'PT2H59M'), iso(end - MIN));
      assert.equal((await liveCode(client, code.access_code_id)).status, 'set');
      await opens(client, back, '7391', 'a minute before its end');

      assert.equal(await advanceClock(client, 'PT1M'), iso(end));
      assertSeamError(await getCode(client, code.access_code_id), 404, 'access_code_not_found');
      assert.deepEqual(await listCodes(client, back), []);
      const events = await codeEvents(client, code.access_code_id);
      assert.deepEqual(typesOf(events), [
        'access_code.created',
        'access_code.set_on_device',
        'access_code.removed_from_device',
        'access_code.deleted',
      ]);
      for (const e of events.slice(2)) assert.equal(e.occurred_at, iso(end), e.event_type);
      assert.equal(events[3].code, '7391');
      await refused(client, back, '7391', 'unknown_code', 'after its end');
    });

    it('replays a whole skipped time frame in order, at its true instants, when the clock jumps past it', async () => {
      const { client, back } = await ownSandbox(server);
      const start = T0 + HOUR;
      const end = start + 2 * HOUR;
      const { access_code: code } = await createOnline(client, {
        device_id: back,
        code: '55123',
        starts_at: iso(start),
        ends_at: iso(end),
      });
      await advanceClock(client, 'P1D');
      assertSeamError(await getCode(client, code.access_code_id), 404, 'access_code_not_found');
      const events = await codeEvents(client, code.access_code_id);
      assert.deepEqual(
        events.map((e) => [e.event_type, e.occurred_at]),
        [
          ['access_code.created', iso(T0)],
          ['access_code.set_on_device', iso(start)],
          ['access_code.removed_from_device', iso(end)],
          ['access_code.deleted', iso(end)],
        ],
      );
      await refused(client, back, '55123');
    });

    it('reports the bridge off-line on disconnect and back on connect, with device events, once each', async () => {
      const { client, back, front } = await ownSandbox(server);
      const device = await setBridge(client, back, false);
      assert.equal(device.device_id, back);
      assert.equal(device.properties.online, false);
      const error = device.errors.find((e: { error_code: string }) => e.error_code === 'hub_disconnected');
      assert.ok(error, JSON.stringify(device.errors));
      assert.equal(error.is_device_error, true);
      const got = await call(client, '/devices/get', { body: { device_id: back } });
      assertSeamShape('device', got.json.device);
      assert.deepEqual(got.json.device, device);
      assert.deepEqual(await setBridge(client, back, false), device, 'a second disconnect changes nothing');

      const online = await setBridge(client, back, true);
      assert.equal(online.properties.online, true);
      assert.deepEqual(online.errors, []);
      assert.deepEqual(await setBridge(client, back, true), online);

      const events = await allEvents(client, { device_id: back });
      assert.deepEqual(typesOf(events), ['device.disconnected', 'device.connected']);
      assert.equal(events[0].error_code, 'hub_disconnected');
      assert.equal(events[0].device_id, back);
      assert.equal(events[1].device_id, back);

      // A lock without a bridge has none to take off-line or bring back.
      for (const path of ['/devices/simulate/disconnect', '/devices/simulate/connect']) {
        assertSeamError(await call(client, path, { body: { device_id: front } }), 400, 'invalid_input');
        assertSeamError(
          await call(client, path, { body: { device_id: randomUUID() } }),
          404,
          'device_not_found',
        );
        assertSeamError(await call(client, path, { body: {} }), 400, 'invalid_input');
      }
      const frontDevice = await call(client, '/devices/get', { body: { device_id: front } });
      assert.equal(frontDevice.json.device.properties.online, false);
      assert.deepEqual(frontDevice.json.device.errors, [], 'Front Door has no bridge to lose');
      assert.deepEqual(await allEvents(client, { device_id: front }), []);
    });

    it('parks 20 codes created during an outage and sets them all, in creation order, on reconnection', async () => {
      const { client, back } = await ownSandbox(server);
      // Before the outage: one programmed code, to delete while off-line.
      const { access_code: doomed } = await createOnline(client, { device_id: back, code: '9090' });
      await runJobs();
      assert.equal((await liveCode(client, doomed.access_code_id)).status, 'set');

      await setBridge(client, back, false);
      const pins = Array.from({ length: 20 }, (_, i) => String(4000 + i * 37));
      const created = [];
      for (const [i, code] of pins.entries()) {
        const { access_code } = await createOnline(client, { device_id: back, code, name: `Guest ${i}` });
        assert.equal(access_code.status, 'setting');
        created.push(access_code);
      }
      await runJobs();
      await runJobs(); // a parked job waits: a second pass adds nothing
      for (const c of created) {
        const parked = await liveCode(client, c.access_code_id);
        assert.equal(parked.status, 'setting', c.code ?? '');
        assert.deepEqual(
          parked.warnings.map((w) => w.warning_code),
          ['delay_in_setting_on_device'],
        );
        assert.deepEqual(typesOf(await codeEvents(client, c.access_code_id)), [
          'access_code.created',
          'access_code.delay_in_setting_on_device',
        ]);
      }
      const delays = await allEvents(client, { event_types: ['access_code.delay_in_setting_on_device'] });
      assert.deepEqual(
        delays.map((e) => e.access_code_id),
        created.map((c) => c.access_code_id),
      );
      assert.equal(delays[0].access_code_warnings[0].warning_code, 'delay_in_setting_on_device');
      assert.equal(delays[0].device_errors[0].error_code, 'hub_disconnected');
      await refused(client, back, pins[0] ?? '', 'unknown_code', 'not on the lock yet');

      // An offline algoPIN keeps working: the keypad decides alone.
      const algo = await createOffline(client, timeFrame(back, T0 - 30 * MIN, 2 * HOUR));
      assert.equal(algo.status, 'set');
      const unlocked = await opens(client, back, algo.code ?? '', 'an algoPIN during the outage');
      assert.equal(unlocked.access_code_id, algo.access_code_id);

      // A delete during the outage waits for the bridge; the PIN still opens meanwhile.
      await call(client, '/access_codes/delete', { body: { access_code_id: doomed.access_code_id } });
      await runJobs();
      const waiting = await liveCode(client, doomed.access_code_id);
      assert.equal(waiting.status, 'removing');
      assert.deepEqual(
        waiting.warnings.map((w) => w.warning_code),
        ['delay_in_removing_from_device'],
      );
      assert.deepEqual(typesOf(await codeEvents(client, doomed.access_code_id)), [
        'access_code.created',
        'access_code.set_on_device',
        'access_code.delay_in_removing_from_device',
      ]);
      await opens(client, back, '9090', 'the bridge has not removed it yet');

      // A code created and deleted during the outage never reaches the lock.
      const { access_code: fleeting } = await createOnline(client, { device_id: back, code: '3030' });
      await runJobs();
      const del = await call(client, '/access_codes/delete', {
        body: { access_code_id: fleeting.access_code_id },
      });
      assert.equal(del.status, 200, del.text);
      assertSeamShape('action_attempt', del.json.action_attempt);
      assertSeamError(await getCode(client, fleeting.access_code_id), 404, 'access_code_not_found');

      const connected = await setBridge(client, back, true);
      assert.equal(connected.properties.online, true);
      for (const c of created) {
        const set = await liveCode(client, c.access_code_id);
        assert.equal(set.status, 'set', c.code ?? '');
        assert.deepEqual(set.warnings, [], 'the delay warning is gone');
        assert.deepEqual(
          { ...set, status: 'setting', is_scheduled_on_device: false, warnings: [] },
          {
            ...c,
            warnings: [],
          },
        );
      }
      const sets = await allEvents(client, {
        event_types: ['access_code.set_on_device', 'device.connected'],
      });
      assert.deepEqual(
        sets.slice(-21).map((e) => e.access_code_id ?? e.event_type),
        ['device.connected', ...created.map((c) => c.access_code_id)],
        'device.connected, then every set_on_device in creation order',
      );
      assert.deepEqual(
        sets.slice(-20).map((e) => e.code),
        pins,
      );
      assertSeamError(await getCode(client, doomed.access_code_id), 404, 'access_code_not_found');
      assert.deepEqual(typesOf(await codeEvents(client, doomed.access_code_id)).slice(-2), [
        'access_code.removed_from_device',
        'access_code.deleted',
      ]);
      assert.deepEqual(typesOf(await codeEvents(client, fleeting.access_code_id)), [
        'access_code.created',
        'access_code.delay_in_setting_on_device',
        'access_code.deleted',
      ]);

      // Nothing lost, nothing extra: the 20 and the algoPIN, each PIN on the lock (or not) as it should be.
      assert.deepEqual(
        (await listCodes(client, back)).map((c) => c.access_code_id).sort(),
        [...created.map((c) => c.access_code_id), algo.access_code_id].sort(),
      );
      for (const pin of pins) await opens(client, back, pin, 'after reconnection');
      await refused(client, back, '9090', 'unknown_code', 'deleted during the outage');
      await refused(client, back, '3030', 'unknown_code', 'created and deleted during the outage');
      const settled = await allEvents(client);
      await runJobs();
      assert.deepEqual(await allEvents(client), settled, 'no job left to replay');
    });

    it('during an outage, a code that starts is setting and one that ends is removing, until the bridge is back', async () => {
      const { client, back } = await ownSandbox(server);
      const end = T0 + 2 * HOUR;
      const { access_code: code } = await createOnline(client, {
        device_id: back,
        code: '246810',
        starts_at: iso(T0 - HOUR),
        ends_at: iso(end),
      });
      assert.equal(code.status, 'setting', 'started already: programmed at once');
      const { access_code: later } = await createOnline(client, {
        device_id: back,
        code: '1357',
        starts_at: iso(T0 + HOUR),
        ends_at: iso(T0 + 5 * HOUR),
      });
      assert.equal(later.status, 'unset');
      await runJobs();
      await setBridge(client, back, false);
      await advanceClock(client, 'PT3H');
      const waiting = await liveCode(client, later.access_code_id);
      assert.equal(waiting.status, 'setting', 'its start passed: waiting to be programmed');
      assert.deepEqual(
        waiting.warnings.map((w) => w.warning_code),
        ['delay_in_setting_on_device'],
      );
      await refused(client, back, '1357', 'unknown_code', 'not programmed yet');
      const stale = await liveCode(client, code.access_code_id);
      assert.equal(stale.status, 'removing');
      assert.deepEqual(
        stale.warnings.map((w) => w.warning_code),
        ['delay_in_removing_from_device'],
      );
      await opens(client, back, '246810', 'the lock still holds it: only the bridge can take it off');
      await setBridge(client, back, true);
      assertSeamError(await getCode(client, code.access_code_id), 404, 'access_code_not_found');
      assert.deepEqual(typesOf(await codeEvents(client, code.access_code_id)), [
        'access_code.created',
        'access_code.set_on_device',
        'access_code.delay_in_removing_from_device',
        'access_code.removed_from_device',
        'access_code.deleted',
      ]);
      await refused(client, back, '246810');
      const programmed = await liveCode(client, later.access_code_id);
      assert.equal(programmed.status, 'set');
      assert.deepEqual(programmed.warnings, []);
      assert.deepEqual(typesOf(await codeEvents(client, later.access_code_id)), [
        'access_code.created',
        'access_code.delay_in_setting_on_device',
        'access_code.set_on_device',
      ]);
      await opens(client, back, '1357');
    });

    it('never leaves a deleted code on the lock when the delete races the bridge job that programs it', async () => {
      const { client, back } = await ownSandbox(server);
      for (let i = 0; i < 20; i++) {
        const pin = String(700000 + i);
        const { access_code: code } = await createOnline(client, { device_id: back, code: pin });
        const [, del] = await Promise.all([
          runJobs(),
          call(client, '/access_codes/delete', { body: { access_code_id: code.access_code_id } }),
        ]);
        assert.equal(del.status, 200, del.text);
        await runJobs();
        assertSeamError(await getCode(client, code.access_code_id), 404, 'access_code_not_found');
        const types = typesOf(await codeEvents(client, code.access_code_id));
        assert.equal(types.at(-1), 'access_code.deleted', `${pin}: ${types.join(', ')}`);
        assert.equal(types.filter((t) => t === 'access_code.deleted').length, 1);
        assert.equal(
          types.includes('access_code.set_on_device'),
          types.includes('access_code.removed_from_device'),
          `${pin}: programmed means removed again (${types.join(', ')})`,
        );
        // What the lock holds, read from its memory (20 wrong PINs would lock the keypad out).
        assert.deepEqual(await onLock(back), [], `${pin}: the lock holds no PIN of a deleted code`);
      }
      await refused(client, back, '700000', 'unknown_code', 'deleted');
    });

    it('refuses disconnect and connect in a non-sandbox workspace with 400 workspace_not_sandbox', async () => {
      const production = await server.createOtherWorkspace(false);
      const api = { url: server.url, apiKey: production.api_key };
      for (const path of ['/devices/simulate/disconnect', '/devices/simulate/connect']) {
        assertSeamError(
          await call(api, path, { body: { device_id: randomUUID() } }),
          400,
          'workspace_not_sandbox',
        );
      }
    });
  });
}
