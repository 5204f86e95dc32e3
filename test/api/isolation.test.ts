import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { routes } from '../../src/api/routes/index.ts';
import { testDialects } from '../helpers/databases.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';

// Tenant isolation, generated from the route list: every route that takes an id is called with another
// workspace's real id and must answer exactly as for an id that does not exist (404, same type and message),
// leaking nothing of the other workspace. A new route with an id parameter is covered without a new test.

type Json = Record<string, unknown>;

/** A value that passes validation for the non-id parameters a route requires. */
const FILLERS: Record<string, unknown> = {
  name: 'Isolation probe',
  since: '2000-01-01T00:00:00Z',
  code: '1234',
  drift: 'PT1M',
  by: 'PT1H',
  event_types: ['*'],
  url: 'http://127.0.0.1:9/hook',
  device_ids: [],
};

/** The id parameters this test knows how to fill with another workspace's real resource. */
const FIELD_OWNERS: Record<string, true> = {
  device_id: true,
  access_code_id: true,
  action_attempt_id: true,
  connected_account_id: true,
  event_id: true,
  webhook_id: true,
};

for (const dialect of testDialects()) {
  describe(`another workspace’s ids answer like unknown ids on every route (${dialect.name})`, () => {
    let server: TestServer;
    const theirs: Record<string, string> = {};
    const theirIds = new Set<string>();

    before(async () => {
      server = await startTestServer(dialect);
      const other = await server.createOtherWorkspace();
      const them = { url: server.url, apiKey: other.api_key };
      const device = other.devices[0];
      assert.ok(device && other.connected_account);
      theirs.device_id = device.device_id;
      theirs.connected_account_id = other.connected_account.connected_account_id;
      const created = await call(them, '/access_codes/create', {
        body: { device_id: device.device_id, is_offline_access_code: true },
      });
      assert.equal(created.status, 200, created.text);
      theirs.access_code_id = created.json.access_code.access_code_id;
      theirs.action_attempt_id = created.json.action_attempt.action_attempt_id;
      const events = await call(them, '/events/list', { body: { since: '2000-01-01T00:00:00Z' } });
      theirs.event_id = events.json.events[0].event_id;
      const hook = await call(them, '/webhooks/create', { body: { url: 'http://127.0.0.1:9/hook' } });
      assert.equal(hook.status, 200, hook.text);
      theirs.webhook_id = hook.json.webhook.webhook_id;
      for (const v of Object.values(theirs)) theirIds.add(v);
    });
    after(() => server.close());

    const idRoutes = routes.filter((r) => {
      const schema = z.toJSONSchema(r.input, { io: 'input' }) as { properties?: Json };
      return Object.keys(schema.properties ?? {}).some((k) => k.endsWith('_id'));
    });

    it('covers every route that takes an id', () => {
      assert.ok(idRoutes.length >= 15, `only ${idRoutes.length} routes take an id`);
    });

    for (const route of idRoutes) {
      const schema = z.toJSONSchema(route.input, { io: 'input' }) as {
        properties?: Json;
        required?: string[];
      };
      const idFields = Object.keys(schema.properties ?? {}).filter(
        (k) => k.endsWith('_id') && k in FIELD_OWNERS,
      );
      for (const field of idFields) {
        it(`${route.path} with their ${field}`, async () => {
          const body = (value: string): Json => {
            const out: Json = {};
            for (const name of Object.keys(schema.properties ?? {})) {
              if (name in FILLERS) out[name] = FILLERS[name];
            }
            for (const name of schema.required ?? []) if (name.endsWith('_id')) out[name] = randomUUID();
            // Ids other than the one under test point at nothing, so only `field` can decide the answer.
            for (const name of Object.keys(out))
              if (name.endsWith('_id') && name !== field) out[name] = randomUUID();
            out[field] = value;
            return out;
          };
          const theirId = theirs[field];
          assert.ok(theirId, `no id of theirs for ${field}`);
          const method = route.methods[0] ?? 'POST';
          const foreign = await call(server, route.path, { method, body: body(theirId) });
          const unknown = await call(server, route.path, { method, body: body(randomUUID()) });
          // Exactly the answer an unknown id gets: the 404 of a lookup, or (a list filter) an empty result.
          assert.equal(foreign.status, unknown.status, `${route.path}: ${foreign.text} vs ${unknown.text}`);
          if (foreign.status === 200) {
            assert.deepEqual(foreign.json, unknown.json);
          } else {
            assert.equal(foreign.status, 404, `${route.path}: ${foreign.text}`);
            assert.equal(foreign.json.error.type, unknown.json.error.type);
            assert.equal(foreign.json.error.message, unknown.json.error.message);
          }
          for (const id of theirIds) {
            if (id !== theirId) assert.ok(!foreign.text.includes(id), `${route.path} leaked ${id}`);
          }
        });
      }
    }

    it('lists never show another workspace’s rows', async () => {
      const lists: [string, Json, string][] = [
        ['/devices/list', {}, 'devices'],
        ['/locks/list', {}, 'locks'],
        ['/connected_accounts/list', {}, 'connected_accounts'],
        ['/action_attempts/list', {}, 'action_attempts'],
        ['/events/list', { since: '2000-01-01T00:00:00Z' }, 'events'],
        ['/webhooks/list', {}, 'webhooks'],
        ['/access_codes/list', { access_code_ids: [theirs.access_code_id] }, 'access_codes'],
        ['/devices/list', { device_ids: [theirs.device_id] }, 'devices'],
      ];
      for (const [path, body, key] of lists) {
        const r = await call(server, path, { body });
        assert.equal(r.status, 200, `${path}: ${r.text}`);
        for (const id of theirIds)
          assert.ok(!JSON.stringify(r.json[key]).includes(id), `${path} shows ${id}`);
      }
    });
  });
}
