import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { testDialects } from '../helpers/databases.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';

// The wire rules of contract §3, spoken as raw HTTP (as the seed's cURL examples do).

for (const dialect of testDialects()) {
  describe(`wire format (${dialect.name})`, () => {
    let server: TestServer;
    let frontId: string;
    let backId: string;
    before(async () => {
      server = await startTestServer(dialect);
      frontId = server.sandbox.devices[0]?.device_id ?? '';
      backId = server.sandbox.devices[1]?.device_id ?? '';
    });
    after(() => server.close());

    it('accepts GET with a JSON body, as the seed’s cURL examples send it', async () => {
      const r = await call(server, '/devices/get', { method: 'GET', body: { device_id: frontId } });
      assert.equal(r.status, 200);
      assert.equal(r.json.ok, true);
      assert.equal(r.json.device.device_id, frontId);
      assert.equal(r.json.device.can_program_offline_access_codes, true);
    });

    it('accepts GET with a query string: repeated keys are arrays, _strict is ignored, booleans and numbers coerced', async () => {
      const both = await call(
        server,
        `/devices/list?device_ids=${frontId}&device_ids=${backId}&_strict=true`,
        {
          method: 'GET',
        },
      );
      assert.equal(both.status, 200);
      assert.equal(both.json.devices.length, 2);
      const one = await call(server, `/devices/list?device_ids=${backId}&limit=1&_strict=true`, {
        method: 'GET',
      });
      assert.deepEqual(
        one.json.devices.map((d: { device_id: string }) => d.device_id),
        [backId],
      );
      const none = await call(server, '/devices/list?device_ids=&_strict=true', { method: 'GET' });
      assert.equal(none.json.devices.length, 0, 'an empty value is the empty array');
      const flags = await call(server, '/devices/list?include_if=can_program_online_access_codes', {
        method: 'GET',
      });
      assert.equal(flags.json.devices.length, 1);
    });

    it('accepts POST with a JSON body and POST with an empty form body (SDK 1.x)', async () => {
      const json = await call(server, '/devices/list', { body: { limit: 1 } });
      assert.equal(json.status, 200);
      assert.equal(json.json.devices.length, 1);
      assert.equal(json.json.pagination.has_next_page, true);
      const form = await call(server, '/devices/list', {
        rawBody: '',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(form.status, 200);
      assert.equal(form.json.devices.length, 2);
    });

    it('follows next_page_url and next_page_cursor to the same next page', async () => {
      const first = await call(server, '/devices/list?limit=1', { method: 'GET' });
      const { next_page_cursor, next_page_url } = first.json.pagination;
      assert.ok(next_page_cursor);
      const byCursor = await call(server, '/devices/list', {
        body: { limit: 1, page_cursor: next_page_cursor },
      });
      const byUrl = await call(
        server,
        `${new URL(next_page_url).pathname}${new URL(next_page_url).search}&limit=1`,
        {
          method: 'GET',
        },
      );
      assert.equal(byCursor.json.devices[0].device_id, backId);
      assert.equal(byUrl.json.devices[0].device_id, backId);
      assert.equal(byCursor.json.pagination.has_next_page, false);
      assert.equal(byCursor.json.pagination.next_page_url, null);
      const bad = await call(server, '/devices/list', { body: { page_cursor: 'not-a-cursor' } });
      assert.equal(bad.status, 400);
      assert.equal(bad.json.error.type, 'invalid_input');
    });

    it('puts seam-request-id on every response, success or error', async () => {
      for (const r of [
        await call(server, '/workspaces/get'),
        await call(server, '/workspaces/get', { key: null }),
        await call(server, '/devices/get', { body: { device_id: randomUUID() } }),
        await call(server, '/no/such/route'),
        await call(server, '/health', { method: 'GET', key: null }),
      ]) {
        assert.match(r.headers.get('seam-request-id') ?? '', /^[0-9a-f-]{36}$/);
      }
    });

    it('answers 401 unauthorized without a key, with a malformed header, or with an unknown key', async () => {
      const attempts: Record<string, string>[] = [
        {},
        { authorization: 'Basic abc' },
        { authorization: 'Bearer seam_nope_0000000000000000' },
      ];
      for (const headers of attempts) {
        const r = await call(server, '/devices/list', { key: null, headers });
        assert.equal(r.status, 401);
        assert.equal(r.json.ok, false);
        assert.equal(r.json.error.type, 'unauthorized');
        assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
      }
    });

    it('answers malformed input with 400 invalid_input, zod-format validation_errors, and a message per field', async () => {
      const r = await call(server, '/devices/list', { body: { limit: 'many', device_ids: 'x' } });
      assert.equal(r.status, 400);
      assert.equal(r.json.error.type, 'invalid_input');
      assert.match(r.json.error.message, /^2 Input Errors: /);
      assert.deepEqual(r.json.error.validation_errors._errors, []);
      assert.ok(r.json.error.validation_errors.limit._errors.length > 0);
      assert.ok(r.json.error.validation_errors.device_ids._errors.length > 0);
      const unknown = await call(server, '/devices/list', { body: { colour: 'red' } });
      assert.equal(unknown.status, 400);
      assert.match(unknown.json.error.message, /colour/);
      const neither = await call(server, '/devices/get', { body: {} });
      assert.equal(neither.status, 400);
      assert.equal(neither.json.error.type, 'invalid_input');
      const notObject = await call(server, '/devices/list', { body: [1, 2] });
      assert.equal(notObject.status, 400);
      assert.equal(notObject.json.error.type, 'invalid_input');
    });

    it('answers broken bodies in the error envelope: bad JSON 400, wrong type 415, too large 413', async () => {
      const badJson = await call(server, '/devices/list', {
        rawBody: '{"limit":',
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(badJson.status, 400);
      assert.equal(badJson.json.error.type, 'invalid_input');
      const xml = await call(server, '/devices/list', {
        rawBody: '<limit>1</limit>',
        headers: { 'content-type': 'application/xml' },
      });
      assert.equal(xml.status, 415);
      assert.equal(xml.json.error.type, 'unsupported_media_type');
      const huge = await call(server, '/devices/list', { body: { search: 'x'.repeat(2 * 1024 * 1024) } });
      assert.equal(huge.status, 413);
      assert.equal(huge.json.error.type, 'payload_too_large');
    });

    it('answers unknown routes 404 and known routes with a wrong method 405, in the envelope', async () => {
      const missing = await call(server, '/access_codes/teleport');
      assert.equal(missing.status, 404);
      assert.equal(missing.json.error.type, 'route_not_found');
      const wrongMethod = await call(server, '/devices/list', { method: 'PUT', body: {} });
      assert.equal(wrongMethod.status, 405);
      assert.equal(wrongMethod.json.error.type, 'method_not_allowed');
    });

    it('answers another workspace’s ids with the same 404 body as unknown ids', async () => {
      const other = await server.createOtherWorkspace();
      const theirs = other.devices[0]?.device_id ?? '';
      const unknownId = randomUUID();
      const a = await call(server, '/devices/get', { body: { device_id: theirs } });
      const b = await call(server, '/devices/get', { body: { device_id: unknownId } });
      assert.equal(a.status, 404);
      assert.equal(b.status, 404);
      assert.equal(a.json.error.type, 'device_not_found');
      assert.equal(a.json.error.message, b.json.error.message);
      assert.ok(!a.text.includes(other.workspace.workspace_id));
      const locks = await call(server, '/locks/get', { body: { device_id: theirs } });
      assert.equal(locks.status, 404);
      const listed = await call(server, '/action_attempts/list');
      assert.equal(listed.status, 200);
    });

    it('refuses sandbox routes outside sandbox workspaces', async () => {
      const production = await server.createOtherWorkspace(false);
      const r = await call({ url: server.url, apiKey: production.api_key }, '/devices/simulate/create', {
        body: { name: 'Real door' },
      });
      assert.equal(r.status, 400);
      assert.equal(r.json.error.type, 'workspace_not_sandbox');
      const devices = await call({ url: server.url, apiKey: production.api_key }, '/devices/list');
      assert.equal(devices.json.devices.length, 0, 'nothing was created');
    });

    it('adds virtual locks in sandbox workspaces, validating the time zone', async () => {
      const created = await call(server, '/devices/simulate/create', {
        body: { name: 'Shed', has_bridge: true, time_zone: 'Asia/Kolkata' },
      });
      assert.equal(created.status, 200);
      assert.equal(created.json.device.location.time_zone, 'Asia/Kolkata');
      assert.equal(created.json.device.can_program_online_access_codes, true);
      const before = (await call(server, '/devices/list')).json.devices.length;
      const badZone = await call(server, '/devices/simulate/create', {
        body: { name: 'Shed 2', time_zone: 'Mars/Olympus' },
      });
      assert.equal(badZone.status, 400);
      assert.ok(badZone.json.error.validation_errors.time_zone);
      assert.equal(
        (await call(server, '/devices/list')).json.devices.length,
        before,
        'nothing stored on error',
      );
    });

    it('serves /health without auth, the OpenAPI document and the docs UI', async () => {
      const health = await call(server, '/health', { method: 'GET', key: null });
      assert.equal(health.status, 200);
      assert.deepEqual(health.json, { ok: true });
      const doc = await call(server, '/openapi.json', { method: 'GET', key: null });
      assert.equal(doc.status, 200);
      assert.equal(doc.json.openapi, '3.0.3');
      for (const path of [
        '/devices/list',
        '/devices/get',
        '/locks/get',
        '/workspaces/get',
        '/action_attempts/get',
      ]) {
        assert.ok(doc.json.paths[path], `OpenAPI lists ${path}`);
      }
      const listParams = doc.json.paths['/devices/list'].get.parameters.map((p: { name: string }) => p.name);
      assert.ok(listParams.includes('include_if'));
      assert.ok(doc.json.paths['/devices/list'].post.requestBody);
      // `/` is the web dashboard (test/web/dashboard.test.ts drives it in a browser).
      const root = await fetch(`${server.url}/`, { redirect: 'manual' });
      assert.equal(root.status, 200);
      assert.match(root.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(root.headers.get('content-security-policy') ?? '', /default-src 'self'/);
      const ui = await fetch(`${server.url}/docs/`);
      assert.equal(ui.status, 200);
      assert.match(await ui.text(), /swagger/i);
    });
  });
}
