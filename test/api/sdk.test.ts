import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as sdkV1 from 'seam-http-v1';
import * as sdkV2 from 'seam-http-v2';
import { insertActionAttempt } from '../../src/store/repos/action-attempts.ts';
import { testDialects } from '../helpers/databases.ts';
import { assertSeamShape } from '../helpers/seam-schemas.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';

// Black-box: the official SDKs, unchanged but for `endpoint`. v1 (1.102.0) sends every read as POST + JSON;
// v2 (2.32.0) sends GET/DELETE with query strings and PATCH for updates.
const sdks = [
  { name: 'seam-http-v1 1.102.0', sdk: sdkV1 as unknown as typeof sdkV2 },
  { name: 'seam-http-v2 2.32.0', sdk: sdkV2 },
];

for (const dialect of testDialects()) {
  for (const { name, sdk } of sdks) {
    describe(`official SDK ${name} against Latchkey on ${dialect.name}`, () => {
      let server: TestServer;
      let seam: sdkV2.SeamHttp;
      const client = (apiKey: string) =>
        sdk.SeamHttp.fromApiKey(apiKey, { endpoint: server.url, waitForActionAttempt: false });

      before(async () => {
        server = await startTestServer(dialect);
        seam = client(server.apiKey);
      });
      after(() => server.close());

      it('lists the two seeded locks and gets each by id and by name', async () => {
        const devices = await seam.devices.list();
        assert.deepEqual(
          devices.map((d) => d.display_name),
          ['Front Door', 'Back Door'],
        );
        for (const device of devices) {
          assertSeamShape('device', device);
          const byId = await seam.devices.get({ device_id: device.device_id });
          assert.deepEqual(byId, device);
          const byName = await seam.devices.get({ name: device.display_name });
          assert.equal(byName.device_id, device.device_id);
        }
        const [front, back] = devices;
        assert.equal(front?.can_program_offline_access_codes, true);
        assert.equal(front?.can_program_online_access_codes, false);
        assert.equal(back?.can_program_online_access_codes, true);
        assert.equal(front?.properties.max_active_codes_supported, 199);
        assert.equal(front?.properties.manufacturer, 'igloohome');
      });

      it('gets and lists locks (the SDK reads the `device` key of /locks/get)', async () => {
        const locks = await seam.locks.list();
        assert.equal(locks.length, 2);
        const lock = await seam.locks.get({ device_id: locks[0]?.device_id ?? '' });
        assert.equal(lock.device_id, locks[0]?.device_id);
      });

      it('filters devices by capability, type, manufacturer, ids and search', async () => {
        const online = await seam.devices.list({
          include_if: ['can_program_online_access_codes'],
        } as sdkV2.DevicesListParameters);
        assert.deepEqual(
          online.map((d) => d.display_name),
          ['Back Door'],
        );
        const offlineOnly = await seam.devices.list({
          exclude_if: ['can_program_online_access_codes'],
        } as sdkV2.DevicesListParameters);
        assert.deepEqual(
          offlineOnly.map((d) => d.display_name),
          ['Front Door'],
        );
        assert.equal((await seam.devices.list({ device_type: 'igloohome_lock' })).length, 2);
        assert.equal((await seam.devices.list({ device_types: ['august_lock'] })).length, 0);
        assert.equal((await seam.devices.list({ manufacturer: 'igloohome' })).length, 2);
        assert.equal((await seam.devices.list({ manufacturer: 'august' })).length, 0);
        const back = online[0];
        assert.ok(back);
        assert.deepEqual(
          (await seam.devices.list({ device_ids: [back.device_id] })).map((d) => d.device_id),
          [back.device_id],
        );
        assert.deepEqual(
          (await seam.devices.list({ search: 'front' })).map((d) => d.display_name),
          ['Front Door'],
        );
        const account = (await seam.connectedAccounts.list())[0];
        assert.ok(account);
        assert.equal(
          (await seam.devices.list({ connected_account_id: account.connected_account_id })).length,
          2,
        );
      });

      it('paginates devices with the SDK paginator', async () => {
        const other = await server.createOtherWorkspace();
        const paged = client(other.api_key);
        // /devices/simulate/create is our extension (the SDK has no method for it): raw HTTP.
        for (let i = 0; i < 5; i++) {
          await call({ url: server.url, apiKey: other.api_key }, '/devices/simulate/create', {
            body: { name: `Unit ${i}` },
          });
        }
        const all = await paged.devices.list();
        const pages: string[][] = [];
        for await (const page of paged.createPaginator(paged.devices.list({ limit: 3 }))) {
          pages.push(page.map((d) => d.device_id));
        }
        assert.ok(pages.length >= 3, `expected several pages, got ${pages.length}`);
        assert.ok(pages.every((p) => p.length <= 3));
        assert.deepEqual(
          pages.flat(),
          all.map((d) => d.device_id),
        );
      });

      it('returns the workspace and connected accounts', async () => {
        const workspace = await seam.workspaces.get();
        assert.equal(workspace.is_sandbox, true);
        assert.equal(workspace.workspace_id, server.sandbox.workspace.workspace_id);
        const accounts = await seam.connectedAccounts.list();
        assert.equal(accounts.length, 1);
        const account = await seam.connectedAccounts.get({
          connected_account_id: accounts[0]?.connected_account_id ?? '',
        });
        assert.equal(account.account_type, 'igloohome');
      });

      it('gets and lists action attempts', async () => {
        const id = randomUUID();
        await insertActionAttempt(server.store.db, {
          action_attempt_id: id,
          workspace_id: server.sandbox.workspace.workspace_id,
          device_id: null,
          action_type: 'CREATE_ACCESS_CODE',
          status: 'success',
          result: { note: 'done' },
          error: null,
          created_at: server.clock.now,
          updated_at: server.clock.now,
        });
        const attempt = await seam.actionAttempts.get(
          { action_attempt_id: id },
          { waitForActionAttempt: false },
        );
        assert.equal(attempt.status, 'success');
        assert.equal(attempt.action_type, 'CREATE_ACCESS_CODE');
        assertSeamShape('action_attempt', attempt);
        const listed = await seam.actionAttempts.list({ action_attempt_ids: [id] });
        assert.deepEqual(
          listed.map((a) => a.action_attempt_id),
          [id],
        );
      });

      it('throws SeamHttpUnauthorizedError for an unknown key', async () => {
        const stranger = client('seam_unknown_key_00000000000000');
        await assert.rejects(stranger.devices.list(), (error: unknown) => {
          assert.ok(sdk.isSeamHttpUnauthorizedError(error), String(error));
          assert.equal(error.statusCode, 401);
          return true;
        });
      });

      it('throws SeamHttpInvalidInputError with per-field messages', async () => {
        await assert.rejects(seam.devices.get({ device_id: 'not-a-uuid' }), (error: unknown) => {
          assert.ok(sdk.isSeamHttpInvalidInputError(error), String(error));
          assert.equal(error.code, 'invalid_input');
          assert.ok(error.getValidationErrorMessages('device_id').length > 0);
          return true;
        });
        await assert.rejects(seam.devices.list({ limit: -1 }), (error: unknown) => {
          assert.ok(sdk.isSeamHttpInvalidInputError(error));
          assert.ok(error.getValidationErrorMessages('limit').length > 0);
          return true;
        });
      });

      it('throws SeamHttpApiError with code and request id for an unknown device', async () => {
        await assert.rejects(seam.devices.get({ device_id: randomUUID() }), (error: unknown) => {
          assert.ok(sdk.isSeamHttpApiError(error), String(error));
          assert.equal(error.code, 'device_not_found');
          assert.equal(error.statusCode, 404);
          assert.match(error.requestId, /^[0-9a-f-]{36}$/);
          return true;
        });
      });

      it('answers another workspace’s ids exactly as unknown ids (404, no data leaked)', async () => {
        const other = await server.createOtherWorkspace();
        const theirDevice = other.devices[0];
        assert.ok(theirDevice);
        const unknown = await seam.devices.get({ device_id: randomUUID() }).catch((e: unknown) => e);
        const foreign = await seam.devices.get({ device_id: theirDevice.device_id }).catch((e: unknown) => e);
        for (const error of [unknown, foreign]) {
          assert.ok(sdk.isSeamHttpApiError(error));
          assert.equal(error.code, 'device_not_found');
          assert.equal(error.statusCode, 404);
        }
        const foreignAccount = await seam.connectedAccounts
          .get({ connected_account_id: other.connected_account?.connected_account_id ?? '' })
          .catch((e: unknown) => e);
        assert.ok(sdk.isSeamHttpApiError(foreignAccount));
        assert.equal(foreignAccount.code, 'connected_account_not_found');
        const mine = await seam.devices.list({ device_ids: [theirDevice.device_id] });
        assert.equal(mine.length, 0);
        assert.ok(
          (await seam.devices.list()).every((d) => d.workspace_id === server.sandbox.workspace.workspace_id),
        );
      });
    });
  }
}
