import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as sdkV1 from 'seam-http-v1';
import * as sdkV2 from 'seam-http-v2';
import { testDialects } from '../helpers/databases.ts';
import { assertSeamShape } from '../helpers/seam-schemas.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';
import {
  assertSeamError,
  createOffline,
  DAY,
  HOUR,
  iso,
  listCodes,
  simulateLock,
  storedState,
  T0,
  timeFrame,
} from './access-codes.helpers.ts';

// The seed's examples (dates moved to 2030, same times of day) through the official SDKs, unchanged but for
// `endpoint` (v1 1.102.0 sends reads as POST and updates as PUT; v2 2.32.0 sends GET, DELETE and PATCH),
// the error classes they raise for each rule, get/list, and the seed's cURL requests as raw HTTP.

const sdks = [
  { name: 'seam-http-v1 1.102.0', sdk: sdkV1 as unknown as typeof sdkV2 },
  { name: 'seam-http-v2 2.32.0', sdk: sdkV2 },
];

const ALGOPIN_WARNING = 'igloo_algopin_must_be_used_within_24_hours';

/** The seed's three requests, moved from November 2023 to January 2030. */
const SEED = {
  hourly: {
    name: 'my hourly-bound offline code',
    starts_at: '2030-01-10T00:00:00-00:00',
    ends_at: '2030-01-15T18:00:00-00:00',
    is_offline_access_code: true,
  },
  daily: {
    name: 'my daily-bound offline code',
    starts_at: '2030-01-17T00:00:00-00:00',
    ends_at: '2030-02-17T00:00:00-00:00',
    max_time_rounding: '1d',
    is_offline_access_code: true,
  },
  oneTime: {
    name: 'my one-time-use offline code',
    starts_at: '2030-01-20T00:00:00-00:00',
    is_offline_access_code: true,
    is_one_time_use: true,
  },
} as const;

/** What the seed's responses show, plus what the contract adds (code, warning, one-time flag). */
const EXPECTED = {
  hourly: {
    starts_at: '2030-01-10T00:00:00.000Z',
    ends_at: '2030-01-15T18:00:00.000Z',
    digits: 10,
    warnings: [ALGOPIN_WARNING],
    is_one_time_use: false,
  },
  daily: {
    starts_at: '2030-01-17T00:00:00.000Z',
    ends_at: '2030-02-17T00:00:00.000Z',
    digits: 10,
    warnings: [ALGOPIN_WARNING],
    is_one_time_use: false,
  },
  oneTime: {
    starts_at: '2030-01-20T00:00:00.000Z',
    ends_at: '2030-01-21T00:00:00.000Z',
    digits: 8,
    warnings: [],
    is_one_time_use: true,
  },
};

/** Codes created in one millisecond (the clock is pinned) list in id order, not creation order. */
const byId = <T extends { access_code_id: string }>(codes: T[]): T[] =>
  [...codes].sort((a, b) => a.access_code_id.localeCompare(b.access_code_id));

type Kind = keyof typeof SEED;
const KINDS: Kind[] = ['hourly', 'daily', 'oneTime'];

function assertSeedResponse(kind: Kind, deviceId: string, code: Record<string, unknown>): void {
  assertSeamShape('access_code', code);
  const expected = EXPECTED[kind];
  assert.equal(code.device_id, deviceId);
  assert.equal(code.name, SEED[kind].name);
  assert.equal(code.type, 'time_bound');
  assert.equal(code.is_offline_access_code, true);
  assert.equal(code.is_one_time_use, expected.is_one_time_use);
  assert.equal(code.starts_at, expected.starts_at);
  assert.equal(code.ends_at, expected.ends_at);
  assert.match(String(code.code), new RegExp(`^\\d{${expected.digits}}$`));
  assert.deepEqual(
    (code.warnings as { warning_code: string }[]).map((w) => w.warning_code),
    expected.warnings,
  );
  assert.equal(code.status, 'unset', 'starts more than an hour from now');
  assert.equal(code.is_managed, true);
}

