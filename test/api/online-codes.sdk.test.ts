import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as sdkV1 from 'seam-http-v1';
import * as sdkV2 from 'seam-http-v2';
import { testDialects } from '../helpers/databases.ts';
import { assertSeamShape } from '../helpers/seam-schemas.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import {
  createOffline,
  DAY,
  HOUR,
  iso,
  listCodes,
  type SeamAccessCode,
  storedState,
  T0,
  timeFrame,
} from './access-codes.helpers.ts';
import { attemptsOf, bridgeLock, codeEvents, opens, refused, typesOf } from './online-codes.helpers.ts';

// Online access codes (contract §6, issue 5) through the official SDKs, unchanged but for `endpoint`: v1
// 1.102.0 (POST reads, PUT updates) and v2 2.32.0 (GET reads, PATCH updates, DELETE deletes). The job
// runner is not started: bridge jobs run when a test calls runDueJobs, so `setting` is observable. Each test
// that types PINs gets a bridge lock of its own, so keypad lockouts never leak between tests.

const sdks = [
  { name: 'seam-http-v1 1.102.0', sdk: sdkV1 as unknown as typeof sdkV2 },
  { name: 'seam-http-v2 2.32.0', sdk: sdkV2 },
];

type Params = sdkV2.AccessCodesCreateParameters;

