import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testDialects } from '../helpers/databases.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';

for (const dialect of testDialects()) {
  describe(`online code updates that cannot apply are refused and change nothing (${dialect.name})`, () => {
    let server: TestServer;
    let back: string;
    before(async () => {
      server = await startTestServer(dialect);
      back = server.sandbox.devices[1]?.device_id ?? '';
    });
    after(() => server.close());

    it('refuses type time_bound on an ongoing code without starts_at and ends_at', async () => {
      const created = await call(server, '/access_codes/create', { body: { device_id: back, code: '2468' } });
      const id = created.json.access_code.access_code_id;
      const r = await call(server, '/access_codes/update', {
        body: { access_code_id: id, type: 'time_bound' },
      });
      assert.equal(r.status, 400);
      assert.equal(r.json.error.type, 'invalid_input');
      const after = await call(server, '/access_codes/get', { body: { access_code_id: id } });
      assert.equal(after.json.access_code.type, 'ongoing');
    });

    it('refuses changes to a code that is being deleted', async () => {
      const created = await call(server, '/access_codes/create', { body: { device_id: back, code: '1357' } });
      const id = created.json.access_code.access_code_id;
      await server.jobs.runDue(); // programmed on the lock
      assert.equal(
        (await call(server, '/access_codes/delete', { body: { access_code_id: id } })).status,
        200,
      );
      const r = await call(server, '/access_codes/update', { body: { access_code_id: id, name: 'renamed' } });
      assert.equal(r.status, 400);
      assert.equal(r.json.error.type, 'invalid_input');
      const still = await call(server, '/access_codes/get', { body: { access_code_id: id } });
      assert.equal(still.json.access_code.status, 'removing');
      assert.equal(still.json.access_code.name, null);
    });
  });
}
