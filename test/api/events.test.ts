import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as sdkV1 from 'seam-http-v1';
import * as sdkV2 from 'seam-http-v2';
import { testDialects } from '../helpers/databases.ts';
import { assertSeamShape } from '../helpers/seam-schemas.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';
import {
  advanceClock,
  allEvents,
  asClient,
  assertSeamError,
  type Client,
  createOffline,
  HOUR,
  iso,
  listCodes,
  type SeamAccessCode,
  T0,
  timeFrame,
} from './access-codes.helpers.ts';

// The event log and the offline-code lifecycle of contract §4 (unset → setting 60 min before the start →
// set at the start → removed after the end), driven by the sandbox clock (contract §5). Every test that
// moves a clock gets a sandbox workspace of its own, so the tests do not move each other's time.

const MIN = 60_000;
const sdks = [
  { name: 'seam-http-v1 1.102.0', sdk: sdkV1 as unknown as typeof sdkV2 },
  { name: 'seam-http-v2 2.32.0', sdk: sdkV2 },
];

for (const dialect of testDialects()) {
  describe(`events and the offline-code lifecycle (${dialect.name})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dialect);
      server.clock.now = T0;
    });
    after(() => server.close());

    /** A fresh sandbox workspace (its clock at T0) with its Front Door and Back Door. */
    const sandbox = async () => {
      const ws = await server.createOtherWorkspace();
      return {
        client: asClient(server, ws.api_key),
        ws,
        front: ws.devices[0]?.device_id ?? '',
        back: ws.devices[1]?.device_id ?? '',
      };
    };
    const getCode = (client: Client, access_code_id: string) =>
      call(client, '/access_codes/get', { body: { access_code_id } });
    const statusOf = async (client: Client, code: SeamAccessCode) => {
      const r = await getCode(client, code.access_code_id);
      assert.equal(r.status, 200, r.text);
      assertSeamShape('access_code', r.json.access_code);
      return r.json.access_code.status;
    };
    const eventsOf = (client: Client, code: SeamAccessCode) =>
      allEvents(client, { access_code_id: code.access_code_id });

    it('records access_code.created when a code is created', async () => {
      const { client, ws, front } = await sandbox();
      const code = await createOffline(client, timeFrame(front, Date.UTC(2030, 0, 9, 10), 2 * HOUR));
      const events = await eventsOf(client, code);
      assert.equal(events.length, 1);
      const [event] = events;
      assert.equal(event.event_type, 'access_code.created');
      assert.equal(event.access_code_id, code.access_code_id);
      assert.equal(event.device_id, front);
      assert.equal(event.workspace_id, ws.workspace.workspace_id);
      assert.equal(event.connected_account_id, ws.connected_account?.connected_account_id);
      assert.equal(event.occurred_at, iso(T0));
      assert.equal(event.created_at, iso(T0));
      assert.match(event.event_id, /^[0-9a-f-]{36}$/);
    });

    it('moves a code unset → setting 60 min before its start → set at its start → removed after its end, with events', async () => {
      const { client, front } = await sandbox();
      const start = Date.UTC(2030, 0, 8, 12);
      const end = start + 3 * HOUR;
      const code = await createOffline(client, timeFrame(front, start, 3 * HOUR, { name: 'Lifecycle' }));
      assert.equal(code.status, 'unset');
      assert.equal(code.is_scheduled_on_device, false);

      assert.equal(await advanceClock(client, 'PT25H29M'), iso(start - 61 * MIN));
      assert.equal(await statusOf(client, code), 'unset');
      assert.equal(await advanceClock(client, 'PT1M'), iso(start - 60 * MIN));
      assert.equal(await statusOf(client, code), 'setting');
      assert.equal(await advanceClock(client, 'PT59M'), iso(start - MIN));
      assert.equal(await statusOf(client, code), 'setting');
      assert.deepEqual(
        (await eventsOf(client, code)).map((e) => e.event_type),
        ['access_code.created'],
        'nothing to report before the code is set',
      );

      assert.equal(await advanceClock(client, 'PT1M'), iso(start));
      const set = await getCode(client, code.access_code_id);
      assert.equal(set.json.access_code.status, 'set');
      assert.equal(set.json.access_code.is_scheduled_on_device, true);
      const setEvents = (await eventsOf(client, code)).filter(
        (e) => e.event_type === 'access_code.set_on_device',
      );
      assert.equal(setEvents.length, 1);
      assert.equal(setEvents[0].code, code.code, 'set_on_device carries the PIN');
      assert.equal(setEvents[0].occurred_at, iso(start));

      assert.equal(await advanceClock(client, 'PT2H59M'), iso(end - MIN));
      assert.equal(await statusOf(client, code), 'set');
      assert.equal(await advanceClock(client, 'PT2H'), iso(end + 119 * MIN));
      assertSeamError(await getCode(client, code.access_code_id), 404, 'access_code_not_found');
      assert.deepEqual(await listCodes(client, front), []);

      const events = await eventsOf(client, code);
      assert.deepEqual(
        events.map((e) => e.event_type),
        [
          'access_code.created',
          'access_code.set_on_device',
          'access_code.removed_from_device',
          'access_code.deleted',
        ],
      );
      for (const event of events.slice(2)) {
        assert.equal(event.occurred_at, iso(end), `${event.event_type} happened at the end`);
        assert.equal(event.created_at, iso(end + 119 * MIN), 'and was recorded when the clock got there');
        assert.equal(event.access_code_id, code.access_code_id);
        assert.equal(event.device_id, front);
      }
      assert.equal(events[3].code, code.code, 'deleted carries the PIN');
    });

    it('replays every due step in order, at its true instant, when the clock jumps days ahead', async () => {
      const { client, front, back } = await sandbox();
      const hourly = await createOffline(client, timeFrame(front, Date.UTC(2030, 0, 8, 12), 3 * HOUR));
      const oneTime = await createOffline(client, {
        device_id: back,
        is_one_time_use: true,
        starts_at: '2030-01-07T20:00:00Z',
      });
      const later = await createOffline(client, timeFrame(front, Date.UTC(2030, 0, 20, 12), 2 * HOUR));
      assert.equal(await advanceClock(client, 'P3D'), iso(T0 + 72 * HOUR));

      for (const [code, start, end] of [
        [hourly, Date.UTC(2030, 0, 8, 12), Date.UTC(2030, 0, 8, 15)],
        [oneTime, Date.UTC(2030, 0, 7, 20), Date.UTC(2030, 0, 8, 20)],
      ] as const) {
        assertSeamError(await getCode(client, code.access_code_id), 404, 'access_code_not_found');
        const events = await eventsOf(client, code);
        assert.deepEqual(
          events.map((e) => [e.event_type, e.occurred_at]),
          [
            ['access_code.created', iso(T0)],
            ['access_code.set_on_device', iso(start)],
            ['access_code.removed_from_device', iso(end)],
            ['access_code.deleted', iso(end)],
          ],
        );
      }
      // Across codes too, the log follows the order things happened in.
      const occurred = (await allEvents(client)).map((e) => Date.parse(e.occurred_at));
      assert.deepEqual(
        occurred,
        [...occurred].sort((a, b) => a - b),
      );
      assert.equal(await statusOf(client, later), 'unset', 'a code further ahead is not touched');
    });

    it('sets a code whose start is the current hour at once, and one starting within the hour is setting', async () => {
      const { client, front } = await sandbox();
      const now = await createOffline(client, timeFrame(front, Date.UTC(2030, 0, 7, 9), 3 * HOUR));
      assert.equal(now.status, 'set');
      assert.equal(now.is_scheduled_on_device, true);
      assert.deepEqual(
        (await eventsOf(client, now)).map((e) => [e.event_type, e.occurred_at, e.code]),
        [
          ['access_code.created', iso(T0), undefined],
          ['access_code.set_on_device', iso(T0), now.code],
        ],
      );

      const soon = await createOffline(client, timeFrame(front, Date.UTC(2030, 0, 7, 10), 3 * HOUR));
      assert.equal(soon.status, 'setting');
      assert.deepEqual(
        (await eventsOf(client, soon)).map((e) => e.event_type),
        ['access_code.created'],
      );
      await advanceClock(client, 'PT30M');
      assert.equal(await statusOf(client, soon), 'set');
      const setEvent = (await eventsOf(client, soon))[1];
      assert.equal(setEvent?.event_type, 'access_code.set_on_device');
      assert.equal(setEvent?.occurred_at, iso(Date.UTC(2030, 0, 7, 10)));

      // A permanent code starts at the current hour: set at once, and it stays.
      const permanent = await createOffline(client, { device_id: front });
      assert.equal(permanent.status, 'set');
      await advanceClock(client, 'P30D');
      assert.equal(await statusOf(client, permanent), 'set');
      assert.deepEqual(
        (await eventsOf(client, permanent)).map((e) => e.event_type),
        ['access_code.created', 'access_code.set_on_device'],
      );
    });

    it('refuses /events/list without since or between (400 invalid_input)', async () => {
      for (const request of [
        () => call(server, '/events/list', { body: {} }),
        () => call(server, '/events/list', { body: { limit: 5, event_type: 'access_code.created' } }),
        () => call(server, '/events/list', { method: 'GET' }),
        () => call(server, '/events/list', { body: { between: [iso(T0)] } }),
        () => call(server, '/events/list', { body: { since: 'yesterday' } }),
      ]) {
        assertSeamError(await request(), 400, 'invalid_input');
      }
    });

    it('filters /events/list by since, between, device, access code, event type and limit', async () => {
      const { client, front, back } = await sandbox();
      const a1 = await createOffline(client, timeFrame(front, T0 - 30 * MIN, 4 * HOUR)); // created + set
      const a2 = await createOffline(client, timeFrame(front, Date.UTC(2030, 0, 20, 10), 2 * HOUR)); // created
      const b1 = await createOffline(client, timeFrame(back, T0 - 30 * MIN, 4 * HOUR)); // created + set
      await advanceClock(client, 'PT1H');
      const b2 = await createOffline(client, timeFrame(back, Date.UTC(2030, 0, 20, 10), 2 * HOUR)); // created

      const ids = async (filters: Record<string, unknown>) =>
        (await allEvents(client, filters)).map(
          (e) => `${e.event_type.slice('access_code.'.length)} ${e.access_code_id}`,
        );
      const created = (c: SeamAccessCode) => `created ${c.access_code_id}`;
      const set = (c: SeamAccessCode) => `set_on_device ${c.access_code_id}`;

      const everything = [created(a1), set(a1), created(a2), created(b1), set(b1), created(b2)];
      assert.deepEqual(await ids({}), everything, 'oldest first');
      assert.deepEqual(await ids({ since: iso(T0) }), everything, 'since is inclusive');
      assert.deepEqual(await ids({ since: iso(T0 + 1) }), [created(b2)]);
      assert.deepEqual(await ids({ since: iso(T0 + 2 * HOUR) }), []);
      assert.deepEqual(
        await ids({ since: undefined, between: [iso(T0 - HOUR), iso(T0 + 30 * MIN)] }),
        everything.slice(0, 5),
      );
      assert.deepEqual(await ids({ since: undefined, between: [iso(T0 + HOUR), iso(T0 + 2 * HOUR)] }), [
        created(b2),
      ]);

      assert.deepEqual(await ids({ device_id: front }), [created(a1), set(a1), created(a2)]);
      assert.deepEqual(await ids({ device_ids: [back] }), [created(b1), set(b1), created(b2)]);
      assert.deepEqual(await ids({ device_ids: [front, back] }), everything);
      assert.deepEqual(await ids({ device_ids: [randomUUID()] }), []);

      assert.deepEqual(await ids({ access_code_id: a1.access_code_id }), [created(a1), set(a1)]);
      assert.deepEqual(await ids({ access_code_ids: [b2.access_code_id, a2.access_code_id] }), [
        created(a2),
        created(b2),
      ]);

      assert.deepEqual(await ids({ event_type: 'access_code.set_on_device' }), [set(a1), set(b1)]);
      assert.deepEqual(await ids({ event_types: ['access_code.created'] }), [
        created(a1),
        created(a2),
        created(b1),
        created(b2),
      ]);
      assert.deepEqual(
        await ids({ event_types: ['access_code.created', 'access_code.set_on_device'] }),
        everything,
      );
      assert.deepEqual(await ids({ event_types: ['lock.unlocked'] }), []);

      assert.deepEqual(await ids({ device_id: front, event_type: 'access_code.created' }), [
        created(a1),
        created(a2),
      ]);
      assert.deepEqual(await ids({ limit: 2 }), everything.slice(0, 2));
      assert.deepEqual(await ids({ device_id: back, limit: 1 }), [created(b1)]);

      // The same filters from a query string (repeated keys are arrays), as SDK v2 sends them.
      const query = await call(
        client,
        `/events/list?_strict=true&event_types=access_code.set_on_device&device_ids=${front}&device_ids=${back}&since=${encodeURIComponent(iso(T0))}`,
        { method: 'GET' },
      );
      assert.equal(query.status, 200, query.text);
      assert.deepEqual(
        query.json.events.map((e: { access_code_id: string }) => e.access_code_id),
        [a1.access_code_id, b1.access_code_id],
      );
    });

    it('never shows another workspace’s events, in lists, filters or /events/get', async () => {
      const mine = await sandbox();
      const theirs = await sandbox();
      const myCode = await createOffline(mine.client, timeFrame(mine.front, T0 - 30 * MIN, 2 * HOUR));
      const theirCode = await createOffline(theirs.client, timeFrame(theirs.front, T0 - 30 * MIN, 2 * HOUR));
      const theirEvents = await allEvents(theirs.client);
      assert.equal(theirEvents.length, 2);
      const myEvents = await allEvents(mine.client);
      assert.deepEqual(
        myEvents.map((e) => e.access_code_id),
        [myCode.access_code_id, myCode.access_code_id],
      );
      assert.deepEqual(await allEvents(mine.client, { device_id: theirs.front }), []);
      assert.deepEqual(await allEvents(mine.client, { access_code_id: theirCode.access_code_id }), []);
      assert.deepEqual(await allEvents(mine.client, { event_ids: theirEvents.map((e) => e.event_id) }), []);
      for (const event of theirEvents) {
        const r = await call(mine.client, '/events/get', { body: { event_id: event.event_id } });
        assertSeamError(r, 404, 'event_not_found');
        assert.ok(!r.text.includes(theirCode.code ?? '-'));
      }
      // Nor does the seeded workspace see either of them.
      const seeded = (await allEvents(server)).map((e) => e.event_id);
      for (const event of [...theirEvents, ...myEvents]) assert.ok(!seeded.includes(event.event_id));
    });

    it('gets an event by id (POST and GET), and answers an unknown id with 404 event_not_found', async () => {
      const { client, front } = await sandbox();
      await createOffline(client, timeFrame(front, T0 - 30 * MIN, 2 * HOUR));
      const events = await allEvents(client);
      assert.equal(events.length, 2);
      for (const event of events) {
        const byPost = await call(client, '/events/get', { body: { event_id: event.event_id } });
        assert.equal(byPost.status, 200, byPost.text);
        assert.deepEqual(byPost.json.event, event);
        const byGet = await call(client, `/events/get?event_id=${event.event_id}&_strict=true`, {
          method: 'GET',
        });
        assert.deepEqual(byGet.json.event, event);
      }
      assertSeamError(
        await call(client, '/events/get', { body: { event_id: randomUUID() } }),
        404,
        'event_not_found',
      );
      assertSeamError(
        await call(client, '/events/get', { body: { event_id: 'nope' } }),
        400,
        'invalid_input',
      );
    });

    for (const { name, sdk } of sdks) {
      it(`lists and gets events through the official SDK ${name}`, async () => {
        const { ws, front } = await sandbox();
        const seam = sdk.SeamHttp.fromApiKey(ws.api_key, {
          endpoint: server.url,
          waitForActionAttempt: false,
        });
        const code = await seam.accessCodes.create({
          device_id: front,
          is_offline_access_code: true,
          starts_at: iso(T0 - 30 * MIN),
          ends_at: iso(T0 + 2 * HOUR),
        });
        const events = await seam.events.list({ since: iso(T0), access_code_id: code.access_code_id });
        assert.deepEqual(
          events.map((e) => e.event_type),
          ['access_code.created', 'access_code.set_on_device'],
        );
        for (const event of events) assertSeamShape('event', event);
        const filtered = await seam.events.list({
          since: iso(T0),
          event_types: ['access_code.set_on_device'],
          device_ids: [front],
        });
        assert.deepEqual(
          filtered.map((e) => e.event_id),
          [events[1]?.event_id],
        );
        const one = await seam.events.get({ event_id: events[0]?.event_id ?? '' });
        assert.deepEqual(one, events[0]);
        await assert.rejects(seam.events.get({ event_id: randomUUID() }), (error: unknown) => {
          assert.ok(sdk.isSeamHttpApiError(error), String(error));
          assert.equal(error.code, 'event_not_found');
          assert.equal(error.statusCode, 404);
          return true;
        });
      });
    }

    it('refuses advance_clock outside sandbox workspaces with 400 workspace_not_sandbox', async () => {
      const production = await server.createOtherWorkspace(false);
      const client = asClient(server, production.api_key);
      const r = await call(client, '/workspaces/simulate/advance_clock', { body: { by: 'PT1H' } });
      assertSeamError(r, 400, 'workspace_not_sandbox');
      const workspace = await call(client, '/workspaces/get', { body: {} });
      assert.equal(workspace.json.workspace.is_sandbox, false);
    });

    it('needs advance_clock’s `by` to be a positive ISO 8601 duration (400 invalid_input otherwise)', async () => {
      const { client, front } = await sandbox();
      for (const body of [
        {},
        { by: '' },
        { by: 'PT0S' },
        { by: '-PT1H' },
        { by: 'P1M' },
        { by: 'P1Y' },
        { by: 'PT' },
        { by: 'tomorrow' },
        { by: 3600 },
        { by: 'PT1H', extra: true },
      ]) {
        const r = await call(client, '/workspaces/simulate/advance_clock', { body });
        assertSeamError(r, 400, 'invalid_input');
      }
      // None of them moved the clock; a good one does, by exactly what it says.
      assert.equal(await advanceClock(client, 'P1DT2H30M'), iso(T0 + 26.5 * HOUR));
      const permanent = await createOffline(client, { device_id: front });
      assert.equal(permanent.starts_at, iso(Date.UTC(2030, 0, 8, 12)));
      assert.equal(permanent.created_at, iso(T0 + 26.5 * HOUR));
    });
  });
}
