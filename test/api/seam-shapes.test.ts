import { after, before, describe, it } from 'node:test';
import { testDialects } from '../helpers/databases.ts';
import { assertSeamShape } from '../helpers/seam-schemas.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';

for (const dialect of testDialects()) {
  describe(`every returned object validates against @seamapi/types (${dialect.name})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dialect);
    });
    after(() => server.close());

    it('devices, locks and a device with a bridge offline', async () => {
      const list = await call(server, '/devices/list');
      for (const d of list.json.devices) assertSeamShape('device', d);
      assertSeamShape('pagination', list.json.pagination);
      const locks = await call(server, '/locks/list');
      for (const d of locks.json.locks) assertSeamShape('device', d);
      const tz = await call(server, '/devices/simulate/create', {
        body: { name: 'Garage', has_bridge: true, time_zone: 'Europe/Paris' },
      });
      assertSeamShape('device', tz.json.device);
    });

    it('workspace and connected accounts', async () => {
      assertSeamShape('workspace', (await call(server, '/workspaces/get')).json.workspace);
      const accounts = await call(server, '/connected_accounts/list');
      for (const a of accounts.json.connected_accounts) assertSeamShape('connected_account', a);
    });
  });
}

describe('the shape check itself', () => {
  it('rejects an object the typed SDKs could not deserialize', async () => {
    const { throws } = await import('node:assert/strict');
    throws(() => assertSeamShape('workspace', { workspace_id: 'x', name: 1 }), /does not match/);
    throws(() =>
      assertSeamShape('action_attempt', {
        action_attempt_id: '00000000-0000-4000-8000-000000000000',
        action_type: 'CREATE_ACCESS_CODE',
        status: 'success',
        result: null,
        error: null,
      }),
    );
  });
});