for (const dialect of testDialects()) {
  for (const { name, sdk } of sdks) {
    describe(`offline access codes through the official SDK ${name} (${dialect.name})`, () => {
      let server: TestServer;
      let seam: sdkV2.SeamHttp;
      let frontId: string;
      const client = (apiKey: string) =>
        sdk.SeamHttp.fromApiKey(apiKey, { endpoint: server.url, waitForActionAttempt: false });
      /** Runs `request`, which must throw a SeamHttpApiError of this code and status; returns it. */
      const rejectsWith = async (request: Promise<unknown>, code: string, status: number) => {
        const error = await request.then(
          (value) => assert.fail(`expected ${code}, got ${JSON.stringify(value)}`),
          (e: unknown) => e,
        );
        assert.ok(sdk.isSeamHttpApiError(error), String(error));
        assert.equal(error.code, code, error.message);
        assert.equal(error.statusCode, status);
        assert.match(error.requestId, /^[0-9a-f-]{36}$/);
        return error;
      };

      before(async () => {
        server = await startTestServer(dialect);
        server.clock.now = T0;
        seam = client(server.apiKey);
        frontId = server.sandbox.devices[0]?.device_id ?? '';
      });
      after(() => server.close());

      for (const kind of KINDS) {
        it(`creates the seed’s ${kind === 'oneTime' ? 'one-time-use' : `${kind}-bound`} example as documented`, async () => {
          // As the seed: get the lock, check it can take offline codes, create.
          const device = await seam.locks.get({ device_id: frontId });
          assert.equal(device.can_program_offline_access_codes, true);
          const created = await seam.accessCodes.create({
            device_id: device.device_id,
            ...SEED[kind],
          } as sdkV2.AccessCodesCreateParameters);
          assertSeedResponse(kind, frontId, created);
          assert.deepEqual(await seam.accessCodes.get({ access_code_id: created.access_code_id }), created);
        });
      }

      it('raises SeamHttpApiError with the rule’s error type for each refused create', async () => {
        const at = (h: number) => iso(Date.UTC(2030, 0, 9, h));
        const cases: [Record<string, unknown>, string, number][] = [
          [{ ...SEED.hourly, code: '1234567890' }, 'cannot_specify_offline_code', 400],
          [{ ...SEED.daily, ends_at: '2031-01-23T00:00:00-00:00' }, 'time_frame_out_of_range', 400],
          [
            { ...SEED.daily, max_time_rounding: '1h', ends_at: '2030-02-16T21:00:00Z' },
            'max_time_rounding_exceeded',
            400,
          ],
          [{ starts_at: at(10) }, 'time_frame_out_of_range', 400],
          [
            { name: 'online', starts_at: at(10), ends_at: at(12), is_offline_access_code: false },
            'online_access_codes_not_supported',
            400,
          ],
        ];
        const before = await storedState(server, frontId);
        for (const [params, code, status] of cases) {
          await rejectsWith(
            seam.accessCodes.create({
              device_id: frontId,
              is_offline_access_code: true,
              ...params,
            } as sdkV2.AccessCodesCreateParameters),
            code,
            status,
          );
        }
        await rejectsWith(
          seam.accessCodes.create({ device_id: randomUUID(), ...SEED.hourly }),
          'device_not_found',
          404,
        );
        assert.deepEqual(await storedState(server, frontId), before, 'nothing stored');
      });

      it('raises SeamHttpInvalidInputError for an ends_at that is not in the future or not after starts_at', async () => {
        for (const [starts_at, ends_at] of [
          [iso(T0 - 3 * HOUR), iso(T0 - HOUR)],
          [iso(T0 + 5 * HOUR), iso(T0 + 2 * HOUR)],
        ]) {
          const error = await seam.accessCodes
            .create({ device_id: frontId, is_offline_access_code: true, starts_at, ends_at })
            .catch((e: unknown) => e);
          assert.ok(sdk.isSeamHttpInvalidInputError(error), String(error));
          assert.equal(error.statusCode, 400);
        }
        const malformed = await seam.accessCodes
          .create({
            device_id: frontId,
            is_offline_access_code: true,
            starts_at: 'tomorrow',
            ends_at: iso(T0 + DAY),
          })
          .catch((e: unknown) => e);
        assert.ok(sdk.isSeamHttpInvalidInputError(malformed), String(malformed));
        assert.ok(malformed.getValidationErrorMessages('starts_at').length > 0);
      });

      it('raises a 409 offline_code_slot_full whose data names free starts nearby', async () => {
        const lock = await simulateLock(server, 'SDK slot');
        const params = {
          device_id: lock,
          is_offline_access_code: true,
          starts_at: '2030-01-09T12:00:00Z',
          ends_at: '2030-01-09T14:00:00Z',
        };
        for (let i = 0; i < 3; i++) await seam.accessCodes.create(params);
        const error = await rejectsWith(seam.accessCodes.create(params), 'offline_code_slot_full', 409);
        const data = error.data as { nearby_free_slots: { starts_at: string; free_variances: number }[] };
        assert.deepEqual(data.nearby_free_slots[0], {
          starts_at: '2030-01-09T13:00:00.000Z',
          free_variances: 3,
        });
        const moved = await seam.accessCodes.create({
          ...params,
          starts_at: '2030-01-09T13:00:00Z',
          ends_at: '2030-01-09T15:00:00Z',
        });
        assert.equal(moved.starts_at, '2030-01-09T13:00:00.000Z');
      });

      it('refuses to update an offline code (v1 PUT, v2 PATCH) with cannot_update_offline_access_code', async () => {
        const code = await seam.accessCodes.create({ ...SEED.hourly, device_id: frontId, name: 'to update' });
        const before = await storedState(server, frontId);
        await rejectsWith(
          seam.accessCodes.update({ access_code_id: code.access_code_id, name: 'renamed' }),
          'cannot_update_offline_access_code',
          400,
        );
        await rejectsWith(
          seam.accessCodes.update({
            access_code_id: code.access_code_id,
            starts_at: '2030-01-11T00:00:00Z',
            ends_at: '2030-01-12T00:00:00Z',
          }),
          'cannot_update_offline_access_code',
          400,
        );
        assert.deepEqual(await storedState(server, frontId), before);
        assert.deepEqual(await seam.accessCodes.get({ access_code_id: code.access_code_id }), code);
      });

      it('refuses to delete an offline code (v1 POST, v2 DELETE) with cannot_delete_offline_access_code; it stays', async () => {
        const code = await seam.accessCodes.create({ ...SEED.hourly, device_id: frontId, name: 'to delete' });
        const before = await storedState(server, frontId);
        const error = await rejectsWith(
          seam.accessCodes.delete({ access_code_id: code.access_code_id }),
          'cannot_delete_offline_access_code',
          400,
        );
        assert.match(error.message, /Bluetooth/);
        assert.deepEqual(await storedState(server, frontId), before);
        assert.deepEqual(await seam.accessCodes.get({ access_code_id: code.access_code_id }), code);
      });

      it('gets a code by access_code_id and by device_id + code', async () => {
        const lock = await simulateLock(server, 'SDK get');
        const code = await seam.accessCodes.create({
          device_id: lock,
          is_offline_access_code: true,
          starts_at: '2030-01-12T08:00:00Z',
          ends_at: '2030-01-12T10:00:00Z',
        });
        assert.deepEqual(await seam.accessCodes.get({ access_code_id: code.access_code_id }), code);
        assert.deepEqual(await seam.accessCodes.get({ device_id: lock, code: code.code ?? '' }), code);
        await rejectsWith(
          seam.accessCodes.get({ device_id: lock, code: '0000000000' }),
          'access_code_not_found',
          404,
        );
      });

      it('answers unknown ids and another workspace’s code alike: 404 access_code_not_found', async () => {
        const other = await server.createOtherWorkspace();
        const theirs = await client(other.api_key).accessCodes.create({
          device_id: other.devices[0]?.device_id ?? '',
          ...SEED.hourly,
        });
        for (const access_code_id of [randomUUID(), theirs.access_code_id]) {
          await rejectsWith(seam.accessCodes.get({ access_code_id }), 'access_code_not_found', 404);
          await rejectsWith(
            seam.accessCodes.update({ access_code_id, name: 'x' }),
            'access_code_not_found',
            404,
          );
          await rejectsWith(seam.accessCodes.delete({ access_code_id }), 'access_code_not_found', 404);
        }
        // Their code by device and PIN, asked from our workspace: not found either.
        await rejectsWith(
          seam.accessCodes.get({ device_id: other.devices[0]?.device_id ?? '', code: theirs.code ?? '' }),
          'access_code_not_found',
          404,
        );
        assert.equal(theirs.status, 'unset', 'and it is untouched');
      });

      it('lists a device’s codes and codes by id, and paginates them with the SDK paginator', async () => {
        const lock = await simulateLock(server, 'SDK list');
        const created = [];
        for (let i = 0; i < 5; i++) {
          created.push(
            await seam.accessCodes.create({
              device_id: lock,
              name: `Guest ${i}`,
              is_offline_access_code: true,
              starts_at: iso(Date.UTC(2030, 0, 14, 8 + i)),
              ends_at: iso(Date.UTC(2030, 0, 14, 12 + i)),
            }),
          );
        }
        const all = await seam.accessCodes.list({ device_id: lock });
        assert.deepEqual(byId(all), byId(created));
        const byIds = await seam.accessCodes.list({
          access_code_ids: [created[3]?.access_code_id ?? '', created[1]?.access_code_id ?? '', randomUUID()],
        });
        assert.deepEqual(byIds.map((c) => c.name).sort(), ['Guest 1', 'Guest 3']);
        const pages: string[][] = [];
        for await (const page of seam.createPaginator(seam.accessCodes.list({ device_id: lock, limit: 2 }))) {
          pages.push(page.map((c) => c.access_code_id));
        }
        assert.deepEqual(
          pages.map((p) => p.length),
          [2, 2, 1],
        );
        assert.deepEqual(
          pages.flat(),
          all.map((c) => c.access_code_id),
          'the pages follow the list order',
        );
      });

      it('raises device_not_found for listing an unknown or another workspace’s device', async () => {
        const other = await server.createOtherWorkspace();
        for (const device_id of [randomUUID(), other.devices[0]?.device_id ?? '']) {
          await rejectsWith(seam.accessCodes.list({ device_id }), 'device_not_found', 404);
        }
        assert.deepEqual(await seam.accessCodes.list({ access_code_ids: [randomUUID()] }), []);
      });
    });
  }

  describe(`the seed’s cURL requests and raw lookups (${dialect.name})`, () => {
    let server: TestServer;
    let frontId: string;
    before(async () => {
      server = await startTestServer(dialect);
      server.clock.now = T0;
      frontId = server.sandbox.devices[0]?.device_id ?? '';
    });
    after(() => server.close());

    for (const kind of KINDS) {
      it(`answers the seed’s cURL ${kind} request with the CREATE_ACCESS_CODE action attempt and the access code`, async () => {
        // curl -X GET /devices/get -d '{"device_id": …}'
        const device = await call(server, '/devices/get', { method: 'GET', body: { device_id: frontId } });
        assert.equal(device.status, 200, device.text);
        assert.equal(device.json.device.can_program_offline_access_codes, true);
        // curl -X POST /access_codes/create -d '{…}'
        const r = await call(server, '/access_codes/create', {
          headers: { accept: 'application/json' },
          body: { device_id: device.json.device.device_id, ...SEED[kind] },
        });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.ok, true);
        assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
        assertSeedResponse(kind, frontId, r.json.access_code);
        const attempt = r.json.action_attempt;
        assertSeamShape('action_attempt', attempt);
        assert.equal(attempt.action_type, 'CREATE_ACCESS_CODE');
        assert.match(attempt.action_attempt_id, /^[0-9a-f-]{36}$/);
        // The built-in code server answers at once: the attempt has already succeeded.
        assert.equal(attempt.status, 'success');
        assert.equal(attempt.error, null);
        assert.deepEqual(attempt.result, { access_code: r.json.access_code });
        const polled = await call(server, '/action_attempts/get', {
          method: 'GET',
          body: { action_attempt_id: attempt.action_attempt_id },
        });
        assert.deepEqual(polled.json.action_attempt, attempt);
      });
    }

    it('answers /access_codes/get for an unknown id and for another workspace’s code with the same 404 body', async () => {
      const other = await server.createOtherWorkspace();
      const theirs = await createOffline(
        { url: server.url, apiKey: other.api_key },
        timeFrame(other.devices[0]?.device_id ?? '', Date.UTC(2030, 0, 9, 10), 2 * HOUR),
      );
      const unknownId = randomUUID();
      const unknown = await call(server, '/access_codes/get', { body: { access_code_id: unknownId } });
      const foreign = await call(server, `/access_codes/get?access_code_id=${theirs.access_code_id}`, {
        method: 'GET',
      });
      assertSeamError(unknown, 404, 'access_code_not_found');
      assertSeamError(foreign, 404, 'access_code_not_found');
      assert.deepEqual(
        JSON.parse(foreign.text.replaceAll(theirs.access_code_id, '<id>')),
        JSON.parse(unknown.text.replaceAll(unknownId, '<id>')),
      );
      assert.ok(!foreign.text.includes(theirs.code ?? '-'), 'the PIN does not leak');
    });

    it('lists by device_id or access_code_ids from a query string, and refuses a list with neither (400)', async () => {
      const lock = await simulateLock(server, 'Raw list');
      const a = await createOffline(server, timeFrame(lock, Date.UTC(2030, 0, 9, 10), 2 * HOUR));
      const b = await createOffline(server, timeFrame(lock, Date.UTC(2030, 0, 9, 11), 2 * HOUR));
      assert.deepEqual(byId(await listCodes(server, lock)), byId([a, b]));
      const byIds = await call(
        server,
        `/access_codes/list?access_code_ids=${b.access_code_id}&access_code_ids=${a.access_code_id}&_strict=true`,
        { method: 'GET' },
      );
      assert.equal(byIds.status, 200, byIds.text);
      assert.deepEqual(byId(byIds.json.access_codes), byId([a, b]));
      assertSeamShape('pagination', byIds.json.pagination);
      for (const request of [
        () => call(server, '/access_codes/list', { body: {} }),
        () => call(server, '/access_codes/list', { method: 'GET' }),
        () => call(server, '/access_codes/list?limit=5', { method: 'GET' }),
      ]) {
        assertSeamError(await request(), 400, 'invalid_input');
      }
      const unknown = await call(server, '/access_codes/list', { body: { device_id: randomUUID() } });
      assertSeamError(unknown, 404, 'device_not_found');
    });

    it('answers /access_codes/get without access_code_id or device_id + code with 400 invalid_input', async () => {
      for (const body of [{}, { device_id: frontId }, { code: '1234567890' }]) {
        assertSeamError(await call(server, '/access_codes/get', { body }), 400, 'invalid_input');
      }
    });

    it('keeps every access code of a lock inside the Seam model across kinds and statuses', async () => {
      const lock = await simulateLock(server, 'Shapes');
      await createOffline(server, timeFrame(lock, T0 - 30 * 60_000, 2 * HOUR)); // set now
      await createOffline(server, timeFrame(lock, T0 + 60 * 60_000, 2 * HOUR)); // setting
      await createOffline(server, timeFrame(lock, Date.UTC(2030, 0, 8, 9), 40 * DAY)); // unset, daily
      await createOffline(server, { device_id: lock }); // permanent
      const codes = await listCodes(server, lock); // listCodes checks each against the model
      assert.deepEqual(codes.map((c) => `${c.type} ${c.status}`).sort(), [
        'ongoing set',
        'time_bound set',
        'time_bound setting',
        'time_bound unset',
      ]);
    });
  });
}