for (const dialect of testDialects()) {
  for (const { name, sdk } of sdks) {
    describe(`online access codes through the official SDK ${name} (${dialect.name})`, () => {
      let server: TestServer;
      let seam: sdkV2.SeamHttp;
      let frontId: string;
      let backId: string;
      const runJobs = () => server.services.runDueJobs();
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
      const get = async (access_code_id: string) => {
        const code = await seam.accessCodes.get({ access_code_id });
        assertSeamShape('access_code', code);
        return code;
      };
      const create = async (params: Params) => {
        const code = await seam.accessCodes.create(params);
        assertSeamShape('access_code', code);
        assert.equal(code.is_offline_access_code, false);
        assert.equal(code.is_managed, true);
        return code;
      };
      /** The one action attempt of this type that `act` made on the device (it must succeed). */
      const attemptMadeBy = async (device_id: string, type: string, act: () => Promise<unknown>) => {
        const before = new Set((await attemptsOf(server, device_id, type)).map((a) => a.action_attempt_id));
        await act();
        const made = (await attemptsOf(server, device_id, type)).filter(
          (a) => !before.has(a.action_attempt_id),
        );
        assert.equal(made.length, 1, `one ${type} action attempt`);
        assert.equal(made[0].status, 'success');
        assert.equal(made[0].error, null);
        return made[0];
      };

      before(async () => {
        server = await startTestServer(dialect);
        server.clock.now = T0;
        seam = sdk.SeamHttp.fromApiKey(server.apiKey, { endpoint: server.url, waitForActionAttempt: false });
        frontId = server.sandbox.devices[0]?.device_id ?? '';
        backId = server.sandbox.devices[1]?.device_id ?? '';
      });
      after(() => server.close());

      it('creates an ongoing code with a custom PIN on Back Door: setting, then set with access_code.set_on_device', async () => {
        const device = await seam.devices.get({ device_id: backId });
        assertSeamShape('device', device);
        assert.equal(device.display_name, 'Back Door');
        assert.equal(device.can_program_online_access_codes, true);
        assert.deepEqual(device.properties.supported_code_lengths, [4, 5, 6]);
        assert.equal(device.properties.online, true);

        const created = await create({ device_id: backId, name: 'Cleaner', code: '4821' });
        assert.equal(created.device_id, backId);
        assert.equal(created.name, 'Cleaner');
        assert.equal(created.code, '4821');
        assert.equal(created.type, 'ongoing');
        assert.equal(created.status, 'setting');
        assert.equal(created.is_one_time_use, false);
        assert.equal(created.starts_at ?? null, null);
        assert.equal(created.ends_at ?? null, null);
        assert.deepEqual(created.warnings, []);
        assert.deepEqual(created.errors, []);
        assert.deepEqual(await get(created.access_code_id), created);
        assert.deepEqual(typesOf(await codeEvents(server, created.access_code_id)), ['access_code.created']);
        await refused(server, backId, '4821', 'unknown_code', 'before the bridge has programmed it');

        await runJobs();
        const set = await get(created.access_code_id);
        assert.equal(set.status, 'set');
        assert.equal(set.is_scheduled_on_device, true);
        assert.deepEqual({ ...set, status: 'setting', is_scheduled_on_device: false }, created);
        const events = await codeEvents(server, created.access_code_id);
        assert.deepEqual(typesOf(events), ['access_code.created', 'access_code.set_on_device']);
        assert.equal(events[1].code, '4821', 'set_on_device carries the PIN');
        assert.equal(events[1].device_id, backId);
        assert.equal(events[1].occurred_at, iso(T0));
        const unlocked = await opens(server, backId, '4821');
        assert.equal(unlocked.access_code_id, created.access_code_id);

        await runJobs();
        assert.equal(
          (await codeEvents(server, created.access_code_id)).length,
          2,
          'a second pass has nothing to do',
        );
      });

      it('generates a 6-digit PIN when no code is given, and generateCode suggests PINs free on the lock', async () => {
        const lock = await bridgeLock(server, `Generated ${name}`);
        const generated = await create({ device_id: lock, name: 'No PIN given' });
        assert.match(generated.code ?? '', /^\d{6}$/);
        assert.equal(generated.status, 'setting');
        await runJobs();
        assert.equal((await get(generated.access_code_id)).status, 'set');
        await opens(server, lock, generated.code ?? '');

        const taken = new Set([generated.code]);
        for (let i = 0; i < 5; i++) {
          const suggestion = (await seam.accessCodes.generateCode({ device_id: lock })) as unknown as {
            device_id: string;
            code: string;
          };
          assert.equal(suggestion.device_id, lock);
          assert.match(suggestion.code, /^\d{6}$/);
          assert.ok(!taken.has(suggestion.code), 'not a PIN the lock already has');
          const code = await create({ device_id: lock, code: suggestion.code });
          assert.equal(code.code, suggestion.code, 'and it can be created as is');
          taken.add(suggestion.code);
        }
        await rejectsWith(
          seam.accessCodes.generateCode({ device_id: frontId }),
          'online_access_codes_not_supported',
          400,
        );
        await rejectsWith(
          seam.accessCodes.generateCode({ device_id: randomUUID() }),
          'device_not_found',
          404,
        );
      });

      it('gets an online code by id and by device + PIN, and lists it beside offline codes', async () => {
        const lock = await bridgeLock(server, `Lookup ${name}`);
        const online = await create({ device_id: lock, code: '60606', name: 'Online' });
        const offline = await createOffline(
          server,
          timeFrame(lock, Date.UTC(2030, 0, 9, 10), 2 * HOUR, { name: 'Offline' }),
        );
        assert.deepEqual(await get(online.access_code_id), online);
        assert.deepEqual(await seam.accessCodes.get({ device_id: lock, code: '60606' }), online);
        const listed = await seam.accessCodes.list({ device_id: lock });
        for (const c of listed) assertSeamShape('access_code', c);
        assert.deepEqual(listed.map((c) => [c.name, c.is_offline_access_code]).sort(), [
          ['Offline', true],
          ['Online', false],
        ]);
        assert.deepEqual(
          (await seam.accessCodes.list({ access_code_ids: [online.access_code_id] })).map((c) => c.code),
          ['60606'],
        );
        assert.equal(offline.code?.length, 10, 'algoPINs are longer than any online PIN');
      });

      it('updates the name, the PIN (the lock takes the new one and refuses the old) and the time frame, with UPDATE_ACCESS_CODE', async () => {
        const lock = await bridgeLock(server, `Update ${name}`);
        const code = await create({ device_id: lock, name: 'Guest', code: '2468' });
        await runJobs();
        await opens(server, lock, '2468');
        const id = code.access_code_id;

        // The name: nothing for the bridge to do.
        const renamed = await attemptMadeBy(lock, 'UPDATE_ACCESS_CODE', () =>
          seam.accessCodes.update({ access_code_id: id, name: 'Guest (renamed)' }),
        );
        assert.equal(renamed.result.access_code.name, 'Guest (renamed)');
        const afterRename = await get(id);
        assert.deepEqual(afterRename, {
          ...code,
          name: 'Guest (renamed)',
          status: 'set',
          is_scheduled_on_device: true,
        });
        await runJobs();
        assert.deepEqual(await get(id), afterRename);
        await opens(server, lock, '2468', 'a rename leaves the PIN on the lock');

        // The PIN: setting until the bridge swaps it.
        const recoded = await attemptMadeBy(lock, 'UPDATE_ACCESS_CODE', () =>
          seam.accessCodes.update({ access_code_id: id, code: '13579' }),
        );
        assert.equal(recoded.result.access_code.code, '13579');
        assertSeamShape('access_code', recoded.result.access_code);
        assert.equal((await get(id)).status, 'setting');
        await opens(server, lock, '2468', 'the old PIN stays until the bridge swaps it');
        await runJobs();
        const swapped = await get(id);
        assert.equal(swapped.code, '13579');
        assert.equal(swapped.status, 'set');
        await opens(server, lock, '13579');
        await refused(server, lock, '2468', 'unknown_code', 'the old PIN is off the lock');
        const setEvents = (await codeEvents(server, id)).filter(
          (e) => e.event_type === 'access_code.set_on_device',
        );
        assert.deepEqual(
          setEvents.map((e) => e.code),
          ['2468', '13579'],
        );
        assert.deepEqual(await seam.accessCodes.get({ device_id: lock, code: '13579' }), swapped);
        await rejectsWith(
          seam.accessCodes.get({ device_id: lock, code: '2468' }),
          'access_code_not_found',
          404,
        );

        // The time frame: moved to tomorrow, the PIN leaves the lock until then.
        const starts_at = iso(T0 + DAY);
        const ends_at = iso(T0 + DAY + 4 * HOUR);
        const moved = await attemptMadeBy(lock, 'UPDATE_ACCESS_CODE', () =>
          seam.accessCodes.update({ access_code_id: id, starts_at, ends_at }),
        );
        assert.equal(moved.result.access_code.type, 'time_bound');
        const removing = await get(id);
        assert.equal(removing.type, 'time_bound');
        assert.equal(removing.starts_at, starts_at);
        assert.equal(removing.ends_at, ends_at);
        assert.equal(removing.status, 'removing');
        await runJobs();
        assert.equal((await get(id)).status, 'unset');
        await refused(server, lock, '13579', 'unknown_code', 'not until its new start');

        // Back to ongoing: programmed again at once.
        await attemptMadeBy(lock, 'UPDATE_ACCESS_CODE', () =>
          seam.accessCodes.update({ access_code_id: id, type: 'ongoing' }),
        );
        const ongoing = await get(id);
        assert.equal(ongoing.type, 'ongoing');
        assert.equal(ongoing.starts_at ?? null, null);
        assert.equal(ongoing.status, 'setting');
        await runJobs();
        assert.equal((await get(id)).status, 'set');
        await opens(server, lock, '13579');
      });

      it('refuses an update to a taken or malformed PIN, or to a past time frame, and changes nothing', async () => {
        const lock = await bridgeLock(server, `Bad update ${name}`);
        const a = await create({ device_id: lock, code: '1111' });
        const b = await create({ device_id: lock, code: '2222' });
        await runJobs();
        const before = await storedState(server, lock);
        const id = b.access_code_id;
        await rejectsWith(
          seam.accessCodes.update({ access_code_id: id, code: '1111' }),
          'duplicate_access_code',
          409,
        );
        for (const code of ['123', '1234567', '12a4']) {
          await rejectsWith(seam.accessCodes.update({ access_code_id: id, code }), 'invalid_input', 400);
        }
        await rejectsWith(
          seam.accessCodes.update({
            access_code_id: id,
            starts_at: iso(T0 - 3 * HOUR),
            ends_at: iso(T0 - HOUR),
          }),
          'invalid_input',
          400,
        );
        assert.deepEqual(await storedState(server, lock), before);
        assert.equal((await get(a.access_code_id)).code, '1111');
        assert.equal((await get(id)).code, '2222');
        // Keeping its own PIN is no conflict.
        await seam.accessCodes.update({ access_code_id: id, code: '2222', name: 'same PIN' });
        assert.equal((await get(id)).name, 'same PIN');
      });

      it('deletes a programmed code: removing, then 404 after removed_from_device and deleted, with DELETE_ACCESS_CODE', async () => {
        const lock = await bridgeLock(server, `Delete ${name}`);
        const code = await create({ device_id: lock, code: '97531' });
        await runJobs();
        const attempt = await attemptMadeBy(lock, 'DELETE_ACCESS_CODE', () =>
          seam.accessCodes.delete({ access_code_id: code.access_code_id }),
        );
        assert.deepEqual(attempt.result, {});
        assert.equal((await get(code.access_code_id)).status, 'removing');
        await opens(server, lock, '97531', 'until the bridge has removed it');

        await runJobs();
        await rejectsWith(get(code.access_code_id), 'access_code_not_found', 404);
        assert.deepEqual(await seam.accessCodes.list({ device_id: lock }), []);
        const events = await codeEvents(server, code.access_code_id);
        assert.deepEqual(typesOf(events), [
          'access_code.created',
          'access_code.set_on_device',
          'access_code.removed_from_device',
          'access_code.deleted',
        ]);
        assert.equal(events[3].code, '97531', 'deleted carries the PIN');
        await refused(server, lock, '97531');
        await rejectsWith(
          seam.accessCodes.delete({ access_code_id: code.access_code_id }),
          'access_code_not_found',
          404,
        );
        // The PIN is free again.
        const again = await create({ device_id: lock, code: '97531' });
        assert.notEqual(again.access_code_id, code.access_code_id);
      });

      it('deletes a never-programmed time-bound code at once, with access_code.deleted only', async () => {
        const lock = await bridgeLock(server, `Delete unset ${name}`);
        const code = await create({
          device_id: lock,
          code: '8080',
          starts_at: iso(T0 + 2 * DAY),
          ends_at: iso(T0 + 3 * DAY),
        });
        assert.equal(code.type, 'time_bound');
        assert.equal(code.status, 'unset');
        await runJobs();
        assert.equal((await get(code.access_code_id)).status, 'unset');
        await attemptMadeBy(lock, 'DELETE_ACCESS_CODE', () =>
          seam.accessCodes.delete({ access_code_id: code.access_code_id }),
        );
        await rejectsWith(get(code.access_code_id), 'access_code_not_found', 404);
        await runJobs();
        const events = await codeEvents(server, code.access_code_id);
        assert.deepEqual(typesOf(events), ['access_code.created', 'access_code.deleted']);
        assert.equal(events[1].code, '8080');
      });

      it('createMultiple puts one PIN on several bridge locks under one common_code_key', async () => {
        const one = await bridgeLock(server, `Multi A ${name}`);
        const two = await bridgeLock(server, `Multi B ${name}`);
        const codes = await seam.accessCodes.createMultiple({
          device_ids: [one, two],
          code: '8642',
          name: 'Team',
        });
        for (const c of codes) assertSeamShape('access_code', c);
        assert.deepEqual(codes.map((c) => c.device_id).sort(), [one, two].sort());
        assert.deepEqual(
          codes.map((c) => [c.code, c.name, c.status, c.is_offline_access_code]),
          [
            ['8642', 'Team', 'setting', false],
            ['8642', 'Team', 'setting', false],
          ],
        );
        const key = codes[0]?.common_code_key;
        assert.ok(key, 'a common_code_key');
        assert.equal(codes[1]?.common_code_key, key);
        await runJobs();
        for (const c of codes) assert.equal((await get(c.access_code_id)).status, 'set');
        await opens(server, one, '8642');
        await opens(server, two, '8642');

        // Without a code: one generated PIN for all of them.
        const generated = await seam.accessCodes.createMultiple({ device_ids: [one, two] });
        assert.equal(generated.length, 2);
        assert.match(generated[0]?.code ?? '', /^\d{6}$/);
        assert.equal(generated[1]?.code, generated[0]?.code);
        assert.equal(generated[1]?.common_code_key, generated[0]?.common_code_key);
        assert.notEqual(generated[0]?.common_code_key, key, 'a new key per request');

        // The answer follows the order of device_ids, whichever way round they come.
        for (const device_ids of [
          [one, two],
          [two, one],
        ]) {
          const ordered = await seam.accessCodes.createMultiple({ device_ids });
          assert.deepEqual(
            ordered.map((c) => c.device_id),
            device_ids,
          );
        }
      });

      it('createMultiple with a PIN taken on one lock: throw → 409 duplicate_access_code, create_random_code → another PIN there', async () => {
        const one = await bridgeLock(server, `Shared A ${name}`);
        const two = await bridgeLock(server, `Shared B ${name}`);
        await create({ device_id: one, code: '5555' });
        const before = [await storedState(server, one), await storedState(server, two)];
        for (const behavior_when_code_cannot_be_shared of [undefined, 'throw'] as const) {
          const error = await rejectsWith(
            seam.accessCodes.createMultiple({
              device_ids: [one, two],
              code: '5555',
              ...(behavior_when_code_cannot_be_shared ? { behavior_when_code_cannot_be_shared } : {}),
            }),
            'duplicate_access_code',
            409,
          );
          assert.equal((error.data as { device_id?: string } | undefined)?.device_id, one);
        }
        await rejectsWith(
          seam.accessCodes.createMultiple({ device_ids: [two, frontId], code: '7777' }),
          'online_access_codes_not_supported',
          400,
        );
        assert.deepEqual(
          [await storedState(server, one), await storedState(server, two)],
          before,
          'nothing stored',
        );

        const codes = await seam.accessCodes.createMultiple({
          device_ids: [one, two],
          code: '5555',
          behavior_when_code_cannot_be_shared: 'create_random_code',
        });
        for (const c of codes) assertSeamShape('access_code', c);
        const on = (device: string) => codes.find((c) => c.device_id === device) as SeamAccessCode;
        assert.equal(on(two).code, '5555');
        assert.match(on(one).code ?? '', /^\d{6}$/);
        assert.notEqual(on(one).code, '5555');
        assert.equal(on(one).common_code_key, on(two).common_code_key);
        assert.ok(on(one).common_code_key);
        assert.equal((await listCodes(server, one)).filter((c) => c.code === '5555').length, 1);
      });

      it('gives codes created with one common_code_key the same PIN', async () => {
        const one = await bridgeLock(server, `Key A ${name}`);
        const two = await bridgeLock(server, `Key B ${name}`);
        const common_code_key = `key-${randomUUID()}`;
        const first = await create({ device_id: one, common_code_key });
        const second = await create({ device_id: two, common_code_key });
        assert.match(first.code ?? '', /^\d{6}$/);
        assert.equal(second.code, first.code);
        assert.equal(second.common_code_key, common_code_key);
      });

      it('refuses a PIN already on the device with 409 duplicate_access_code, storing nothing', async () => {
        const lock = await bridgeLock(server, `Duplicate ${name}`);
        const first = await create({ device_id: lock, code: '3141' });
        const before = await storedState(server, lock);
        await rejectsWith(create({ device_id: lock, code: '3141' }), 'duplicate_access_code', 409);
        await rejectsWith(
          create({ device_id: lock, code: '3141', starts_at: iso(T0 + DAY), ends_at: iso(T0 + 2 * DAY) }),
          'duplicate_access_code',
          409,
        );
        await runJobs(); // the first one is now programmed: still a duplicate
        const programmed = await storedState(server, lock);
        await rejectsWith(create({ device_id: lock, code: '3141' }), 'duplicate_access_code', 409);
        assert.deepEqual(await storedState(server, lock), programmed);
        assert.deepEqual(programmed.codes.length, before.codes.length);
        assert.equal((await get(first.access_code_id)).status, 'set');
        // Another lock may use the same PIN.
        assert.equal((await create({ device_id: backId, code: '3141' })).code, '3141');
      });

      it('refuses online codes on Front Door (no bridge), malformed PINs and offline-only options with 400', async () => {
        const lock = await bridgeLock(server, `Refusals ${name}`);
        const before = [await storedState(server, frontId), await storedState(server, lock)];
        for (const params of [
          { code: '1234' },
          {},
          { starts_at: iso(T0 + HOUR), ends_at: iso(T0 + 2 * HOUR) },
        ]) {
          const error = await rejectsWith(
            create({ device_id: frontId, ...params }),
            'online_access_codes_not_supported',
            400,
          );
          assert.match(error.message, /bridge/);
        }
        for (const code of ['123', '1234567', '1234567890123', '12a4', 'abcd', '12 34']) {
          const error = await rejectsWith(create({ device_id: lock, code }), 'invalid_input', 400);
          assert.ok(sdk.isSeamHttpInvalidInputError(error), code);
        }
        const invalid: Params[] = [
          { device_id: lock, is_one_time_use: true, starts_at: iso(T0 + HOUR) },
          {
            device_id: lock,
            is_one_time_use: true,
            is_offline_access_code: false,
            starts_at: iso(T0 + HOUR),
          },
          { device_id: lock, code: '4321', max_time_rounding: '1d' },
          { device_id: lock, code: '4321', starts_at: iso(T0 + HOUR) },
          { device_id: lock, code: '4321', ends_at: iso(T0 + HOUR) },
          { device_id: lock, code: '4321', starts_at: iso(T0 - 3 * HOUR), ends_at: iso(T0 - HOUR) },
          { device_id: lock, code: '4321', starts_at: iso(T0 + 2 * HOUR), ends_at: iso(T0 + HOUR) },
        ];
        for (const params of invalid) await rejectsWith(create(params), 'invalid_input', 400);
        await rejectsWith(create({ device_id: randomUUID(), code: '4321' }), 'device_not_found', 404);
        assert.deepEqual([await storedState(server, frontId), await storedState(server, lock)], before);
      });
    });
  }
}
